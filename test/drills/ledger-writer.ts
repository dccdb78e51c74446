/**
 * Child process of the kill -9 drill: a real super node on `--storage` (with its embedded
 * local DHT, as `shadw start` runs) that appends numbered records to its `ledger` log as fast as it can and tells the
 * parent each index once `append` has resolved (acknowledged). With `--serve` it only serves
 * the log. The parent kills it with SIGKILL at a moment of its choosing.
 */
import b4a from 'b4a'
import { fileURLToPath } from 'node:url'
import { SuperNode } from '../../src/super-node/super-node.ts'

/** Records per append: small, so a kill lands between and inside appends. */
const BATCH = 4

/** The record at `index`: what the parent expects to read back. */
export function record (index: number): Uint8Array {
  return b4a.from(JSON.stringify({ receipt: index, body: 'r'.repeat(200 + (index % 64)) }))
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string): string => process.argv[process.argv.indexOf(`--${name}`) + 1] as string
  const node = await SuperNode.start({
    storage: arg('storage'),
    appRoot: fileURLToPath(new URL('../../dist', import.meta.url)),
    port: 0,
    workers: 0
  })
  const log = await node.node.createLog('ledger')
  process.send?.({ type: 'ready', key: log.key, length: log.length, publicKey: node.info.publicKey, bootstrap: node.info.bootstrap })
  if (!process.argv.includes('--serve')) {
    let next = log.length
    for (;;) {
      const blocks = Array.from({ length: BATCH }, (_, i) => record(next + i))
      const length = await node.node.append(log.key, blocks)
      next = length
      process.send?.({ type: 'acked', length })
    }
  }
}

/**
 * Drill: a super node is killed with SIGKILL while appending to its ledger log, three times,
 * at different moments, and restarted on the same storage each time. Checks: it restarts;
 * no acknowledged record is lost (length after restart >= last acknowledged length); then a
 * fresh node on the testnet replicates the whole log from it (every block Merkle-verified
 * against the writer's signed tree) and every record reads back as written.
 *
 *   node --import tsx test/drills/kill9-ledger.ts
 */
import { fork, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import b4a from 'b4a'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { ShadwNode } from '../../src/core/node/shadw-node.ts'
import { parseBootstrap } from '../../src/super-node/super-node.ts'
import { Drill, within } from './drill.ts'
import { record } from './ledger-writer.ts'

/** Kill after this many ms of appending, one per round: early, mid-stream, later. */
const KILL_AFTER_MS = [300, 1_100, 2_000]
/** Bound on a super node start (DHT bootstrap, storage). */
const START_MS = 30_000
/** Bound on the reader replicating the whole log. */
const REPLICATE_MS = 60_000

type WriterMessage = { type: 'ready', key: string, length: number, publicKey: string, bootstrap: string[] } | { type: 'acked', length: number }

const drill = new Drill('super node kill -9 during ledger appends')
const storage = await mkdtemp(join(tmpdir(), 'shadw-drill-ledger-'))
const WRITER = fileURLToPath(new URL('./ledger-writer.ts', import.meta.url))

function startWriter (serve: boolean): { child: ChildProcess, ready: Promise<WriterMessage & { type: 'ready' }>, acked: () => number } {
  const child = fork(WRITER, ['--storage', storage, ...(serve ? ['--serve'] : [])], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  let acked = 0
  const ready = new Promise<WriterMessage & { type: 'ready' }>((resolve, reject) => {
    child.on('message', (m: WriterMessage) => {
      if (m.type === 'ready') resolve(m)
      else acked = Math.max(acked, m.length)
    })
    child.on('exit', code => { reject(new Error(`writer exited with ${code} before it was ready`)) })
  })
  return { child, ready: within(ready, START_MS, 'writer start'), acked: () => acked }
}

async function killed (child: ChildProcess): Promise<void> {
  const exit = new Promise<void>(resolve => { child.once('exit', () => { resolve() }) })
  child.kill('SIGKILL')
  await exit
}

let key = ''
let lastAcked = 0
let code = 1
try {
  for (const [round, ms] of KILL_AFTER_MS.entries()) {
    const w = startWriter(false)
    const ready = await w.ready
    key = ready.key
    drill.check(`round ${round + 1}: the super node restarts on the storage of the killed one`, true, `ledger length ${ready.length}`)
    if (round > 0) drill.check(`round ${round + 1}: no acknowledged record lost`, ready.length >= lastAcked, `acknowledged ${lastAcked}, found ${ready.length}`)
    await new Promise(resolve => setTimeout(resolve, ms))
    await killed(w.child)
    lastAcked = Math.max(lastAcked, w.acked())
    drill.step(`round ${round + 1}: SIGKILL after ${ms} ms of appends; ${w.acked()} records acknowledged`)
  }

  const w = startWriter(true)
  const ready = await w.ready
  drill.check('final restart: no acknowledged record lost', ready.length >= lastAcked, `acknowledged ${lastAcked}, found ${ready.length}`)
  drill.check('the ledger key survived every restart', ready.key === key)

  const dht = new HyperDHT({ bootstrap: parseBootstrap(ready.bootstrap), host: '127.0.0.1' })
  const reader = new ShadwNode({ swarm: new Hyperswarm({ dht }), store: new Corestore(RAM.reusable()), tier: 'storm' })
  try {
    await reader.start()
    await reader.follow(key)
    const length = await within(reader.waitForLength(key, ready.length, REPLICATE_MS), REPLICATE_MS, 'reader sees the length')
    const result = await within(reader.download(key, { start: 0, end: length }, { timeout: REPLICATE_MS }), REPLICATE_MS, 'download')
    drill.check('a fresh node replicates the whole log (every block verified by Hypercore)', result.blocks === length && result.fetched === length, `${result.fetched} of ${length} blocks fetched in ${Math.round(result.ms)} ms`)
    let mismatches = 0
    for (let i = 0; i < length; i++) {
      const block = await reader.get(key, i, { timeout: 10_000 })
      if (block === null || !b4a.equals(block, record(i))) mismatches++
    }
    drill.check('every record reads back exactly as written', mismatches === 0, `${length - mismatches}/${length} match`)
  } finally {
    await reader.stop()
    await dht.destroy()
    await killed(w.child)
  }
  code = drill.finish()
} catch (err) {
  drill.check('drill ran to the end', false, (err as Error).message)
  code = drill.finish()
} finally {
  await rm(storage, { recursive: true, force: true })
}
process.exit(code)

import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Testnet } from 'hyperdht/testnet'
import { describe, expect, it } from 'vitest'
import { parseBootstrap } from '../../../src/super-node/super-node.ts'
import { wat } from '../../fixtures/wasm/fixtures.ts'
import { startSuperNode } from '../../helpers/super-node.ts'
import { publisher } from '../../helpers/invoke.ts'

const BIN = fileURLToPath(new URL('../../../bin/shadw.js', import.meta.url))

function shadw (...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, [BIN, ...args], { timeout: 90_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

describe('shadw invoke with redundancy on a swarm of super nodes', () => {
  it('gets the same three receipts from the CLI as the /fn gateway of the super node it names', { timeout: 180_000 }, async () => {
    const first = await startSuperNode({ workers: 1 })
    const others = [await startSuperNode({ workers: 1, bootstrap: first.info.bootstrap }), await startSuperNode({ workers: 1, bootstrap: first.info.bootstrap })]
    const pub = await publisher({ bootstrap: parseBootstrap(first.info.bootstrap) } as unknown as Testnet)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })

    const res = await fetch(new URL(`/fn/${ref}`, first.info.appUrl), { method: 'POST', body: 'three of three', headers: { 'shadw-redundancy': '3', 'shadw-deadline': '60000' } })
    expect(await res.text()).toBe('three of three')
    expect(res.status).toBe(200)
    const viaFn = JSON.parse(res.headers.get('shadw-receipts') as string) as Array<{ executor: string }>
    expect(new Set(viaFn.map(r => r.executor))).toEqual(new Set([first, ...others].map(n => n.info.publicKey)))

    const cli = await shadw('invoke', ref, '--redundancy', '3', '--node', first.info.appUrl, '--deadline', '60000', '--json')
    expect(cli.stderr).toBe('')
    expect(cli.code).toBe(0)
    const doc = JSON.parse(cli.stdout) as { output: string, receipts: Array<{ executor: string }> }
    expect(doc.output).toBe('')
    expect(new Set(doc.receipts.map(r => r.executor))).toEqual(new Set([first, ...others].map(n => n.info.publicKey)))
  })
})

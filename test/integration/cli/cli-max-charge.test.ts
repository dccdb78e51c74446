import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Testnet } from 'hyperdht/testnet'
import { describe, expect, it } from 'vitest'
import { decodeReceipt } from '../../../src/core/ledger/index.ts'
import { parseBootstrap } from '../../../src/super-node/super-node.ts'
import { charge, DEFAULT_PRICING, quote } from '../../../src/core/pricing/index.ts'
import { wat } from '../../fixtures/wasm/fixtures.ts'
import { startSuperNode } from '../../helpers/super-node.ts'
import { publisher } from '../../helpers/invoke.ts'

const BIN = fileURLToPath(new URL('../../../bin/shadw.js', import.meta.url))

function shadw (...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    execFile(process.execPath, [BIN, ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : 1, stdout, stderr })
    })
  })
}

describe('shadw invoke --max-charge', () => {
  it('a cap below the worst case is refused by the priced super node before any work; a generous one runs and its receipt in the ledger carries the price and total', async () => {
    const superNode = await startSuperNode({ workers: 1 })
    const pub = await publisher({ bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const bootstrap = superNode.info.bootstrap.join(',')
    const service = superNode.executor?.service

    const cheap = await shadw('invoke', ref, '--max-charge', '1', '--bootstrap', bootstrap, '--deadline', '30000')
    expect(cheap.stderr).toMatch(/^shadw: SPENDING_CAP_EXCEEDED: this call may cost \d+ µcredits here, over the tenant's cap of 1\n$/)
    expect(cheap.code).toBe(1)
    expect(service?.executions).toBe(0)

    const ok = await shadw('invoke', ref, '--max-charge', '1000000000', '--bootstrap', bootstrap, '--deadline', '30000')
    expect(ok.code).toBe(0)
    expect(service?.executions).toBe(1)
    const ledger = superNode.executor?.ledgerKey as string
    expect(superNode.node.logInfo(ledger).length).toBe(1)
    const receipt = decodeReceipt(await superNode.node.get(ledger, 0) as Uint8Array)
    // priced at admission with the call counted: one of its slots busy
    expect(receipt.price).toEqual(quote(DEFAULT_PRICING, 1, service?.slots ?? 0))
    expect(receipt.total).toBe(charge(receipt.price, receipt.fuel, receipt.bytes))
    expect(receipt.deadline).toBeGreaterThan(receipt.time)
    // the node's own view of its credits, recomputed from its logs: one call, earned by it, spent by the CLI's node
    const credits = await (await fetch(new URL('/api/credits', superNode.info.appUrl))).json() as { earned: Record<string, number>, spent: Record<string, number>, counted: number, unpriced: number, rejected: number }
    expect(credits).toMatchObject({ counted: 1, unpriced: 0, rejected: 0 })
    expect(Object.keys(credits.earned)).toEqual([superNode.info.publicKey])
    expect(Object.values(credits.spent)).toEqual(Object.values(credits.earned))
    expect(credits.earned[superNode.info.publicKey]).toBe(receipt.total)

    const bad = await shadw('invoke', ref, '--max-charge=1.5', '--bootstrap', bootstrap)
    expect(bad.stderr).toBe('shadw: INVALID_ARGUMENT: --max-charge needs a non-negative integer, got "1.5"\n')
  }, 120_000)
})

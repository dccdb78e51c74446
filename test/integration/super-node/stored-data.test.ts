/**
 * Storage a super node wrote before the source was laid out anew (test/fixtures/stored/
 * pre-layout, written by the code of that time) is read by today's code: the same identity,
 * the same service logs, the receipt it signed then, the publisher's registry, and a ledger
 * that goes on from where it was.
 */
import { cp, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { parseReceiptJson, readLedger, receiptHash, verifyReceipt, type SignedReceipt } from '../../../src/core/ledger/index.ts'
import { sha256Hex } from '../../../src/core/sandbox/index.ts'
import { startSuperNode, tempDir } from '../../helpers/super-node.ts'

const FIXTURE = fileURLToPath(new URL('../../fixtures/stored/pre-layout/', import.meta.url))
/** From the banner of the start that wrote the fixture (its README). */
const NODE_KEY = '8062557ff74b313f9a9dfc25054462d950884ed14f7d9807ec32e12f3591d724'
const LEDGER_KEY = '2f3df935a5f8a318d6cbf9126205bca34be803a55f238a6f2cf215a49c33d493'
const MISSES_KEY = '9e2b5597739e4bc36c4804ba5b58d018c866178f717604ec3e7e8e30941c7beb'

describe('storage written before the layout change', () => {
  it('opens with the same node key and logs, its ledger receipt verifies, its registry serves the function, and the ledger goes on at index 1', async () => {
    const storage = join(await tempDir('shadw-stored-'), 'storage')
    await cp(join(FIXTURE, 'storage'), storage, { recursive: true })
    const invoked = JSON.parse(await readFile(join(FIXTURE, 'invoke.json'), 'utf8')) as { ref: string, receipts: unknown[] }
    const held = parseReceiptJson(invoked.receipts[0])

    const sn = await startSuperNode({ storage, workers: 1 })
    expect(sn.info.publicKey).toBe(NODE_KEY)
    expect([sn.executor?.ledgerKey, sn.executor?.missesKey]).toEqual([LEDGER_KEY, MISSES_KEY])
    expect(sn.node.logInfo(LEDGER_KEY).length).toBe(1)

    // the receipt the tenant was given then is the one in the ledger, and it still verifies
    const entries = await readLedger({ length: 1, get: async (i: number) => await sn.node.get(LEDGER_KEY, i) })
    const [entry] = entries
    if (entry?.kind !== 'receipt') throw new Error(`ledger block 0 is ${JSON.stringify(entry)}`)
    expect(receiptHash(entry.receipt)).toBe(receiptHash(held))
    expect(entry.receipt.executor).toBe(NODE_KEY)

    // the publisher's registry in this storage still serves the function, and receipts go on from index 1
    const res = await fetch(new URL(`/fn/${invoked.ref}`, sn.info.appUrl), { method: 'POST', body: 'once more', headers: { 'shadw-deadline': '30000' } })
    expect([res.status, res.headers.get('shadw-error-code')]).toEqual([200, null])
    expect(await res.text()).toBe('ONCE MORE')
    const receipts = (JSON.parse(res.headers.get('shadw-receipts') as string) as SignedReceipt[]).map(r => verifyReceipt(r))
    expect(receipts.map(r => [r.executor, r.fn, r.moduleHash])).toEqual([[NODE_KEY, held.fn, held.moduleHash]])
    expect(receipts[0]?.outputHash).toBe(await sha256Hex(b4a.from('ONCE MORE')))
    await expect.poll(() => sn.node.logInfo(LEDGER_KEY).length, { timeout: 10_000 }).toBe(2)
  }, 60_000)
})

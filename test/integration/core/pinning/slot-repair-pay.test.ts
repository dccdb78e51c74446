import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import {
  computeStorageCredits, cosignReplacement, encodeReplacement, encodeStorageReceipt, readLedger, readLedgerEntry, signReplacement,
  signStorageReceipt, type LedgerEntry, type Replacement
} from '../../../../src/core/ledger/index.ts'
import { pinErasure, shardLength, stripeCount } from '../../../../src/core/pinning/index.ts'
import { erasureStatus } from '../../../../src/cli/drive-erasure.ts'
import { reedSolomon } from '../../../../src/super-node/reed-solomon-node.ts'
import { keyedNode, provingNode, type KeyedNode } from '../../../helpers/holders.ts'
import { testnet } from '../../../helpers/testnet.ts'

async function ledgerOf (k: KeyedNode & { ledgerKey: string }): Promise<LedgerEntry[]> {
  return await readLedger({ length: k.node.logInfo(k.ledgerKey).length, get: async (i: number) => await k.node.get(k.ledgerKey, i) })
}

async function until (what: string, done: () => Promise<boolean> | boolean, rounds = 300): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (await done()) return
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  throw new Error(`timed out waiting for ${what}`)
}

type Key = { publicKey: Uint8Array, secretKey: Uint8Array }
const hex = (k: Key): string => b4a.toString(k.publicKey, 'hex')
const holds = (e: LedgerEntry[]): Array<{ total: number, pinner: string, from: number, to: number }> => e.flatMap(x => x.kind === 'storage' && x.receipt.kind === 'hold' ? [x.receipt] : [])

describe('slot orders: repaired erasure slots are paid', () => {
  it('a 2+1 pin loses a holder; the slot rebuilt on a spare earns under the pinner\'s slot order for the rest of the term, the lost holder nothing after; a second replacement, an outsider and evicting a live holder earn 0', async () => {
    const net = await testnet()
    const graceMs = 2_000
    // a steep price so a few heartbeats of a small slot bill whole µcredits
    const PRICE = 1e12
    const holders = await Promise.all([0, 1, 2, 3].map(async () => await provingNode(net, { graceMs, price: PRICE, meanMs: 200 })))
    const pinner = await keyedNode(net, { tier: 'light' })
    const drive = 'ab'.repeat(32)
    const placement = await pinErasure({ node: pinner.node, rs: reedSolomon(), keyPair: pinner.keyPair, drive, version: 1, bytes: crypto.randomBytes(4 * 65536), scheme: { k: 2, m: 1 }, shardBytes: 65536, price: PRICE, standing: { graceMs: graceMs / 2 }, discoverMs: 10_000 })
    await pinner.stop()
    let slot = 0
    for (let s = 0; s < stripeCount(placement.pin.layout); s++) slot += shardLength(placement.pin.layout, s)
    const byKey = (key: string): (typeof holders)[number] => holders.find(h => h.node.publicKey === key)!
    const gone = byKey(placement.holds[1]!.holder)
    const survivors = [placement.holds[0]!, placement.holds[2]!].map(h => byKey(h.holder))
    const spare = holders.find(h => !placement.holds.some(x => x.holder === h.node.publicKey))!

    await until('every holder to bill a hold', async () => (await Promise.all([gone, ...survivors].map(ledgerOf))).every(e => holds(e).length > 0))
    await gone.shards.recorded()
    const goneLedger = await ledgerOf(gone)
    await gone.stop()

    await until('the spare to hold the slot and bill under its replacement', async () => {
      const e = await ledgerOf(spare)
      return e.some(x => x.kind === 'replacement') && holds(e).length >= 2
    })
    const passed = (e: LedgerEntry[]): boolean => e.some(x => x.kind === 'verdict' && x.verdict.ok && x.verdict.holder === spare.node.publicKey)
    await until('a survivor to pass a proof of the spare', async () => passed((await Promise.all(survivors.map(ledgerOf))).flat()))
    await Promise.all(holders.filter(h => h !== gone).map(async h => { await h.shards.recorded() }))
    const spareLedger = await ledgerOf(spare)
    const record = (spareLedger.find(x => x.kind === 'replacement') as { replacement: Replacement }).replacement
    expect(record).toMatchObject({ holder: spare.node.publicKey, replaces: gone.node.publicKey, slot: 1, order: { drive, root: placement.pin.root, pinner: pinner.node.publicKey, replicas: 3, bytes: slot, graceMs: graceMs / 2 } })
    expect(survivors.map(s => s.node.publicKey)).toContain(record.repairer)
    expect(record.time - record.lastSeen).toBeGreaterThanOrEqual(graceMs / 2)

    // status shows each slot's holder and how it is paid: the survivors by the pinner's orders, the spare by its replacement
    const asker = await keyedNode(net, { tier: 'light' })
    const status = await erasureStatus(asker.node, drive)
    expect(status?.holders).toEqual(placement.holds.map(h => h.shard === 1 ? { shard: 1, holder: spare.node.publicKey, paid: 'replacement' } : { shard: h.shard, holder: h.holder, paid: 'order' }))
    await asker.stop()

    const all = [...goneLedger, ...(await Promise.all(survivors.map(ledgerOf))).flat(), ...spareLedger]
    const credits = computeStorageCredits(all)
    expect(credits.replacements).toEqual({ accepted: 1, refused: [] })
    expect(credits.rejected).toEqual([])
    const spareHolds = holds(spareLedger)
    expect(spareHolds.every(r => r.pinner === pinner.node.publicKey && r.from >= record.time)).toBe(true)
    expect(credits.earned.get(spare.node.publicKey)).toBeGreaterThan(0)
    expect(credits.earned.get(spare.node.publicKey)).toBe(spareHolds.reduce((s, r) => s + r.total, 0))
    // only the holder-only `pin` receipts are unbacked (three first holders and the spare)
    expect(credits.unbacked).toBe(4)
    // without the replacement record the spare's receipts are its word alone
    expect(computeStorageCredits(all.filter(x => x.kind !== 'replacement')).earned.get(spare.node.publicKey)).toBeUndefined()

    // the lost holder earns nothing after it was replaced: a hold it signs for later (back, or lying) is unbacked
    const goneEarned = credits.earned.get(gone.node.publicKey) ?? 0
    expect(goneEarned).toBeGreaterThan(0)
    const hold = (holder: Key, from: number): LedgerEntry => readLedgerEntry(encodeStorageReceipt(signStorageReceipt({ kind: 'hold', drive, pinner: pinner.node.publicKey, bytes: slot, from, to: from + 60_000, price: record.price }, holder)))
    const late = computeStorageCredits([...all, hold(gone.keyPair, record.time + 1)])
    expect(late.earned.get(gone.node.publicKey)).toBe(goneEarned)
    expect(late.unbacked).toBe(5)

    // a third node countersigns the same slot order, with offers a lying or careless holder signed
    const third = crypto.keyPair()
    const now = Date.now()
    const seat = (o: { replaces: string, time: number, slot: number }, repairer: Key): LedgerEntry =>
      readLedgerEntry(encodeReplacement(cosignReplacement(signReplacement({ order: record.order, holder: hex(third), lastSeen: o.time - graceMs, price: record.price, servePrice: 0, ...o }, repairer), third)))
    const [a, b] = survivors as [(typeof holders)[number], (typeof holders)[number]]
    const other = record.repairer === a.node.publicKey ? b : a
    // the same loss again, by the other survivor: the slot is taken
    const again = seat({ replaces: gone.node.publicKey, time: now, slot: 1 }, other.keyPair)
    // a stranger to the pin signs as repairer
    const foreign = seat({ replaces: spare.node.publicKey, time: now, slot: 1 }, crypto.keyPair())
    // a survivor claims the spare gone while a survivor's proof passed it within the grace
    const pass = all.find(x => x.kind === 'verdict' && x.verdict.ok && x.verdict.holder === spare.node.publicKey)
    expect(pass).toBeDefined()
    const evict = seat({ replaces: spare.node.publicKey, time: (pass as { verdict: { time: number } }).verdict.time + 1, slot: 1 }, other.keyPair)
    for (const [entry, reason] of [[again, 'the replaced holder holds no seat'], [foreign, 'the repairer holds no seat'], [evict, 'proof passed the replaced holder']] as const) {
      expect(entry.kind).toBe('replacement')
      const c = computeStorageCredits([...all, entry, hold(third, now + 1_000)])
      expect(c.earned.get(hex(third)) ?? 0).toBe(0)
      expect(c.replacements.accepted).toBe(1)
      expect(c.replacements.refused.map(r => r.reason).join()).toContain(reason)
      // the spare keeps its place and its pay
      expect(c.earned.get(spare.node.publicKey)).toBe(credits.earned.get(spare.node.publicKey))
    }
  }, 150_000)
})

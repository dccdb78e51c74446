import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import {
  computeStorageCredits, cosignReplacement, encodeReplacement, encodeStorageReceipt, readLedger, readLedgerEntry, signReplacement,
  signStorageReceipt, type LedgerEntry, type Replacement
} from '../../../../src/core/ledger/index.ts'
import { describeLogs, pinBytes, pinDrive } from '../../../../src/core/pinning/index.ts'
import { keyedNode, provingNode, type KeyedNode } from '../../../helpers/holders.ts'
import { testnet } from '../../../helpers/testnet.ts'

async function ledgerOf (k: KeyedNode & { ledgerKey: string }): Promise<LedgerEntry[]> {
  return await readLedger({ length: k.node.logInfo(k.ledgerKey).length, get: async (i: number) => await k.node.get(k.ledgerKey, i) })
}

async function until (what: string, done: () => Promise<boolean> | boolean, rounds = 150): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    if (await done()) return
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  throw new Error(`timed out waiting for ${what}`)
}

describe('standing orders: re-pinned replicas are paid', () => {
  it('a replica re-pinned onto a spare after a holder is gone earns backed credits under the pinner\'s standing order; replacements beyond its two seats are not paid', async () => {
    const net = await testnet()
    const graceMs = 1_500
    // a steep price so a few heartbeats of a small drive bill whole µcredits
    const holders = await Promise.all([0, 1, 2].map(async () => await provingNode(net, { graceMs, price: 1e12, meanMs: 150 })))
    const pinner = await keyedNode(net, { tier: 'light' })
    const db = pinner.store.get({ name: 'db' })
    await db.append(Array.from({ length: 20 }, (_, i) => b4a.alloc(4096, i)))
    await pinner.node.follow(db.key!)
    const logs = await describeLogs([db])
    const drive = logs[0]!.key
    const confs = await pinDrive({ node: pinner.node, request: { drive, logs, replicas: 2 }, keyPair: pinner.keyPair, standing: { graceMs } })
    const first = new Set(confs.map(c => c.holder))
    const [gone, survivor] = holders.filter(h => first.has(h.node.publicKey))
    const spare = holders.find(h => !first.has(h.node.publicKey))!
    // the spare can fetch only from the holders: the uploader leaves
    await pinner.stop()
    // the gone holder's ledger as it stands when it dies: its pin record and its receipts
    await until('both holders to bill a hold', async () => (await Promise.all([gone!, survivor!].map(ledgerOf))).every(e => e.some(x => x.kind === 'storage' && x.receipt.kind === 'hold')))
    await gone!.holder.recorded()
    const goneLedger = await ledgerOf(gone!)
    await gone!.stop()

    await until('the spare to hold the replica and bill under its replacement', async () => {
      const e = await ledgerOf(spare)
      return e.some(x => x.kind === 'replacement') && e.filter(x => x.kind === 'storage' && x.receipt.kind === 'hold').length >= 2
    })
    // the survivor's proofs reach the spare once it knows it as a co-holder
    const passed = (e: LedgerEntry[]): boolean => e.some(x => x.kind === 'verdict' && x.verdict.ok && x.verdict.holder === spare.node.publicKey)
    await until('the survivor to pass a proof of the spare', async () => passed(await ledgerOf(survivor!)))
    expect(spare.holder.status().drives).toMatchObject([{ drive, held: true }])
    const spareLedger = await ledgerOf(spare)
    const record = (spareLedger.find(x => x.kind === 'replacement') as { replacement: Replacement }).replacement
    expect(record).toMatchObject({ holder: spare.node.publicKey, replaces: gone!.node.publicKey, repairer: survivor!.node.publicKey, order: { drive, pinner: pinner.node.publicKey, replicas: 2, graceMs } })
    expect(record.time - record.lastSeen).toBeGreaterThanOrEqual(graceMs)
    const all = [...goneLedger, ...await ledgerOf(survivor!), ...spareLedger]
    const credits = computeStorageCredits(all)
    expect(credits.replacements).toEqual({ accepted: 1, refused: [] })
    expect(credits.unbacked).toBe(0)
    expect(credits.earned.get(spare.node.publicKey)).toBeGreaterThan(0)
    const spareHolds = spareLedger.filter(x => x.kind === 'storage').map(x => (x as { receipt: { total: number, pinner: string } }).receipt)
    expect(spareHolds.every(r => r.pinner === pinner.node.publicKey)).toBe(true)
    expect(credits.earned.get(spare.node.publicKey)).toBe(spareHolds.reduce((s, r) => s + r.total, 0))
    // without the replacement record the same receipts are the spare's word alone
    expect(computeStorageCredits(all.filter(x => x.kind !== 'replacement')).unbacked).toBe(spareHolds.length)

    // a third node countersigns the same standing order, with offers a lying or careless holder signed
    const third = crypto.keyPair()
    const stranger = crypto.keyPair()
    const now = Date.now()
    const hold = (holder: { publicKey: Uint8Array, secretKey: Uint8Array }, from: number): LedgerEntry => readLedgerEntry(encodeStorageReceipt(signStorageReceipt({ kind: 'hold', drive, pinner: pinner.node.publicKey, bytes: pinBytes({ logs }), from, to: from + 60_000, price: record.price }, holder)))
    const seat = (o: { replaces: string, time: number }, repairer: { publicKey: Uint8Array, secretKey: Uint8Array }): LedgerEntry =>
      readLedgerEntry(encodeReplacement(cosignReplacement(signReplacement({ order: record.order, holder: b4a.toString(third.publicKey, 'hex'), lastSeen: o.time - graceMs, price: record.price, servePrice: record.servePrice, ...o }, repairer), third)))
    // the survivor signs the same loss a second time: the place is taken
    const again = seat({ replaces: gone!.node.publicKey, time: now }, survivor!.keyPair)
    // a stranger to the drive signs as repairer, for a seat that is taken
    const foreign = seat({ replaces: spare.node.publicKey, time: now }, stranger)
    // the survivor claims the spare gone, while its own proofs passed the spare within the grace period
    const pass = all.find(x => x.kind === 'verdict' && x.verdict.ok && x.verdict.holder === spare.node.publicKey && x.verdict.challenger === survivor!.node.publicKey)
    expect(pass).toBeDefined()
    const evict = seat({ replaces: spare.node.publicKey, time: (pass as { verdict: { time: number } }).verdict.time + 1 }, survivor!.keyPair)
    for (const [entry, reason] of [[again, 'the replaced holder holds no seat'], [foreign, 'the repairer holds no seat'], [evict, 'proof passed the replaced holder']] as const) {
      expect(entry.kind).toBe('replacement')
      const third3 = computeStorageCredits([...all, entry, hold(third, now + 1_000)])
      expect(third3.earned.get(b4a.toString(third.publicKey, 'hex')) ?? 0).toBe(0)
      expect(third3.replacements.accepted).toBe(1)
      expect(third3.replacements.refused).toHaveLength(1)
      expect(third3.replacements.refused[0]?.reason).toContain(reason)
      // the spare keeps its place and its pay
      expect(third3.earned.get(spare.node.publicKey)).toBe(credits.earned.get(spare.node.publicKey))
    }
  })
})

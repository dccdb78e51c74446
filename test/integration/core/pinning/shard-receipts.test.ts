import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { computeStorageCredits, readLedger, type LedgerEntry } from '../../../../src/core/ledger/index.ts'
import { pinErasure, shardLength, stripeCount } from '../../../../src/core/pinning/index.ts'
import { reedSolomon } from '../../../../src/super-node/reed-solomon-node.ts'
import { keyedNode, provingNode, type KeyedNode } from '../../../helpers/holders.ts'
import { testnet } from '../../../helpers/testnet.ts'

async function ledgerOf (k: KeyedNode, key: string): Promise<LedgerEntry[]> {
  return await readLedger({ length: k.node.logInfo(key).length, get: async (i: number) => await k.node.get(key, i) })
}

describe('storage receipts of erasure shard holders', () => {
  it('each shard holder countersigns the pinner\'s order for its slot and bills hold periods under it, counted in credits; an order below its price is refused', async () => {
    const net = await testnet()
    // a short grace: a hold receipt every 400 ms; a price high enough that one is not 0 µcredits
    const PRICE = 1e12
    const holders = await Promise.all([0, 1, 2].map(async () => await provingNode(net, { graceMs: 2_000, price: PRICE })))
    const pinner = await keyedNode(net, { tier: 'light' })
    const drive = 'ab'.repeat(32)

    // an order below the holders' price is refused by every holder: nothing placed
    await expect(pinErasure({ node: pinner.node, rs: reedSolomon(), keyPair: pinner.keyPair, drive, version: 1, bytes: crypto.randomBytes(3 * 16384), scheme: { k: 2, m: 1 }, shardBytes: 16384, price: PRICE - 1, discoverMs: 10_000 }))
      .rejects.toMatchObject({ code: 'NOT_ENOUGH_HOLDERS' })
    expect(holders.map(h => h.shards.held())).toEqual([[], [], []])

    const placement = await pinErasure({ node: pinner.node, rs: reedSolomon(), keyPair: pinner.keyPair, drive, version: 1, bytes: crypto.randomBytes(8 * 65536), scheme: { k: 2, m: 1 }, shardBytes: 65536, price: PRICE, discoverMs: 10_000 })
    let slot = 0
    for (let s = 0; s < stripeCount(placement.pin.layout); s++) slot += shardLength(placement.pin.layout, s)
    const pinnerKey = b4a.toString(pinner.keyPair.publicKey, 'hex')

    const entries = async (): Promise<LedgerEntry[]> => {
      await Promise.all(holders.map(async h => { await h.shards.recorded() }))
      return (await Promise.all(holders.map(async h => await ledgerOf(h, h.ledgerKey)))).flat()
    }
    let all = await entries()
    const kept = (e: LedgerEntry[]): number => computeStorageCredits(e).holders.get(holders[0]!.node.publicKey)?.kept ?? 0
    for (let i = 0; i < 100 && holders.some(h => (computeStorageCredits(all).holders.get(h.node.publicKey)?.kept ?? 0) < 2); i++) {
      await new Promise(resolve => setTimeout(resolve, 100))
      all = await entries()
    }
    expect(kept(all)).toBeGreaterThanOrEqual(2)

    // per holder: the co-signed pin names its slot's bytes, the pinner and the price; its receipts are backed and paid
    const credits = computeStorageCredits(all)
    for (const h of holders) {
      const pins = all.flatMap(e => e.kind === 'storage-pin' && e.pin.holder === h.node.publicKey ? [e.pin] : [])
      expect(pins).toMatchObject([{ drive, holder: h.node.publicKey, pinner: pinnerKey, bytes: slot, price: PRICE, servePrice: 0 }])
      const receipts = all.flatMap(e => e.kind === 'storage' && e.receipt.holder === h.node.publicKey ? [e.receipt] : [])
      expect(receipts[0]).toMatchObject({ kind: 'pin', drive, pinner: pinnerKey, bytes: slot })
      expect(receipts.filter(r => r.kind === 'hold').every(r => r.bytes === slot && r.price === PRICE)).toBe(true)
      expect(credits.holders.get(h.node.publicKey)).toMatchObject({ pins: 1, missed: 0, failed: 0 })
      expect(credits.earned.get(h.node.publicKey)).toBe(receipts.filter(r => r.kind === 'hold').reduce((s, r) => s + r.total, 0))
      expect(credits.earned.get(h.node.publicKey)).toBeGreaterThan(0)
    }
    // only the holder-only `pin` receipts are unbacked; the pinner owes the sum
    expect(credits.unbacked).toBe(3)
    expect(credits.owed.get(pinnerKey)).toBe(holders.reduce((s, h) => s + (credits.earned.get(h.node.publicKey) ?? 0), 0))
    expect(credits.rejected).toEqual([])
  }, 120_000)
})

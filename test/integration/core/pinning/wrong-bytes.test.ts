import crypto from 'hypercore-crypto'
import { describe, expect, it, onTestFinished } from 'vitest'
import { erasureStatus } from '../../../../src/cli/drive-erasure.ts'
import { computeStorageCredits, readLedger, type LedgerEntry, type ServedWrong } from '../../../../src/core/ledger/index.ts'
import { challengeShard, findErasurePin, pinErasure, readErasure } from '../../../../src/core/pinning/index.ts'
import { holdersTopic } from '../../../../src/core/pinning/pin-protocol.ts'
import { reedSolomon } from '../../../../src/super-node/reed-solomon-node.ts'
import { keyedNode, provingNode, type KeyedNode } from '../../../helpers/holders.ts'
import { testnet } from '../../../helpers/testnet.ts'
import { wrongHolder } from '../../../helpers/wrong-holder.ts'

const rs = reedSolomon()
/** Short in tests: a challenge of each co-holder every 200 ms on average, a silent holder lost after 3 s. */
const MEAN_MS = 200
const GRACE_MS = 3_000

/** Bounded polls of 100 ms. */
async function until (what: string, ok: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
  for (let i = 0; i < ms / 100; i++) {
    if (await ok()) return
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error(`${what}: not within ${ms} ms`)
}

function liar (k: KeyedNode): { gets: () => number } {
  const w = wrongHolder(k.node, k.keyPair, rs, GRACE_MS)
  onTestFinished(w.stop)
  return w
}

describe('a holder that answers proofs but serves wrong bytes', () => {
  it('passes its challenges; a read stays exact and signs a served-wrong record; its co-holders record it and repair its slot; later reads ask it nothing; its payment stops', async () => {
    const net = await testnet()
    const honest = await Promise.all([0, 1, 2, 3].map(async () => await provingNode(net, { meanMs: MEAN_MS, graceMs: GRACE_MS })))
    const bad = await keyedNode(net)
    const lies = liar(bad)
    await bad.node.joinTopic(holdersTopic(), { server: true, client: true })
    const pinner = await keyedNode(net, { tier: 'light' })
    const bytes = crypto.randomBytes(4 * 2 * 4096 - 77)
    const drive = 'ef'.repeat(32)
    const placement = await pinErasure({ node: pinner.node, rs, keyPair: pinner.keyPair, drive, version: 1, bytes, scheme: { k: 2, m: 2 }, shardBytes: 4096, discoverMs: 15_000 })
    await pinner.stop()
    const { root } = placement.pin
    expect(placement.holds[0]!.holder).toBe(bad.node.publicKey)
    const placed = honest.filter(h => placement.holds.some(x => x.holder === h.node.publicKey))
    expect(placed).toHaveLength(3)
    const spare = honest.find(h => !placed.includes(h))!

    // a live holder to its co-holders, and its proofs are good: every stripe, a random chunk each
    await until('every honest holder knows the placement', () => placed.every(n => n.shards.placement(root)?.holders.length === 4))
    await until('the liar proves its slot to every co-holder', () => placed.every(n => n.proofs.book.verdicts(drive).some(v => v.holder === bad.node.publicKey && v.ok)))
    for (let s = 0; s < placement.pin.stripes.length; s++) {
      const v = await challengeShard(placed[0]!.shards.peer(bad.node.publicKey), placement.pin, placement.holds[0]!, s, Math.random(), placed[0]!.keyPair)
      expect(v).toMatchObject({ ok: true, holder: bad.node.publicKey })
    }
    expect(placed.map(n => n.proofs.failedHolders(drive))).toEqual([[], [], []])

    // the read: exact from the three honest holders; the liar reported once, with a record, and not asked again
    const reader = await keyedNode(net, { tier: 'light' })
    const wrong: Array<{ holder: string, shard: number, stripe: number, record: ServedWrong | null }> = []
    const got = await readErasure({ node: reader.node, rs, placement, keyPair: reader.keyPair, discoverMs: 5_000, onwrong: w => { wrong.push(w) } })
    expect(Buffer.compare(got, bytes)).toBe(0)
    expect(wrong.map(w => ({ ...w, record: w.record?.answer.holder }))).toEqual([{ holder: bad.node.publicKey, shard: 0, stripe: 0, record: bad.node.publicKey }])
    expect(lies.gets()).toBe(1)
    await reader.stop()

    // its co-holders record it in their storage ledgers and repair its slot onto the spare
    const moved = (n: (typeof honest)[number]): boolean => n.shards.placement(root)?.holders.find(h => h.shard === 0)?.holder === spare.node.publicKey
    await until('the slot is repaired onto the spare', () => placed.every(moved) && moved(spare))
    expect(spare.shards.held().map(h => h.shard)).toEqual([0])
    await Promise.all(placed.map(async n => await n.shards.recorded()))
    const entries: LedgerEntry[] = (await Promise.all(placed.map(async n => await readLedger(n.node.session(n.ledgerKey))))).flat()
    const recorded = entries.filter((e): e is Extract<LedgerEntry, { kind: 'served-wrong' }> => e.kind === 'served-wrong')
    expect(recorded.map(e => e.record.signature)).toEqual(placed.map(() => wrong[0]!.record!.signature))
    // payment for the drive stops from the record on (credits refuse the liar's series after it)
    expect(computeStorageCredits(entries).servedWrong).toEqual([{ holder: bad.node.publicKey, drive, from: wrong[0]!.record!.time, to: null }])

    // the next reader learns of the record from the holders, asks the liar nothing, and reads exactly
    const next = await keyedNode(net, { tier: 'light' })
    const found = await findErasurePin({ node: next.node, drive, discoverMs: 3_000 })
    expect(found?.wrong?.map(r => r.signature)).toEqual([wrong[0]!.record!.signature])
    expect(found?.holds.map(h => h.holder)).toEqual(placement.holds.map(h => h.shard === 0 ? spare.node.publicKey : h.holder))
    const again: unknown[] = []
    expect(Buffer.compare(await readErasure({ node: next.node, rs, placement: { ...found!, holds: [...found!.holds, placement.holds[0]!] }, keyPair: next.keyPair, discoverMs: 3_000, onwrong: w => { again.push(w) } }), bytes)).toBe(0)
    expect(again).toEqual([])
    expect(lies.gets()).toBe(1)

    // `shadw drive status` sees the stripe whole again on honest holders, the liar excluded
    const status = await erasureStatus(next.node, drive)
    expect(status).toMatchObject({ health: 'healthy', weakestStripeLive: 4, excluded: [bad.node.publicKey] })
  }, 180_000)
})

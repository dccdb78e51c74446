import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { findErasurePin, pinErasure, readErasure, verifyRepair } from '../../../../src/core/pinning/index.ts'
import { reedSolomon } from '../../../../src/super-node/reed-solomon-node.ts'
import { keyedNode, provingNode } from '../../../helpers/holders.ts'
import { corruptOnDisk, tmpStorage } from '../../../helpers/on-disk.ts'
import { testnet } from '../../../helpers/testnet.ts'

const rs = reedSolomon()
/** Short in tests: a challenge of each co-holder every 200 ms on average, a silent holder lost after 3 s. */
const MEAN_MS = 200
const GRACE_MS = 3_000

/** Bounded polls of 100 ms. */
async function until (what: string, ok: () => boolean, ms = 60_000): Promise<void> {
  for (let i = 0; i < ms / 100; i++) {
    if (ok()) return
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error(`${what}: not within ${ms} ms`)
}

describe('repair of a slot failed by proofs of storage', () => {
  it('a shard corrupted on disk fails its proofs; a signed repair moves its slot to a spare holder, every holder adopts it and reads stay exact', async () => {
    const net = await testnet()
    const dirs = Array.from({ length: 5 }, () => tmpStorage())
    const nodes = await Promise.all(dirs.map(async storage => await provingNode(net, { storage, meanMs: MEAN_MS, graceMs: GRACE_MS })))
    const pinner = await keyedNode(net, { tier: 'light' })
    const bytes = crypto.randomBytes(3 * 2 * 4096 - 123)
    const placement = await pinErasure({ node: pinner.node, rs, keyPair: pinner.keyPair, drive: 'cd'.repeat(32), version: 1, bytes, scheme: { k: 2, m: 2 }, shardBytes: 4096, discoverMs: 15_000 })
    await pinner.stop()
    const { root, drive } = placement.pin
    const byKey = (key: string): (typeof nodes)[number] => nodes.find(n => n.node.publicKey === key)!
    const placed = placement.holds.map(h => byKey(h.holder))
    const spare = nodes.find(n => !placed.includes(n))!
    const victim = placement.holds[1]!
    const bad = byKey(victim.holder)
    const others = placed.filter(n => n !== bad)

    // every placed holder knows the whole placement, and has proved its slot to each co-holder
    await until('every holder knows the placement', () => placed.every(n => n.shards.placement(root)?.holders.length === 4))
    const provedBy = (judge: (typeof nodes)[number], of: string): boolean => judge.proofs.book.verdicts(drive).some(v => v.holder === of && v.challenger === judge.node.publicKey && v.ok)
    await until('every holder proved its slot to every other', () => placed.every(j => placed.every(h => h === j || provedBy(j, h.node.publicKey))))
    expect(placed.map(n => n.proofs.failedHolders(drive))).toEqual([[], [], [], []])

    // the shard rots on the holder's disk: it still heartbeats, so only its proofs show the loss
    expect(corruptOnDisk(dirs[nodes.indexOf(bad)]!, bad.shards.logOf(root, victim.shard)!)).toBeGreaterThan(0)
    await until('the co-holders fail it on a quorum of proofs', () => others.every(n => n.proofs.failedHolders(drive).some(f => f.holder === bad.node.publicKey && f.kind === 'shard' && f.shard === victim.shard)))

    // one signed repair moves the slot to the spare, and every live holder adopts the same placement
    // (the spare learns the record with its co-holders' heartbeats, a beat or two after it holds the slot)
    const moved = (n: (typeof nodes)[number]): boolean => n.shards.placement(root)?.holders.find(h => h.shard === victim.shard)?.holder === spare.node.publicKey && n.shards.placement(root)!.repairs.length > 0
    await until('the slot is repaired onto the spare and adopted', () => others.every(moved) && moved(spare))
    const repairs = others[0]!.shards.placement(root)!.repairs
    expect(repairs).toHaveLength(1)
    const r = verifyRepair(repairs[0])
    expect(r).toMatchObject({ root, drive, shard: victim.shard, from: bad.node.publicKey, to: spare.node.publicKey, stripes: 3 })
    expect(others.map(n => n.node.publicKey)).toContain(r.repairer)
    for (const n of [...others, spare]) {
      const p = n.shards.placement(root)!
      expect(p.repairs.map(x => x.signature)).toEqual([r.signature])
      expect(p.holders.map(h => h.holder)).toEqual(placement.holds.map(h => h.shard === victim.shard ? spare.node.publicKey : h.holder))
    }
    expect(spare.shards.held().map(h => h.shard)).toEqual([victim.shard])

    // a reader with the drive key alone reads the exact bytes; the spare's shard is good on its own
    const reader = await keyedNode(net, { tier: 'light' })
    const found = await findErasurePin({ node: reader.node, drive, discoverMs: 3_000 })
    expect(found?.repairs?.map(x => x.signature)).toEqual([r.signature])
    // the failed holder still keeps its rotten copy and answers for the slot: the reader takes the repaired holder
    expect(found?.holds.map(h => h.holder)).toEqual(placement.holds.map(h => h.shard === victim.shard ? spare.node.publicKey : h.holder))
    expect(Buffer.compare(await readErasure({ node: reader.node, rs, placement: found!, discoverMs: 2_000 }), bytes)).toBe(0)
    const withSpare = { pin: placement.pin, holds: placement.holds.filter(h => h.shard !== victim.shard && h.shard !== (victim.shard + 1) % 4).concat(found!.holds[victim.shard]!) }
    expect(withSpare.holds).toHaveLength(3)
    expect(Buffer.compare(await readErasure({ node: reader.node, rs, placement: withSpare, discoverMs: 2_000 }), bytes)).toBe(0)
  }, 120_000)
})

import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { findErasurePin, pinErasure, readErasure, ShardChannels, verifyRepair, type RepairEvent, type RepairRecord } from '../../../../src/core/pinning/index.ts'

import { holdersTopic } from '../../../../src/core/pinning/pin-protocol.ts'
import { reedSolomon } from '../../../../src/super-node/reed-solomon-node.ts'
import { keyedNode, shardHolderNode } from '../../../helpers/holders.ts'
import { testnet } from '../../../helpers/testnet.ts'

const rs = reedSolomon()
/** Short in tests: a holder silent this long is lost. */
const GRACE_MS = 3_000

async function until (what: string, fn: () => boolean, ms = 60_000): Promise<void> {
  for (let i = 0; i < ms / 100; i++) {
    if (fn()) return
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error(`${what}: not within ${ms} ms`)
}

async function pinOn (n: number, opts: { spare: number, stripes: number }, onrepair: (holder: number, e: RepairEvent) => void): Promise<{ holders: Array<Awaited<ReturnType<typeof shardHolderNode>>>, placement: Awaited<ReturnType<typeof pinErasure>>, bytes: Uint8Array, net: Awaited<ReturnType<typeof testnet>> }> {
  const net = await testnet()
  const holders = await Promise.all(Array.from({ length: n + opts.spare }, async (_, i) => await shardHolderNode(net, { graceMs: GRACE_MS, timeoutMs: 10_000, onrepair: e => { onrepair(i, e) } })))
  const pinner = await keyedNode(net, { tier: 'light' })
  const bytes = crypto.randomBytes(opts.stripes * 4 * 4096 - 333)
  const placement = await pinErasure({ node: pinner.node, rs, keyPair: pinner.keyPair, drive: 'ab'.repeat(32), version: 1, bytes, shardBytes: 4096, discoverMs: 15_000 })
  await pinner.stop()
  return { holders, placement, bytes, net }
}

describe('live repair of erasure pins', () => {
  it('M holders of a 4+2 pin die: the live holders elect one repairer per loss, rebuild each slot on a new holder and adopt the signed placement; reads stay exact', async () => {
    const repaired: RepairRecord[] = []
    const adopted = new Map<number, RepairRecord[]>()
    const { holders, placement, bytes, net } = await pinOn(6, { spare: 3, stripes: 3 }, (i, e) => {
      if (e.type === 'repaired') repaired.push(e.record)
      if (e.type === 'adopted') adopted.set(i, [...(adopted.get(i) ?? []), e.record])
    })
    const index = (key: string): number => holders.findIndex(h => h.node.publicKey === key)
    // every holder learnt the whole placement from the pinner
    for (const h of placement.holds) expect(holders[index(h.holder)]!.shards.placement(placement.pin.root)?.holders.map(x => x.holder)).toEqual(placement.holds.map(x => x.holder))

    // a holder keeps one slot of a pin: a second is refused (it would take two shards of each stripe down with it)
    const asker = await keyedNode(net, { tier: 'light' })
    const channels = new ShardChannels(asker.node)
    channels.start()
    await asker.node.joinTopic(holdersTopic(), { server: false, client: true })
    await until('the asker meets the holders', () => channels.holders().some(p => p.publicKey === placement.holds[0]!.holder), 20_000)
    await expect(channels.holders().find(p => p.publicKey === placement.holds[0]!.holder)!.request({ type: 'open', pin: placement.pin, shard: 1 }, 10_000)).rejects.toMatchObject({ code: 'ERASURE_INVALID' })
    channels.stop()
    await asker.stop()

    const gone = [placement.holds[1]!, placement.holds[4]!]
    for (const h of gone) await holders[index(h.holder)]!.stop()
    const survivors = placement.holds.filter(h => !gone.includes(h)).map(h => holders[index(h.holder)]!)
    const done = (s: (typeof survivors)[number]): boolean => { const p = s.shards.placement(placement.pin.root)!; return p.repairs.length === 2 && p.holders.filter(x => x.live).length === 6 }
    await until('both slots repaired and adopted', () => survivors.every(done))

    // one repair per loss, signed, each onto a spare holder, every survivor holding the same placement
    await new Promise(resolve => setTimeout(resolve, GRACE_MS))
    expect(repaired.map(r => r.shard).sort()).toEqual([1, 4])
    expect(new Set(repaired.map(r => r.to)).size).toBe(2)
    for (const r of repaired) {
      expect(verifyRepair(r)).toEqual(r)
      expect(r.from).toBe(placement.holds[r.shard]!.holder)
      expect(placement.holds.some(h => h.holder === r.to)).toBe(false)
      expect(r.stripes).toBe(3)
    }
    const views = survivors.map(s => JSON.stringify(s.shards.placement(placement.pin.root)!.holders.map(x => x.holder)))
    expect(new Set(views).size).toBe(1)
    for (const s of survivors) expect(s.shards.placement(placement.pin.root)!.repairs.map(r => r.signature).sort()).toEqual(repaired.map(r => r.signature).sort())
    // each new holder knows the whole placement and its own placement record
    for (const r of repaired) {
      const p = holders[index(r.to)]!.shards.placement(placement.pin.root)!
      expect(p.holders.map(x => x.holder)).toEqual(JSON.parse(views[0]!))
      expect(p.repairs.map(x => x.signature)).toContain(r.signature)
    }

    // a reader with the drive key alone finds six live slots and reads the bytes exactly
    const reader = await keyedNode(net, { tier: 'light' })
    const found = await findErasurePin({ node: reader.node, drive: placement.pin.drive, discoverMs: 3_000 })
    expect(found?.holds.map(h => h.shard)).toEqual([0, 1, 2, 3, 4, 5])
    expect(Buffer.compare(await readErasure({ node: reader.node, rs, placement: found!, discoverMs: 2_000 }), bytes)).toBe(0)
  }, 180_000)

  it('a repairer killed mid-repair is taken over by the next in the ranking; its own slot is repaired too, each loss once', async () => {
    const events: Array<{ holder: number, e: RepairEvent }> = []
    let killed = -1
    const ctx: { holders: Array<Awaited<ReturnType<typeof shardHolderNode>>> } = { holders: [] }
    const { holders, placement, bytes, net } = await pinOn(6, { spare: 3, stripes: 8 }, (i, e) => {
      events.push({ holder: i, e })
      // the first repairer dies once it has placed two stripes of the lost slot
      if (killed === -1 && e.type === 'stripe' && e.stripe === 1) { killed = i; void ctx.holders[i]!.stop() }
    })
    ctx.holders = holders
    const index = (key: string): number => holders.findIndex(h => h.node.publicKey === key)
    const first = placement.holds[2]!
    await holders[index(first.holder)]!.stop()
    await until('the repairer is killed mid-way', () => killed !== -1)
    const repairer = holders[killed]!.node.publicKey
    expect(placement.holds.some(h => h.holder === repairer)).toBe(true)
    const alive = placement.holds.filter(h => h.holder !== first.holder && h.holder !== repairer).map(h => holders[index(h.holder)]!)
    await until('both losses repaired and adopted', () => alive.every(s => { const p = s.shards.placement(placement.pin.root)!; return p.repairs.length === 2 && p.holders.filter(x => x.live).length === 6 }), 90_000)
    await new Promise(resolve => setTimeout(resolve, GRACE_MS))

    const records = events.flatMap(({ e }) => e.type === 'repaired' ? [e.record] : [])
    // the first loss once (by another holder), and the dead repairer's slot once
    expect(records.filter(r => r.from === first.holder)).toHaveLength(1)
    expect(records.find(r => r.from === first.holder)?.repairer).not.toBe(repairer)
    expect(records.filter(r => r.from === repairer)).toHaveLength(1)
    expect(records).toHaveLength(2)
    const started = events.filter(({ e }) => e.type === 'start' && e.from === first.holder)
    // the killed one had started on it (on a starved machine a turn may pass before it, not after)
    expect(started.map(x => x.holder)).toContain(killed)

    const reader = await keyedNode(net, { tier: 'light' })
    const found = await findErasurePin({ node: reader.node, drive: placement.pin.drive, discoverMs: 3_000 })
    expect(found?.holds).toHaveLength(6)
    expect(Buffer.compare(await readErasure({ node: reader.node, rs, placement: found!, discoverMs: 2_000 }), bytes)).toBe(0)
  }, 240_000)
})

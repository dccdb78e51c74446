import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { challengeShard, holderFailed, type ProofVerdict, pinErasure, readErasure, ShardChannels, verifyErasurePin, verifyShardHold, verifyVerdict } from '../../../../src/core/pinning/index.ts'
import { holdersTopic } from '../../../../src/core/pinning/pin-protocol.ts'
import { reedSolomon } from '../../../../src/super-node/reed-solomon-node.ts'
import { keyedNode, shardHolderNode } from '../../../helpers/holders.ts'
import { testnet } from '../../../helpers/testnet.ts'

const rs = reedSolomon()

describe('erasure-coded pins on holder nodes', () => {
  it('places 4+2 shards on 6 distinct holders; any 4 read it back exactly; 3 lost names the stripe', async () => {
    const net = await testnet()
    const holders = await Promise.all(Array.from({ length: 7 }, async (_, i) => await shardHolderNode(net, { budget: i === 6 ? 1000 : 64 * 1024 * 1024 })))
    const pinner = await keyedNode(net, { tier: 'light' })
    const bytes = crypto.randomBytes(3 * 4 * 16384 - 777) // three stripes of 16 KiB shards, the last short
    const drive = 'ab'.repeat(32)

    const placement = await pinErasure({ node: pinner.node, rs, keyPair: pinner.keyPair, drive, version: 5, bytes, shardBytes: 16384, discoverMs: 10_000 })
    expect(verifyErasurePin(placement.pin)).toEqual(placement.pin)
    expect(placement.pin.stripes).toHaveLength(3)
    expect(placement.holds).toHaveLength(6)
    expect(placement.holds.map(h => h.shard)).toEqual([0, 1, 2, 3, 4, 5])
    expect(new Set(placement.holds.map(h => h.holder)).size).toBe(6)
    for (const h of placement.holds) expect(verifyShardHold(h)).toEqual(h)
    // the holder with a 1000-byte budget was not given a slot; the others hold 3 shards' bytes each
    const tiny = holders[6]!
    expect(placement.holds.some(h => h.holder === tiny.node.publicKey)).toBe(false)
    const placed = holders.filter(h => placement.holds.some(x => x.holder === h.node.publicKey))
    for (const h of placed) expect(h.shards.budget.used).toBe(2 * 16384 + Math.ceil((4 * 16384 - 777) / 4))
    await pinner.stop()

    const reader = await keyedNode(net, { tier: 'light' })
    expect(Buffer.compare(await readErasure({ node: reader.node, rs, placement }), bytes)).toBe(0)

    // challenges from two nodes: every holder proves a random chunk of every stripe
    const challengers = [reader, await keyedNode(net, { tier: 'light' })]
    const passed: ProofVerdict[] = []
    for (const ch of challengers) {
      const channels = new ShardChannels(ch.node)
      channels.start()
      await ch.node.joinTopic(holdersTopic(), { server: false, client: true })
      for (let i = 0; i < 50 && channels.holders().length < 7; i++) await new Promise(resolve => setTimeout(resolve, 100))
      for (const h of placement.holds) {
        const peer = channels.holders().find(p => p.publicKey === h.holder)
        for (let s = 0; s < 3; s++) {
          const v = verifyVerdict(await challengeShard(peer, placement.pin, h, s, Math.random(), ch.keyPair))
          expect(v.ok, v.reason).toBe(true)
          passed.push(v)
        }
      }
      channels.stop()
    }

    // kill two holders (M): still exact; the absent are failed by both challengers' verdicts
    const byKey = (k: string): (typeof holders)[number] => holders.find(h => h.node.publicKey === k)!
    const gone = [placement.holds[1]!, placement.holds[4]!]
    for (const h of gone) await byKey(h.holder).stop()
    expect(Buffer.compare(await readErasure({ node: reader.node, rs, placement, discoverMs: 2_000 }), bytes)).toBe(0)
    const verdicts = (await Promise.all(challengers.map(async ch => await challengeShard(undefined, placement.pin, gone[0]!, 0, 0.5, ch.keyPair)))).map(v => verifyVerdict(v))
    expect(verdicts.every(v => !v.ok && v.unreachable)).toBe(true)
    // unreachable counts only from challengers that reach other holders: alone, the two say nothing
    expect(holderFailed(verdicts, drive, gone[0]!.holder)).toBe(false)
    expect(holderFailed([...passed, ...verdicts], drive, gone[0]!.holder)).toBe(true)

    // one more (M+1): a typed error naming the first stripe that cannot be rebuilt
    await byKey(placement.holds[0]!.holder).stop()
    await expect(readErasure({ node: reader.node, rs, placement, discoverMs: 2_000 })).rejects.toMatchObject({ code: 'STRIPE_LOST', details: { stripe: 0, live: 3, k: 4, m: 2 } })
  }, 120_000)

  it('too few holders with room: NOT_ENOUGH_HOLDERS before any holder stores a byte', async () => {
    const net = await testnet()
    const holders = await Promise.all(Array.from({ length: 4 }, async () => await shardHolderNode(net)))
    const pinner = await keyedNode(net, { tier: 'light' })
    await expect(pinErasure({ node: pinner.node, rs, keyPair: pinner.keyPair, drive: 'cd'.repeat(32), version: 1, bytes: crypto.randomBytes(5000), discoverMs: 3_000 }))
      .rejects.toMatchObject({ code: 'NOT_ENOUGH_HOLDERS', details: { found: 4, needed: 6, placed: 0 } })
    for (const h of holders) expect(h.shards.budget.used).toBe(0)
  }, 60_000)
})

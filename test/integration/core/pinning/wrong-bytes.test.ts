import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it, onTestFinished } from 'vitest'
import { answerChallenge, challengeShard, pinErasure, readErasure, ShardChannels, signShardHold, verifyErasurePin, type ErasurePin } from '../../../../src/core/pinning/index.ts'
import { holdersTopic } from '../../../../src/core/pinning/pin-protocol.ts'
import { reedSolomon } from '../../../../src/super-node/reed-solomon-node.ts'
import { keyedNode, shardHolderNode, type KeyedNode } from '../../../helpers/holders.ts'
import { testnet } from '../../../helpers/testnet.ts'

const rs = reedSolomon()

/**
 * A shard holder that keeps its shard and proves it honestly, but serves every `get` with its
 * bytes flipped: a challenge of one chunk cannot tell, a reader checking the committed hash can.
 * It offers the most room, so it is placed first (shard 0: a data shard, the read must rebuild it).
 */
function liar (k: KeyedNode): { gets: () => number } {
  const kept = new Map<number, Uint8Array>()
  let pin: ErasurePin | null = null
  let gets = 0
  const channels = new ShardChannels(k.node, {
    free: () => 1024 * 1024 * 1024,
    onrequest: (peer, m) => {
      if (!('id' in m)) return
      if (m.type === 'open') { pin = verifyErasurePin(m.pin); peer.send({ type: 'ok', id: m.id }); return }
      if (pin === null) return
      if (m.type === 'put') {
        kept.set(m.stripe, b4a.from(m.bytes))
        if (kept.size < pin.stripes.length) { peer.send({ type: 'ok', id: m.id }); return }
        peer.send({ type: 'held', id: m.id, confirmation: signShardHold({ drive: pin.drive, root: pin.root, shard: m.shard, budget: { total: 1 << 30, used: 0 }, time: Date.now() }, k.keyPair) })
      } else if (m.type === 'get') {
        gets++
        peer.send({ type: 'data', id: m.id, bytes: kept.get(m.stripe)!.map(x => x ^ 0x5a) })
      } else if (m.type === 'challenge') {
        peer.send({ type: 'proof', id: m.id, answer: answerChallenge(kept.get(m.challenge.stripe)!, pin.layout.chunkBytes, m.challenge.chunk) })
      }
    }
  })
  channels.start()
  onTestFinished(() => { channels.stop() })
  return { gets: () => gets }
}

describe('a holder that answers proofs but serves wrong bytes', () => {
  it('passes its challenges, yet a read counts its shards as missing, reports it once, asks it nothing more and stays exact', async () => {
    const net = await testnet()
    const honest = await Promise.all([0, 1, 2].map(async () => await shardHolderNode(net)))
    const bad = await keyedNode(net)
    const lies = liar(bad)
    await bad.node.joinTopic(holdersTopic(), { server: true, client: true })
    const pinner = await keyedNode(net, { tier: 'light' })
    const bytes = crypto.randomBytes(4 * 2 * 4096 - 77)
    const placement = await pinErasure({ node: pinner.node, rs, keyPair: pinner.keyPair, drive: 'ef'.repeat(32), version: 1, bytes, scheme: { k: 2, m: 2 }, shardBytes: 4096, discoverMs: 15_000 })
    expect(placement.holds[0]!.holder).toBe(bad.node.publicKey)
    expect(honest.every(h => placement.holds.some(x => x.holder === h.node.publicKey))).toBe(true)

    // its proofs are good: every stripe, a random chunk each
    const channels = new ShardChannels(pinner.node)
    channels.start()
    onTestFinished(() => { channels.stop() })
    await pinner.node.joinTopic(holdersTopic(), { server: false, client: true })
    for (let i = 0; i < 50 && channels.holders().every(p => p.publicKey !== bad.node.publicKey); i++) await new Promise(resolve => setTimeout(resolve, 100))
    const peer = channels.holders().find(p => p.publicKey === bad.node.publicKey)
    for (let s = 0; s < placement.pin.stripes.length; s++) {
      const v = await challengeShard(peer, placement.pin, placement.holds[0]!, s, Math.random(), pinner.keyPair)
      expect(v).toMatchObject({ ok: true, holder: bad.node.publicKey })
    }

    // the read: exact from the three honest holders, the liar reported on its first wrong shard and not asked again
    const reader = await keyedNode(net, { tier: 'light' })
    const wrong: Array<{ holder: string, shard: number, stripe: number }> = []
    const got = await readErasure({ node: reader.node, rs, placement, discoverMs: 5_000, onwrong: w => { wrong.push(w) } })
    expect(Buffer.compare(got, bytes)).toBe(0)
    expect(wrong).toEqual([{ holder: bad.node.publicKey, shard: 0, stripe: 0 }])
    expect(lies.gets()).toBe(1)
  }, 120_000)
})

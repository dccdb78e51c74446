/**
 * A hostile shard holder for tests and drills: it keeps its shard, proves it honestly and
 * heartbeats to its co-holders like any live holder (a real PinWatch), but serves every `get`
 * with its bytes flipped, under its signature over what it sends. A challenge of one chunk
 * cannot tell; a reader checking the committed hash can, and can show others. It offers the
 * most room, so a pinner places it first (shard 0).
 */
import b4a from 'b4a'
import { signShardAnswer } from '../../src/core/ledger/index.ts'
import { answerChallenge, PinWatch, shardHash, ShardChannels, signShardHold, verifyErasurePin, type ErasurePin, type ReedSolomon } from '../../src/core/pinning/index.ts'
import type { ShadwNode } from '../../src/core/node/index.ts'

/** Room it offers: more than any honest holder in a test. */
const OFFERED = 1024 * 1024 * 1024

export function wrongHolder (node: ShadwNode, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }, rs: ReedSolomon, graceMs: number): { gets: () => number, stop: () => void } {
  const kept = new Map<number, Uint8Array>()
  let pin: ErasurePin | null = null
  let gets = 0
  const me = node.publicKey
  const channels: ShardChannels = new ShardChannels(node, {
    free: () => OFFERED,
    onrequest: (peer, m) => {
      if (m.type === 'placement' || m.type === 'repairing') { watch.onmessage(peer, m); return }
      if (!('id' in m)) return
      if (m.type === 'open') { pin = verifyErasurePin(m.pin); peer.send({ type: 'ok', id: m.id }); return }
      if (pin === null) return
      const p = pin
      const hold = (): ReturnType<typeof signShardHold> => signShardHold({ drive: p.drive, root: p.root, shard: 0, budget: { total: OFFERED, used: 0 }, time: Date.now() }, keyPair)
      if (m.type === 'put') {
        kept.set(m.stripe, b4a.from(m.bytes))
        if (kept.size < p.stripes.length) { peer.send({ type: 'ok', id: m.id }); return }
        watch.add(p, 0)
        peer.send({ type: 'held', id: m.id, confirmation: hold() })
      } else if (m.type === 'get') {
        gets++
        const bytes = kept.get(m.stripe)!.map(x => x ^ 0x5a)
        const answer = signShardAnswer({ drive: p.drive, root: p.root, stripe: m.stripe, stripes: p.stripes.length, shard: m.shard, width: p.layout.k + p.layout.m, hash: shardHash(bytes, p.layout.chunkBytes), nonce: m.nonce, holder: me }, keyPair)
        peer.send({ type: 'data', id: m.id, bytes, signature: answer.signature })
      } else if (m.type === 'challenge') {
        peer.send({ type: 'proof', id: m.id, answer: answerChallenge(kept.get(m.challenge.stripe)!, p.layout.chunkBytes, m.challenge.chunk) })
      } else if (m.type === 'query') {
        peer.send({ type: 'slots', id: m.id, slots: kept.size === p.stripes.length && m.drive === p.drive ? [{ pin: p, hold: hold() }] : [] })
      }
    }
  })
  const watch = new PinWatch({
    keyPair,
    channels,
    joinTopic: async topic => await node.joinTopic(topic, { server: true, client: true }),
    read: async (_root, _shard, stripe) => kept.get(stripe)!,
    rs: async () => rs,
    budget: () => ({ total: OFFERED, used: 0 }),
    graceMs,
    timeoutMs: 10_000
  })
  channels.start()
  watch.start()
  return { gets: () => gets, stop: () => { watch.stop(); channels.stop() } }
}

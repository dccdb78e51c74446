import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { challengeShard, pinErasure, readErasure, ShardChannels, shardNonce, verifyVerdict, type ByteSource, type PinProgress } from '../../../../src/core/pinning/index.ts'
import { holdersTopic } from '../../../../src/core/pinning/pin-protocol.ts'
import { reedSolomon } from '../../../../src/super-node/reed-solomon-node.ts'
import { keyedNode, shardHolderNode } from '../../../helpers/holders.ts'
import { tempDir } from '../../../helpers/super-node.ts'
import { testnet } from '../../../helpers/testnet.ts'

const rs = reedSolomon()

/** Bytes made on demand from their offset: a version that never sits in memory whole. */
function generated (size: number): ByteSource & { maxRead: number } {
  const byte = (i: number): number => (i * 2654435761 >>> 24) ^ (i & 0xff)
  const src = {
    size,
    maxRead: 0,
    read: async (offset: number, length: number): Promise<Uint8Array> => {
      src.maxRead = Math.max(src.maxRead, length)
      const out = new Uint8Array(Math.max(0, Math.min(size, offset + length) - offset))
      for (let i = 0; i < out.length; i++) out[i] = byte(offset + i)
      return out
    }
  }
  return src
}

describe('erasure pins, streamed', () => {
  it('streams a version larger than its memory bound: reads one stripe at a time, holds at most a window of stripes, and reads back exactly', async () => {
    const net = await testnet()
    await Promise.all(Array.from({ length: 3 }, async () => await shardHolderNode(net)))
    const pinner = await keyedNode(net, { tier: 'light' })
    const shardBytes = 16 * 1024
    const window = 2
    const size = 3 * 1024 * 1024 + 123
    const source = generated(size)
    let maxHeld = 0
    const passes = new Set<string>()
    const onprogress = (p: PinProgress): void => { maxHeld = Math.max(maxHeld, p.heldBytes); passes.add(p.pass) }
    const placement = await pinErasure({ node: pinner.node, rs, keyPair: pinner.keyPair, drive: 'ab'.repeat(32), version: 1, source, scheme: { k: 2, m: 1 }, shardBytes, window, onprogress, discoverMs: 10_000 })
    expect(placement.holds.map(h => h.shard)).toEqual([0, 1, 2])
    expect(placement.pin.layout.size).toBe(size)
    // the bound: a window of stripes of K+M shards, far below the version's size
    const bound = window * 3 * shardBytes
    expect(bound * 10).toBeLessThan(size)
    expect(maxHeld).toBeGreaterThan(0)
    expect(maxHeld).toBeLessThanOrEqual(bound)
    expect(source.maxRead).toBeLessThanOrEqual(2 * shardBytes)
    expect([...passes].sort()).toEqual(['commit', 'send'])

    const back = await readErasure({ node: pinner.node, rs, placement })
    expect(Buffer.compare(back, await source.read(0, size))).toBe(0)
  })

  it('a restarted shard holder keeps its slot: it serves and proves its shard from the same storage', async () => {
    const net = await testnet()
    const dir = await tempDir()
    const first = await shardHolderNode(net, { storage: dir })
    await Promise.all(Array.from({ length: 2 }, async () => await shardHolderNode(net)))
    const pinner = await keyedNode(net, { tier: 'light' })
    const bytes = crypto.randomBytes(2 * 2 * 4096 - 99)
    const placement = await pinErasure({ node: pinner.node, rs, keyPair: pinner.keyPair, drive: 'cd'.repeat(32), version: 1, bytes, scheme: { k: 2, m: 1 }, shardBytes: 4096, discoverMs: 10_000 })
    const mine = placement.holds.find(h => h.holder === first.node.publicKey)!
    expect(mine).toBeDefined()
    const used = first.shards.budget.used
    await first.stop()

    const again = await shardHolderNode(net, { storage: dir })
    expect(again.node.publicKey).toBe(first.node.publicKey)
    expect(again.shards.held().map(h => [h.pin.root, h.shard])).toEqual([[placement.pin.root, mine.shard]])
    expect(again.shards.budget.used).toBe(used)

    const channels = new ShardChannels(pinner.node)
    channels.start()
    await pinner.node.joinTopic(holdersTopic(), { server: false, client: true })
    for (let i = 0; i < 100 && channels.holders().find(p => p.publicKey === again.node.publicKey) === undefined; i++) await new Promise(resolve => setTimeout(resolve, 100))
    const peer = channels.holders().find(p => p.publicKey === again.node.publicKey)
    for (let s = 0; s < placement.pin.stripes.length; s++) {
      const v = verifyVerdict(await challengeShard(peer, placement.pin, mine, s, 0.5, pinner.keyPair))
      expect(v.ok, v.reason).toBe(true)
      const a = await peer!.request({ type: 'get', root: placement.pin.root, shard: mine.shard, stripe: s, nonce: shardNonce() }, 10_000)
      expect(a.type).toBe('data')
    }
    channels.stop()
    // the read asks the restarted holder too, and stays exact
    expect(Buffer.compare(await readErasure({ node: pinner.node, rs, placement }), bytes)).toBe(0)
  })
})

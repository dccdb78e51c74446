import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { SwarmConnection } from 'hyperswarm'
import { challengeShard, describeLogs, pinDrive, pinErasure, ShardChannels } from '../../../../src/core/pinning/index.ts'
import { holdersTopic } from '../../../../src/core/pinning/pin-protocol.ts'
import { reedSolomon } from '../../../../src/super-node/reed-solomon-node.ts'
import { keyedNode, provingNode, shardHolderNode, type KeyedNode } from '../../../helpers/holders.ts'
import { testnet } from '../../../helpers/testnet.ts'

const rs = reedSolomon()

async function until (what: string, ok: () => boolean, polls = 300): Promise<void> {
  for (let i = 0; i < polls; i++) {
    if (ok()) return
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  throw new Error(`not within ${polls / 10} s: ${what}`)
}

function connectionTo (k: KeyedNode, remote: string): SwarmConnection | undefined {
  return k.node.connections().map(([c]) => c).find(c => b4a.toString(c.remotePublicKey, 'hex') === remote)
}

describe('a proof channel that closes mid-challenge', () => {
  it('replicated pins: the challenge is put again on a new connection or left inconclusive, never recorded as a failure', async () => {
    const net = await testnet()
    // challenges only when asked: the test drives them one at a time
    const holders = await Promise.all([0, 1, 2].map(async () => await provingNode(net, { meanMs: 3_600_000 })))
    const pinner = await keyedNode(net, { tier: 'light' })
    const core = pinner.store.get({ name: 'db' })
    await core.append(Array.from({ length: 8 }, (_, i) => b4a.alloc(4096, i)))
    await pinner.node.follow(core.key!)
    const drive = (await describeLogs([core]))[0]!.key
    expect(await pinDrive({ node: pinner.node, request: { drive, logs: await describeLogs([core]), replicas: 3 }, keyPair: pinner.keyPair })).toHaveLength(3)
    await pinner.stop()
    const [judge, ...others] = holders
    await until('every holder knows the others confirmed', () => holders.every(h => h.holder.confirmations(drive).length === 3))

    // each co-holder, asked for a block, drops its connection to the judge before it answers
    let dropped = 0
    for (const h of others) {
      const session = h.node.session.bind(h.node)
      h.node.session = ((key: string) => {
        const s = session(key)
        const get = s.get.bind(s)
        s.get = (async (index: number, opts?: unknown) => {
          const conn = dropped < 3 ? connectionTo(h, judge!.node.publicKey) : undefined
          if (conn !== undefined) { dropped++; conn.destroy() }
          await new Promise(resolve => setTimeout(resolve, 100))
          return await get(index, opts as never)
        }) as typeof s.get
        return s
      }) as typeof h.node.session
    }
    const outcomes: string[] = []
    for (let i = 0; i < 6; i++) {
      // the co-holders' patched reads count the connections they dropped
      if (dropped >= 3) break
      await until('the judge connected to both co-holders', () => others.every(h => connectionTo(judge!, h.node.publicKey) !== undefined))
      const v = await judge!.proofs.challengeOnce()
      outcomes.push(v === null ? 'inconclusive' : v.ok ? 'passed' : `failed: ${v.reason}`)
    }
    expect(dropped).toBeGreaterThan(0)
    expect(outcomes.filter(o => o.startsWith('failed'))).toEqual([])
    await judge!.proofs.settled()
    expect(judge!.proofs.book.verdicts(drive).filter(v => !v.ok)).toEqual([])
  }, 120_000)

  it('erasure pins: a shard challenge whose connection is destroyed before the answer is inconclusive (null), not a signed failure', async () => {
    const net = await testnet()
    const holders = await Promise.all([0, 1, 2].map(async () => await shardHolderNode(net)))
    const pinner = await keyedNode(net, { tier: 'light' })
    const placement = await pinErasure({ node: pinner.node, rs, keyPair: pinner.keyPair, drive: 'ab'.repeat(32), version: 1, bytes: crypto.randomBytes(3 * 16384), scheme: { k: 2, m: 1 }, shardBytes: 16384, discoverMs: 10_000 })
    const channels = new ShardChannels(pinner.node)
    channels.start()
    onTestFinished(() => { channels.stop() })
    await pinner.node.joinTopic(holdersTopic(), { server: false, client: true })
    const hold = placement.holds[0]!
    await until('the holder is reached', () => channels.holders().some(p => p.publicKey === hold.holder))
    const peer = channels.holders().find(p => p.publicKey === hold.holder)
    // the request is on the wire; the connection goes before the answer can come back
    const pending = challengeShard(peer, placement.pin, hold, 0, 0.5, pinner.keyPair)
    connectionTo(pinner, hold.holder)!.destroy()
    expect(await pending).toBeNull()
    // with no channel at all it is a failure, marked unreachable
    const gone = await challengeShard(undefined, placement.pin, hold, 0, 0.5, pinner.keyPair)
    expect(gone).toMatchObject({ ok: false, unreachable: true, holder: hold.holder })
    expect(holders).toHaveLength(3)
  }, 120_000)
})

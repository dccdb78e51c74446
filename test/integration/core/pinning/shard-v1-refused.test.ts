import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import { holdersTopic } from '../../../../src/core/pinning/pin-protocol.ts'
import { SHARD_PROTOCOL_V1 } from '../../../../src/core/pinning/index.ts'
import { RequestChannels, RequestPeer, type ChannelMessage } from '../../../../src/core/request-channels.ts'
import { keyedNode, shardHolderNode } from '../../../helpers/holders.ts'
import { testnet } from '../../../helpers/testnet.ts'

/** A v1 reader's message, as it sent them: an offer from the holder, a `get` without a nonce. */
type V1 = ChannelMessage & Record<string, unknown>

describe('shard protocol versions', () => {
  it('a v1 reader meets a v2 holder: it sees no room on offer and its get is refused with PIN_PROTOCOL naming v2, not answered', async () => {
    const net = await testnet()
    const holder = await shardHolderNode(net)
    const old = await keyedNode(net, { tier: 'light' })
    const offers: number[] = []
    const channels = new RequestChannels<V1, RequestPeer<V1>>(old.node, {
      protocol: SHARD_PROTOCOL_V1, label: 'shard', maxMessageBytes: 2 * 1024 * 1024, decode: m => m as V1, answers: new Set(['data'])
    }, { peer: (key, wire, proto) => new RequestPeer(key, wire, proto), onmessage: (_p, m) => { if (m.type === 'offer') offers.push(m.free as number) } })
    channels.start()
    await old.node.joinTopic(holdersTopic(), { server: false, client: true })
    for (let i = 0; i < 100 && offers.length === 0; i++) await new Promise(resolve => setTimeout(resolve, 100))
    expect(offers).toEqual([0])
    const peer = channels.peer(holder.node.publicKey)!
    const err = await peer.request({ type: 'get', root: 'ab'.repeat(32), shard: 0, stripe: 0 }, 10_000).then(() => null, (e: unknown) => e)
    expect(err).toBeInstanceOf(ShadwError)
    expect((err as ShadwError).code).toBe('PIN_PROTOCOL')
    expect((err as ShadwError).message).toContain('shadw/shard/v2')
    channels.stop()
  }, 60_000)
})

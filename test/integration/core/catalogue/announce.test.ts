import b4a from 'b4a'
import c, { type State } from 'compact-encoding'
import Protomux from 'protomux'
import { describe, expect, it, onTestFinished } from 'vitest'
import { Catalogue, REGISTRIES_PROTOCOL } from '../../../../src/core/catalogue/index.ts'
import { keyedNode, until } from '../../../helpers/invoke.ts'
import { testnet } from '../../../helpers/testnet.ts'

/** The handshake as bytes the test chooses: a flags byte and a raw buffer. */
const RAW_HANDSHAKE = {
  preencode (s: State, m: { flags: number, keys: Uint8Array }): void { c.uint8.preencode(s, m.flags); c.buffer.preencode(s, m.keys) },
  encode (s: State, m: { flags: number, keys: Uint8Array }): void { c.uint8.encode(s, m.flags); c.buffer.encode(s, m.keys) },
  decode (s: State): unknown { return { flags: c.uint8.decode(s), keys: c.buffer.decode(s) } }
}

const KEY = (n: number): Uint8Array => new Uint8Array(32).fill(n)

describe('registry announcements', () => {
  it('follow at most the catalogue\'s publisher bound, and a malformed handshake closes the channel only', async () => {
    const net = await testnet()
    const learner = await keyedNode(net, 'super')
    const catalogue = new Catalogue({ host: learner.node, publicKey: learner.node.publicKey, executes: false, served: () => [], maxPublishers: 2 })
    catalogue.start()
    onTestFinished(() => { catalogue.stop() })
    const peer = await keyedNode(net, 'super')
    await until('a connection to the learner', () => peer.node.connections().some(([, p]) => p.publicKey === learner.node.publicKey))
    const [conn] = peer.node.connections().find(([, p]) => p.publicKey === learner.node.publicKey) as [Parameters<typeof Protomux.from>[0], unknown]
    const open = (keys: Uint8Array): { closed: () => boolean, close: () => void } => {
      let closed = false
      const channel = Protomux.from(conn).createChannel({ protocol: REGISTRIES_PROTOCOL, handshake: RAW_HANDSHAKE, onclose: () => { closed = true } })
      if (channel === null) throw new Error('a channel of the protocol is open already')
      channel.open({ flags: 1, keys })
      return { closed: () => closed, close: () => { channel.close() } }
    }

    // five well-formed keys from an executor: two followed, three skipped, each followed one held by that executor
    const first = open(b4a.concat([1, 2, 3, 4, 5].map(KEY)))
    await until('the announcement to be heard', () => catalogue.stats().skipped === 3)
    expect(catalogue.stats()).toMatchObject({ publishers: 2, skipped: 3, entries: 0 })
    expect([catalogue.index.holders(b4a.toString(KEY(1), 'hex')), catalogue.index.holders(b4a.toString(KEY(3), 'hex'))]).toEqual([1, 0])
    expect(first.closed()).toBe(false)

    // closing it forgets the executor as a holder
    first.close()
    await until('the holder to be forgotten', () => catalogue.index.holders(b4a.toString(KEY(1), 'hex')) === 0)

    // 33 bytes is no list of keys; 65 keys is over the bound: the learner closes each channel, the connection stays
    for (const keys of [new Uint8Array(33), new Uint8Array(65 * 32)]) {
      const { closed } = open(keys)
      await until('the learner to close the channel', () => closed())
      expect(catalogue.stats()).toMatchObject({ publishers: 2, skipped: 3 })
      expect(peer.node.connections().some(([, p]) => p.publicKey === learner.node.publicKey)).toBe(true)
    }
  }, 60_000)
})

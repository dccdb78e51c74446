/**
 * ConnectionChannels (src/core/connection-channels.ts) on a real Protomux over an in-memory
 * Noise stream: one instance stopped and started again reopens its channel on the
 * connections it already had, and a stopped one no longer answers a peer's open.
 */
import NoiseSecretStream from '@hyperswarm/secret-stream'
import type { SwarmConnection } from 'hyperswarm'
import type Protomux from 'protomux'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ConnectionChannels, type ConnectionHost } from '../../../src/core/connection-channels.ts'
import type { PeerStatus } from '../../../src/core/node/index.ts'
import { noisePair } from '../../helpers/noise-pair.ts'

const PROTOCOL = 'shadw/test-channels/v1'

/** A narrow fake of our own ConnectionHost holding one connection. */
function hostOf (conn: NoiseSecretStream): ConnectionHost {
  const peer: PeerStatus = { publicKey: '', transport: 'udx', initiator: conn.isInitiator }
  return {
    on: () => () => {},
    connections: () => [[conn as unknown as SwarmConnection, peer]]
  }
}

/** Channels of one side that count their opens and closes. */
function side (conn: NoiseSecretStream): { channels: ConnectionChannels, opened: () => number, closed: () => number } {
  let opened = 0
  let closed = 0
  const channels = new ConnectionChannels(hostOf(conn), PROTOCOL, (_conn, mux: Protomux) => {
    const ch = mux.createChannel({ protocol: PROTOCOL, unique: true, onopen: () => { opened++ }, onclose: () => { closed++ } })
    ch?.open()
    return ch
  })
  onTestFinished(() => { channels.stop() })
  return { channels, opened: () => opened, closed: () => closed }
}

/** Waits for `fn`, a bounded number of short turns. */
async function until (what: string, fn: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !fn(); i++) await new Promise(resolve => setTimeout(resolve, 10))
  if (!fn()) throw new Error(`timed out waiting until ${what}`)
}

describe('ConnectionChannels', () => {
  it('a dozen protocols on one connection add no close listener to it (a node speaks many; each new connection would pass the emitter\'s ten)', async () => {
    const [x] = noisePair()
    // the stream is a Node EventEmitter; its typings leave listenerCount out
    const closeListeners = (): number => (x as unknown as { listenerCount: (event: string) => number }).listenerCount('close')
    const before = closeListeners()
    const started = Array.from({ length: 12 }, (_, i) => new ConnectionChannels(hostOf(x), `${PROTOCOL}/${i}`, (_conn, mux: Protomux) => {
      const ch = mux.createChannel({ protocol: `${PROTOCOL}/${i}`, unique: true })
      ch?.open()
      return ch
    }))
    for (const c of started) c.start()
    onTestFinished(() => { for (const c of started) c.stop() })
    // Protomux's own listeners come with the first protocol; the protocols add none of theirs
    const withMux = closeListeners()
    expect(withMux - before).toBeLessThanOrEqual(2)
  })

  it('stop() then start() on the same instance reopens its channel on an existing connection, and the peer\'s pairing answers it', async () => {
    const [x, y] = noisePair()
    const a = side(x)
    const b = side(y)
    a.channels.start()
    b.channels.start()
    await until('both channels open', () => a.opened() === 1 && b.opened() === 1)

    a.channels.stop()
    await until('both channels closed', () => a.closed() === 1 && b.closed() === 1)
    a.channels.start()
    await until('both channels open again', () => a.opened() === 2 && b.opened() === 2)

    // and the restarted side answers the peer's next open through its pairing
    b.channels.stop()
    await until('both channels closed again', () => a.closed() === 2 && b.closed() === 2)
    b.channels.start()
    await until('both channels open a third time', () => a.opened() === 3 && b.opened() === 3)
    // start() is safe to call twice: no second channel
    a.channels.start()
    b.channels.start()
    expect([a.opened(), b.opened()]).toEqual([3, 3])
  })

  it('a stopped instance is unpaired: the peer\'s open is rejected, not answered', async () => {
    const [x, y] = noisePair()
    const a = side(x)
    const b = side(y)
    a.channels.start()
    b.channels.start()
    await until('both channels open', () => a.opened() === 1 && b.opened() === 1)
    a.channels.stop()
    b.channels.stop()
    await until('both channels closed', () => a.closed() === 1 && b.closed() === 1)
    b.channels.start()
    await until('the peer rejected the open', () => b.closed() === 2)
    expect([a.opened(), b.opened()]).toEqual([1, 1])
  })
})

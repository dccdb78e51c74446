import { describe, expect, it, onTestFinished } from 'vitest'
import wrtc from '@roamhq/wrtc'
import { ChannelDuplex, CHANNEL_HIGH_BYTES, MAX_LINK_CHUNK_BYTES, type DataChannelLike } from '../../../../src/core/links/channel-duplex.ts'
import { PeerConnection } from '../../../../src/core/links/peer-connection.ts'
import type { SignalData } from '../../../../src/core/links/signal-protocol.ts'
import { DEFAULT_WEBRTC_CONFIG } from '../../../../src/core/links/link-protocol.ts'

/** Bound on a connection coming up and on each transfer below. */
const TIMEOUT_MS = 20_000

/**
 * Two PeerConnections (the page half of a link) on real libwebrtc (@roamhq/wrtc), signalled
 * to each other directly: each gets its negotiated channel at once, before any signal.
 */
function pair (): { a: PeerConnection, b: PeerConnection, connected: Promise<void>, errors: string[] } {
  const errors: string[] = []
  let a: PeerConnection | null = null
  let b: PeerConnection | null = null
  let up = 0
  let done: () => void = () => {}
  const connected = new Promise<void>(resolve => { done = resolve })
  const handlers = (to: () => PeerConnection | null): ConstructorParameters<typeof PeerConnection>[1] => ({
    onsignal: (signal: SignalData) => { setImmediate(() => { to()?.signal(signal) }) },
    onconnect: () => { if (++up === 2) done() },
    onclose: (err) => { if (err !== null) errors.push(err.code) }
  })
  a = new PeerConnection({ initiator: true, ice: DEFAULT_WEBRTC_CONFIG.ice, rtc: wrtc }, handlers(() => b))
  b = new PeerConnection({ initiator: false, ice: DEFAULT_WEBRTC_CONFIG.ice, rtc: wrtc }, handlers(() => a))
  onTestFinished(() => { a?.close(); b?.close() })
  return { a, b, connected, errors }
}

async function readBytes (duplex: ChannelDuplex, total: number): Promise<Uint8Array> {
  const out = new Uint8Array(total)
  let got = 0
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`read ${got} of ${total} bytes`)) }, TIMEOUT_MS)
    duplex.on('data', (data: unknown) => {
      const chunk = data as Uint8Array
      out.set(chunk, got)
      got += chunk.byteLength
      if (got >= total) { clearTimeout(timer); resolve(out) }
    })
  })
}

describe('a link\'s data channel, read and written where the Noise stream runs (ChannelDuplex)', () => {
  it('holds writes until the negotiated channel opens, then carries a byte stream in order, in chunks the channel takes', async () => {
    const { a, b, connected, errors } = pair()
    // made before any signal, as the page hands them to the worker: still connecting
    expect(a.channel.readyState).toBe('connecting')
    const da = new ChannelDuplex(a.channel)
    const db = new ChannelDuplex(b.channel)
    onTestFinished(() => { da.destroy(); db.destroy() })
    // written while connecting: streamx holds it until _open (the channel's open)
    const big = new Uint8Array(3 * MAX_LINK_CHUNK_BYTES + 123).map((_, i) => (i * 7) & 0xff)
    const small = new Uint8Array([1, 2, 3])
    da.write(small)
    da.write(big)
    const read = readBytes(db, small.byteLength + big.byteLength)
    await connected
    const bytes = await read
    expect(bytes.subarray(0, 3)).toEqual(small)
    expect(bytes.subarray(3)).toEqual(big)
    expect(da.bytesOut).toBe(small.byteLength + big.byteLength)
    expect(db.bytesIn).toBe(small.byteLength + big.byteLength)
    expect(errors).toEqual([])
  })

  it('pushes back while the channel buffers more than its window, and resumes as it drains', async () => {
    const { a, b, connected } = pair()
    const da = new ChannelDuplex(a.channel)
    const db = new ChannelDuplex(b.channel)
    onTestFinished(() => { da.destroy(); db.destroy() })
    await connected
    const chunk = new Uint8Array(MAX_LINK_CHUNK_BYTES)
    // 4 MiB in one go: write() says "wait" once the channel's buffer passed the window
    let refused = 0
    const total = 4 * CHANNEL_HIGH_BYTES
    const read = readBytes(db, total)
    for (let sent = 0; sent < total; sent += chunk.byteLength) if (!da.write(chunk)) refused++
    expect(refused).toBeGreaterThan(0)
    expect((await read).byteLength).toBe(total)
    expect((a.channel as DataChannelLike).bufferedAmount).toBeLessThanOrEqual(CHANNEL_HIGH_BYTES)
  })

  it('closes the stream when the peer connection goes, and a text message closes the link', async () => {
    const { a, b, connected } = pair()
    const da = new ChannelDuplex(a.channel)
    const db = new ChannelDuplex(b.channel)
    await connected
    // streamx opens a stream only on its first read or write: wait on the channels themselves
    for (let i = 0; i < 200 && (a.channel.readyState !== 'open' || b.channel.readyState !== 'open'); i++) await new Promise(resolve => setTimeout(resolve, 50))
    expect([a.channel.readyState, b.channel.readyState]).toEqual(['open', 'open'])
    const closed = new Promise<Error | undefined>(resolve => { db.on('error', resolve); db.on('close', () => { resolve(undefined) }) })
    // a peer that is not a shadw link: text on the channel
    ;(a.channel as unknown as { send (s: string): void }).send('hello')
    const err = await closed
    expect(err).toMatchObject({ code: 'LINK_FAILED' })
    const aClosed = new Promise<void>(resolve => { da.on('close', resolve) })
    b.close()
    await aClosed
  })
})

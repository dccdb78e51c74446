import NoiseSecretStream from '@hyperswarm/secret-stream'
import c from 'compact-encoding'
import Protomux from 'protomux'
import { describe, expect, it } from 'vitest'
import type { ShadwError } from '../../../../src/core/errors.ts'
import { MAX_SIGNALS_PER_ATTEMPT, MAX_SIGNAL_BYTES, SIGNAL_PROTOCOL, SignalChannel, decodeSignalMessage, encodeSignalMessage, type SignalMessage } from '../../../../src/core/links/signal-protocol.ts'
import { noisePair } from '../../../helpers/noise-pair.ts'

const offer: SignalMessage = { attempt: 1, signal: { type: 'offer', sdp: 'v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n' } }

function codeOf (fn: () => unknown): string {
  try {
    fn()
    return 'no error'
  } catch (err) {
    return (err as ShadwError).code
  }
}

describe('signalling channel (shadw/signal/v2)', () => {
  it('carries offers, answers and candidates between two ends of a connection', async () => {
    const [a, b] = noisePair()
    const got: SignalMessage[] = []
    let receiver: SignalChannel | null = null
    const opened = new Promise<void>(resolve => { receiver = new SignalChannel(b, { onopen: () => { resolve() }, onsignal: m => { got.push(m) } }, 'shadow') })
    const sender = new SignalChannel(a, { onsignal: () => {} }, 'super')
    await opened
    await new Promise<void>(resolve => { setImmediate(resolve) })
    expect(sender.opened).toBe(true)
    expect((receiver as SignalChannel | null)?.opened).toBe(true)
    expect((receiver as SignalChannel | null)?.remoteTier).toBe('super')
    expect(sender.remoteTier).toBe('shadow')
    expect(sender.send(offer)).toBe(true)
    expect(sender.send({ attempt: 1, signal: { type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host', sdpMLineIndex: 0, sdpMid: '0' } } })).toBe(true)
    expect(sender.send({ attempt: 1, signal: { type: 'bye', reason: 'TIMEOUT' } })).toBe(true)
    await until(() => got.length === 3)
    expect(got).toEqual([
      offer,
      { attempt: 1, signal: { type: 'candidate', candidate: { candidate: 'candidate:1 1 udp 2122260223 127.0.0.1 5000 typ host', sdpMLineIndex: 0, sdpMid: '0' } } },
      { attempt: 1, signal: { type: 'bye', reason: 'TIMEOUT' } }
    ])
  })

  it('refuses malformed, unknown and oversized signals with SIGNAL_INVALID', () => {
    expect(decodeSignalMessage(encodeSignalMessage(offer))).toEqual(offer)
    expect(codeOf(() => decodeSignalMessage(new Uint8Array(MAX_SIGNAL_BYTES + 1)))).toBe('SIGNAL_INVALID')
    expect(codeOf(() => decodeSignalMessage(new Uint8Array([1, 3, 0x7b, 0x7b, 0x7b])))).toBe('SIGNAL_INVALID')
    expect(codeOf(() => decodeSignalMessage('offer'))).toBe('SIGNAL_INVALID')
    expect(codeOf(() => encodeSignalMessage({ attempt: 1, signal: { type: 'renegotiate' } as unknown as SignalMessage['signal'] }))).toBe('SIGNAL_INVALID')
    expect(codeOf(() => encodeSignalMessage({ attempt: 1, signal: { type: 'offer', sdp: 'x'.repeat(MAX_SIGNAL_BYTES) } }))).toBe('SIGNAL_INVALID')
    expect(codeOf(() => encodeSignalMessage({ attempt: 1, signal: { type: 'candidate', candidate: { candidate: 'c', sdpMLineIndex: -1, sdpMid: null } } }))).toBe('SIGNAL_INVALID')
    expect(codeOf(() => encodeSignalMessage({ attempt: 1, signal: { type: 'candidate', candidate: { candidate: 'c'.repeat(1025), sdpMLineIndex: 0, sdpMid: null } } }))).toBe('SIGNAL_INVALID')
  })

  it('closes the channel, not the connection, on a bad handshake, a malformed message or a flood', async () => {
    for (const abuse of ['bad tier', 'garbage', 'flood'] as const) {
      const [a, b] = noisePair()
      let closedWith: ShadwError | null = null
      let delivered = 0
      const victim = new SignalChannel(b, { onsignal: () => { delivered++ }, onclose: err => { closedWith = err } }, 'shadow')
      const mux = Protomux.from(a)
      const raw = mux.createChannel({ protocol: SIGNAL_PROTOCOL, unique: true, handshake: c.raw })
      const message = raw!.addMessage<Uint8Array>({})
      raw!.open(new TextEncoder().encode(abuse === 'bad tier' ? 'emperor' : 'shadow'))
      await raw!.fullyOpened()
      if (abuse === 'bad tier') { /* the handshake alone must close it */ } else if (abuse === 'garbage') message.send(new Uint8Array([1, 200, 1, 2, 3]))
      else for (let i = 0; i <= MAX_SIGNALS_PER_ATTEMPT; i++) message.send(encodeSignalMessage(offer))
      await until(() => closedWith !== null)
      expect((closedWith as ShadwError | null)?.code).toBe('SIGNAL_INVALID')
      expect(victim.opened).toBe(false)
      expect(delivered).toBe(abuse === 'flood' ? MAX_SIGNALS_PER_ATTEMPT : 0)
      // the connection is intact: a second protocol on it still opens
      const other = (p: NoiseSecretStream): Promise<boolean> => { const ch = Protomux.from(p).createChannel({ protocol: 'other' })!; ch.open(); return ch.fullyOpened() }
      expect(await Promise.all([other(a), other(b)])).toEqual([true, true])
      expect(b.destroyed).toBe(false)
    }
  })
})

async function until (fn: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!fn()) {
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, 10))
  }
}

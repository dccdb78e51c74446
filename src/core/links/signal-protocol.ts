import c from 'compact-encoding'
import Protomux, { type ProtomuxChannel, type ProtomuxMessage } from 'protomux'
import type { SwarmConnection } from 'hyperswarm'
import { encodeFields, put } from '../encoding.ts'
import { ShadwError } from '../errors.ts'
import type { NodeTier } from '../node/index.ts'
import { describeValue } from '../describe.ts'

/**
 * The signalling channel: WebRTC offers, answers and ICE candidates travel between two nodes
 * over a Protomux channel on a swarm connection they already share (Noise-encrypted and
 * authenticated by the swarm), so no signalling server is needed. See docs/protocol.md,
 * "Signalling channel". v2: the link's data channel is negotiated out of band (both sides
 * create it as stream 0), which a v1 peer (simple-peer, in-band open) would never open.
 */
export const SIGNAL_PROTOCOL = 'shadw/signal/v2'

/**
 * Largest signalling message accepted from a peer. Chromium's offers with one data channel
 * are ~600 bytes and a candidate ~200; 16 KiB leaves room for many ICE credentials and
 * fingerprints while bounding what a peer can make us parse.
 */
export const MAX_SIGNAL_BYTES = 16 * 1024

/**
 * Most messages one link attempt may carry (one offer or answer plus trickled candidates,
 * a few per network interface): a peer flooding candidates gets the channel closed.
 */
export const MAX_SIGNALS_PER_ATTEMPT = 128

const TIERS: ReadonlySet<string> = new Set<NodeTier>(['super', 'storm', 'light', 'shadow'])

/** Largest attempt number: attempts count up per channel and never need more. */
const MAX_ATTEMPT = 0xffff

/** Offers, answers and trickled candidates (RTCPeerConnection's forms, as simple-peer sent them), and ours. */
export type SignalData =
  | { type: 'offer' | 'answer', sdp: string }
  | { type: 'candidate', candidate: { candidate: string, sdpMLineIndex: number | null, sdpMid: string | null } }
  /** ours: the sender gave up on this attempt (timeout, ICE failure); the receiver stops too */
  | { type: 'bye', reason: string }

/** One message on the channel: which attempt it belongs to and the signal. */
export interface SignalMessage {
  attempt: number
  signal: SignalData
}

/**
 * Validates a signal from a peer or the page: only the fields and types a peer connection needs,
 * with every string bounded. Anything else is refused with `SIGNAL_INVALID`.
 */
export function parseSignal (value: unknown): SignalData {
  if (typeof value !== 'object' || value === null) throw ShadwError.SIGNAL_INVALID('signal is not an object')
  const v = value as Record<string, unknown>
  switch (v['type']) {
    case 'offer':
    case 'answer':
      if (typeof v['sdp'] !== 'string' || v['sdp'].length === 0 || v['sdp'].length > MAX_SIGNAL_BYTES) throw ShadwError.SIGNAL_INVALID(`${v['type']} needs an sdp of 1-${MAX_SIGNAL_BYTES} characters`)
      return { type: v['type'], sdp: v['sdp'] }
    case 'candidate': {
      const cand = v['candidate'] as Record<string, unknown> | null
      if (typeof cand !== 'object' || cand === null) throw ShadwError.SIGNAL_INVALID('candidate must be an object')
      const line = cand['candidate']
      const index = cand['sdpMLineIndex'] ?? null
      const mid = cand['sdpMid'] ?? null
      if (typeof line !== 'string' || line.length > 1024) throw ShadwError.SIGNAL_INVALID('candidate line must be a string of at most 1024 characters')
      if (index !== null && (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index > 64)) throw ShadwError.SIGNAL_INVALID('sdpMLineIndex must be a small integer')
      if (mid !== null && (typeof mid !== 'string' || mid.length > 64)) throw ShadwError.SIGNAL_INVALID('sdpMid must be a short string')
      return { type: 'candidate', candidate: { candidate: line, sdpMLineIndex: index, sdpMid: mid } }
    }
    case 'bye':
      if (typeof v['reason'] !== 'string' || v['reason'].length > 256) throw ShadwError.SIGNAL_INVALID('bye needs a reason of at most 256 characters')
      return { type: 'bye', reason: v['reason'] }
    default:
      throw ShadwError.SIGNAL_INVALID(`unknown signal type ${describeValue(v['type']).slice(0, 40)}`)
  }
}

/** Wire form: `uint attempt`, then the signal as a compact-encoding string of JSON. */
export function encodeSignalMessage (msg: SignalMessage): Uint8Array {
  const json = JSON.stringify(parseSignal(msg.signal))
  const bytes = encodeFields((s, pre) => {
    put(s, pre, c.uint, msg.attempt)
    put(s, pre, c.string, json)
  })
  if (bytes.byteLength > MAX_SIGNAL_BYTES) throw ShadwError.SIGNAL_INVALID(`signal of ${bytes.byteLength} bytes exceeds ${MAX_SIGNAL_BYTES}`)
  return bytes
}

/** Parses a message from a peer: size first, then structure, then the signal itself. */
export function decodeSignalMessage (bytes: unknown): SignalMessage {
  if (!(bytes instanceof Uint8Array)) throw ShadwError.SIGNAL_INVALID('message is not bytes')
  if (bytes.byteLength > MAX_SIGNAL_BYTES) throw ShadwError.SIGNAL_INVALID(`message of ${bytes.byteLength} bytes exceeds ${MAX_SIGNAL_BYTES}`)
  let attempt: number
  let json: string
  try {
    const state = c.state(0, bytes.byteLength, bytes)
    attempt = c.uint.decode(state)
    json = c.string.decode(state)
    if (state.start !== state.end) throw new Error('trailing bytes')
  } catch (err) {
    throw ShadwError.SIGNAL_INVALID(`undecodable message: ${(err as Error).message}`)
  }
  if (attempt > MAX_ATTEMPT) throw ShadwError.SIGNAL_INVALID('attempt number out of range')
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    throw ShadwError.SIGNAL_INVALID('signal is not JSON')
  }
  return { attempt, signal: parseSignal(value) }
}

/** What a signalling channel tells its owner. */
export interface SignalChannelHandlers {
  /** both sides opened the channel: the peer speaks the protocol and can take a link */
  onopen?: (remoteTier: NodeTier) => void
  onsignal: (msg: SignalMessage) => void
  /** the channel closed (peer closed it, the connection ended, or the peer misbehaved) */
  onclose?: (err: ShadwError | null) => void
}

/**
 * One signalling channel on one swarm connection. It shares the connection's Protomux with
 * Corestore replication. Created synchronously when the connection appears, before the
 * peer's open can arrive (Protomux rejects opens for protocols nobody has created yet).
 * A peer that sends a malformed message or floods an attempt gets the channel closed, never
 * the connection: replication over it goes on.
 */
export class SignalChannel {
  readonly conn: SwarmConnection
  readonly #channel: ProtomuxChannel | null
  readonly #message: ProtomuxMessage | null
  readonly #handlers: SignalChannelHandlers
  readonly #counts = new Map<number, number>()
  #open = false
  #closed = false
  /** the tier the peer announced in its open handshake */
  remoteTier: NodeTier | null = null
  #error: ShadwError | null = null

  /** `tier`: this node's tier, sent in the open handshake (super nodes never link to each other). */
  constructor (conn: SwarmConnection, handlers: SignalChannelHandlers, tier: NodeTier) {
    this.conn = conn
    this.#handlers = handlers
    const mux = Protomux.from(conn)
    this.#channel = mux.createChannel({
      protocol: SIGNAL_PROTOCOL,
      unique: true,
      // raw bytes, parsed here: a handshake Protomux fails to decode would end the connection
      handshake: c.raw,
      // Protomux calls onopen before it marks the channel opened; send() must work inside it
      onopen: (handshake: unknown) => { this.#onopen(handshake) },
      onclose: () => { this.#onclose() }
    })
    if (this.#channel === null) {
      // already one on this connection (unique): nothing to do here
      this.#message = null
      this.#closed = true
      return
    }
    this.#message = this.#channel.addMessage<Uint8Array>({ onmessage: (bytes) => { this.#onmessage(bytes) } })
    this.#channel.open(new TextEncoder().encode(tier))
  }

  /** False when the connection already had a signalling channel (or was destroyed): this one is inert. */
  get created (): boolean {
    return this.#channel !== null
  }

  /** True once both sides opened the channel and until it closes. */
  get opened (): boolean {
    return this.#open && !this.#closed
  }

  /** Sends a signal; false when the channel is not open (the caller's attempt then times out). */
  send (msg: SignalMessage): boolean {
    if (!this.opened || this.#message === null) return false
    return this.#message.send(encodeSignalMessage(msg))
  }

  close (err: ShadwError | null = null): void {
    if (this.#closed) return
    this.#error = err
    this.#channel?.close()
  }

  #onopen (handshake: unknown): void {
    const tier = handshake instanceof Uint8Array && handshake.byteLength <= 16 ? new TextDecoder().decode(handshake) : ''
    if (!TIERS.has(tier)) {
      this.close(ShadwError.SIGNAL_INVALID('open handshake must name a node tier'))
      return
    }
    this.remoteTier = tier as NodeTier
    this.#open = true
    this.#handlers.onopen?.(this.remoteTier)
  }

  #onmessage (bytes: Uint8Array): void {
    let msg: SignalMessage
    try {
      msg = decodeSignalMessage(bytes)
      const n = (this.#counts.get(msg.attempt) ?? 0) + 1
      if (n > MAX_SIGNALS_PER_ATTEMPT) throw ShadwError.SIGNAL_INVALID(`more than ${MAX_SIGNALS_PER_ATTEMPT} signals in attempt ${msg.attempt}`)
      this.#counts.set(msg.attempt, n)
    } catch (err) {
      this.close(err as ShadwError)
      return
    }
    this.#handlers.onsignal(msg)
  }

  #onclose (): void {
    if (this.#closed) return
    this.#closed = true
    this.#handlers.onclose?.(this.#error)
  }
}

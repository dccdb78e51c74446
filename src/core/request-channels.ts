/**
 * A request channel: one Protomux protocol on every connection, carrying JSON control
 * messages with an optional binary payload, where requests carry an id their answer repeats.
 * The pin, shard and proof protocols all run on it; each keeps its own message types, its
 * decoder and its handlers.
 *
 * Two Protomux messages per channel, in one stream so their order holds:
 * - message 0: the JSON of a message (`c.buffer`), as every protocol sent before payloads;
 * - message 1: the JSON of a message without its `bytes` field, then `bytes` raw
 *   (`c.buffer` each) — so bulk data (shards) crosses without hex or JSON.
 * A message object with a `bytes` field holding a Uint8Array goes as message 1; a receiver
 * sees the payload back in `bytes` before its protocol's decoder checks the message.
 *
 * A request resolves with the answer of its id (one of the protocol's answer types), rejects
 * with the peer's typed error on `refused`, with `TIMEOUT` past its deadline (or past
 * `idleMs` without a `progress` naming it, where the protocol has one), and with
 * `NODE_CLOSED` when the channel closes. An answer that names no pending request is dropped.
 * A malformed message closes the channel.
 */
import b4a from 'b4a'
import c, { type State } from 'compact-encoding'
import type Protomux from 'protomux'
import type { ProtomuxChannel, ProtomuxMessage } from 'protomux'
import type { SwarmConnection } from 'hyperswarm'
import { ConnectionChannels, type ConnectionHost } from './connection-channels.ts'
import { ShadwError, isErrorCode } from './errors.ts'
import { log } from './log.ts'

const debug = log('channels')

/** Every message: an object with a `type`. */
export interface ChannelMessage { type: string }

/** What one protocol tells the channel. */
export interface RequestProtocol<M extends ChannelMessage> {
  /** Protomux protocol name */
  protocol: string
  /** names the channel in errors (`<label> channel closed`) */
  label: string
  /** the largest message accepted, JSON and payload together */
  maxMessageBytes: number
  /** checks one parsed message (a binary payload sits in `bytes`). @throws ShadwError `PIN_PROTOCOL` */
  decode: (v: Record<string, unknown>) => M
  /** the message types that answer a request (besides `refused`) */
  answers: ReadonlySet<string>
  /** the message type that tells a pending request its peer is still at it, if any */
  progress?: string
}

/** Compact encoding of message 1: the JSON head, then the payload. */
const WITH_PAYLOAD = {
  preencode (state: State, m: { head: Uint8Array, body: Uint8Array }): void { c.buffer.preencode(state, m.head); c.buffer.preencode(state, m.body) },
  encode (state: State, m: { head: Uint8Array, body: Uint8Array }): void { c.buffer.encode(state, m.head); c.buffer.encode(state, m.body) },
  decode (state: State): { head: Uint8Array | null, body: Uint8Array | null } { return { head: c.buffer.decode(state), body: c.buffer.decode(state) } }
}

/** The refusal every protocol answers a failed request with. */
export interface Refused { type: 'refused', id: number, code: string, message: string }

interface Pending { resolve: (m: ChannelMessage) => void, reject: (err: Error) => void, timer: ReturnType<typeof setTimeout>, idle: ReturnType<typeof setTimeout> | undefined, arm: () => void }

/** How a peer sends on its channel: made by the channel set, handed to the peer's constructor. */
export interface Wire { channel: ProtomuxChannel, json: ProtomuxMessage, payload: ProtomuxMessage<{ head: Uint8Array, body: Uint8Array }> }

/**
 * One peer's end of a request channel: sends, and requests with answers. `Req` is what may
 * be requested (without an id), `A` what answers resolve with.
 */
export class RequestPeer<M extends ChannelMessage, Req extends ChannelMessage = M, A extends ChannelMessage = M> {
  /** the peer's node key (64 hex) */
  readonly publicKey: string
  readonly #wire: Wire
  readonly #proto: RequestProtocol<M>
  #nextId = 1
  readonly #pending = new Map<number, Pending>()

  constructor (publicKey: string, wire: Wire, proto: RequestProtocol<M>) {
    this.publicKey = publicKey
    this.#wire = wire
    this.#proto = proto
  }

  get closed (): boolean {
    return this.#wire.channel.closed
  }

  /** Requests waiting for their answer: what a sender bounds its window by. */
  get pending (): number {
    return this.#pending.size
  }

  /** Sends one message; a Uint8Array in `bytes` travels as the binary payload. */
  send (m: M | Refused): void {
    if (this.#wire.channel.closed) return
    const bytes = (m as { bytes?: unknown }).bytes
    if (bytes instanceof Uint8Array) {
      const { bytes: _, ...head } = m as M & { bytes: Uint8Array }
      this.#wire.payload.send({ head: b4a.from(JSON.stringify(head)), body: bytes })
    } else {
      this.#wire.json.send(b4a.from(JSON.stringify(m)))
    }
  }

  /**
   * Sends a request and waits for its answer; with `idleMs`, a peer silent that long (no
   * progress message naming it) is given up on.
   * @throws ShadwError `TIMEOUT`, `NODE_CLOSED`, or the peer's code on `refused`
   */
  async request (m: Req, timeoutMs: number, idleMs?: number): Promise<A> {
    if (this.#wire.channel.closed) throw ShadwError.NODE_CLOSED(`${this.#proto.label} channel closed`)
    const id = this.#nextId++
    return await new Promise<A>((resolve, reject) => {
      const give = (ms: number, what: string) => (): void => {
        const p = this.#pending.get(id)
        this.#pending.delete(id)
        clearTimeout(p?.timer)
        clearTimeout(p?.idle)
        reject(ShadwError.TIMEOUT(`${m.type} ${what} from ${this.publicKey.slice(0, 8)}`, ms))
      }
      const entry: Pending = {
        resolve: resolve as (m: ChannelMessage) => void,
        reject,
        timer: setTimeout(give(timeoutMs, 'answer'), timeoutMs),
        idle: undefined,
        arm: () => {
          clearTimeout(entry.idle)
          if (idleMs !== undefined) entry.idle = setTimeout(give(idleMs, 'progress'), idleMs)
        }
      }
      entry.arm()
      this.#pending.set(id, entry)
      this.send({ ...m, id } as unknown as M)
    })
  }

  /** Settles the request an answer names; false when the message is no answer. */
  settle (m: M): boolean {
    const id = (m as { id?: unknown }).id
    if (typeof id !== 'number') return false
    if (m.type === this.#proto.progress) { this.#pending.get(id)?.arm(); return true }
    if (m.type !== 'refused' && !this.#proto.answers.has(m.type)) return false
    const p = this.#pending.get(id)
    if (p === undefined) return true
    this.#pending.delete(id)
    clearTimeout(p.timer)
    clearTimeout(p.idle)
    if (m.type === 'refused') {
      const r = m as unknown as Refused
      p.reject(new ShadwError(isErrorCode(r.code) ? r.code : 'INTERNAL', r.message.replace(/^[A-Z_]+: /, ''), { details: { holder: this.publicKey } }))
    } else {
      p.resolve(m)
    }
    return true
  }

  /** Fails every pending request: the channel closed. */
  fail (): void {
    for (const p of this.#pending.values()) { clearTimeout(p.timer); clearTimeout(p.idle); p.reject(ShadwError.NODE_CLOSED(`${this.#proto.label} channel closed`)) }
    this.#pending.clear()
  }
}

/** Options of {@link RequestChannels}. */
export interface RequestChannelsOptions<M extends ChannelMessage, P> {
  /** makes the peer object of a new channel (a protocol's subclass of {@link RequestPeer}) */
  peer: (publicKey: string, wire: Wire, proto: RequestProtocol<M>) => P
  /** the channel opened: what a holder announces itself with */
  onopen?: (peer: P) => void
  /** a message other than an answer to our own request */
  onmessage?: (peer: P, m: M) => void
}

/**
 * Decodes one message as it came off the wire: its JSON `head` and, for a message with a
 * payload, the payload bytes (put back in `bytes`); checks the envelope every message shares
 * and hands the object to the protocol's decoder. @throws ShadwError `PIN_PROTOCOL`
 */
export function decodeChannelMessage<M extends ChannelMessage> (proto: RequestProtocol<M>, head: Uint8Array | null, body?: Uint8Array | null): M {
  const bad = (why: string): never => { throw ShadwError.PIN_PROTOCOL(why) }
  if (!(head instanceof Uint8Array)) return bad('message is not bytes')
  if (head.byteLength + (body?.byteLength ?? 0) > proto.maxMessageBytes) bad('message too large')
  let v: unknown
  try { v = JSON.parse(b4a.toString(head)) } catch { bad('message is not JSON') }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad('message is not an object')
  const o = v as Record<string, unknown>
  if (body !== undefined) o.bytes = body ?? new Uint8Array(0)
  return proto.decode(o)
}

/** The protocol's channel on every connection; `start()`/`stop()` are safe to call twice. */
export class RequestChannels<M extends ChannelMessage, P extends RequestPeer<M, ChannelMessage, ChannelMessage>> {
  readonly #proto: RequestProtocol<M>
  readonly #opts: RequestChannelsOptions<M, P>
  readonly #channels: ConnectionChannels
  readonly #peers = new Map<ProtomuxChannel, P>()

  constructor (host: ConnectionHost, proto: RequestProtocol<M>, opts: RequestChannelsOptions<M, P>) {
    this.#proto = proto
    this.#opts = opts
    this.#channels = new ConnectionChannels(host, proto.protocol, (conn, mux) => this.#open(conn, mux))
  }

  start (): void {
    this.#channels.start()
  }

  stop (): void {
    this.#channels.stop()
    for (const p of this.#peers.values()) p.fail()
    this.#peers.clear()
  }

  /** Open peers, one per connection. */
  peers (): P[] {
    return [...this.#peers.values()].filter(p => !p.closed)
  }

  /** The open peer with this key, if connected. */
  peer (publicKey: string): P | undefined {
    return this.peers().find(p => p.publicKey === publicKey)
  }

  #open (conn: SwarmConnection, mux: Protomux): ProtomuxChannel | null {
    const publicKey = b4a.toString(conn.remotePublicKey, 'hex')
    let peer: P | null = null
    const channel = mux.createChannel({
      protocol: this.#proto.protocol,
      unique: true,
      onopen: () => { if (peer !== null) this.#opts.onopen?.(peer) },
      onclose: () => { peer?.fail(); if (channel !== null) this.#peers.delete(channel) }
    })
    if (channel === null) return null
    const receive = (head: Uint8Array | null, body?: Uint8Array | null): void => {
      if (peer === null) return
      let m: M
      try { m = decodeChannelMessage(this.#proto, head, body) } catch (err) {
        debug('closing', this.#proto.protocol, 'channel of', publicKey.slice(0, 8), err)
        channel.close()
        return
      }
      if (peer.settle(m)) return
      this.#opts.onmessage?.(peer, m)
    }
    const json = channel.addMessage({ encoding: c.buffer, onmessage: (bytes: Uint8Array | null) => { receive(bytes) } })
    const payload = channel.addMessage({ encoding: WITH_PAYLOAD, onmessage: (m: { head: Uint8Array | null, body: Uint8Array | null }) => { receive(m.head, m.body) } })
    peer = this.#opts.peer(publicKey, { channel, json, payload }, this.#proto)
    this.#peers.set(channel, peer)
    channel.open()
    return channel
  }
}

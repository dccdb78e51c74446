/**
 * The pin protocol: Protomux protocol `shadw/pin/v1` on every connection of a holder or a
 * pinner. One message kind carries JSON (bounded); holders open with their offer (free
 * space, price), pinners and status readers with none. Requests carry an id the answer
 * repeats. Everything from a peer is checked here; a malformed message closes the channel.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import crypto from 'hypercore-crypto'
import type Protomux from 'protomux'
import type { ProtomuxChannel, ProtomuxMessage } from 'protomux'
import type { SwarmConnection } from 'hyperswarm'
import { ConnectionChannels, type ConnectionHost } from '../connection-channels.ts'
import { ShadwError, isErrorCode, type ErrorCode } from '../errors.ts'
import { isHexKey } from '../hex.ts'
import { log } from '../log.ts'
import type { HoldConfirmation } from './hold-confirmation.ts'
import { parseStorageOrder, verifyReplacementOffer, verifyStandingOrder, type ReplacementOffer, type StandingOrder, type StorageOrder } from '../ledger/index.ts'
import { parsePinRequest, type PinRequest } from './pin-request.ts'

const debug = log('pinning')

/** Protomux protocol name. */
export const PIN_PROTOCOL = 'shadw/pin/v1'
/** A pin message is a request, an offer or a list of confirmations: 512 KiB is far past any of them. */
export const MAX_PIN_MESSAGE_BYTES = 512 * 1024
/** How often a holder fetching a pin tells the pinner it is still at it. */
export const PROGRESS_INTERVAL_MS = 1_000
/**
 * Silence after which a pinner gives up on a holder mid-pin: a holder killed outright sends
 * no close, and its connection would take far longer to time out.
 */
export const PROGRESS_IDLE_MS = 6_000
/** Confirmations in one message: a drive's holders, or one holder's drives per gossip round. */
export const MAX_CONFIRMATIONS = 256

/**
 * What a pin request carries: the pin, and the agreements it comes with. The pinner sends
 * its `order` for this holder and its `standing` order for the drive; a re-pinning holder
 * sends the repairer's signed `replacement` offer (which carries the standing order).
 */
export interface PinAsk { request: PinRequest, order?: StorageOrder, standing?: StandingOrder, replacement?: ReplacementOffer }

/** What a holder tells every peer about itself. */
export interface HolderOffer {
  /** bytes free in its disk budget */
  free: number
  /** µcredits per GiB-month of storage it asks now (on its bonding curve) */
  price: number
  /** µcredits per MiB it serves, now */
  servePrice: number
}

/** Every message of the protocol. */
export type PinMessage =
  | { type: 'offer', offer: HolderOffer }
  | { type: 'pin', id: number } & PinAsk
  | { type: 'progress', id: number }
  | { type: 'held', id: number, confirmation: HoldConfirmation }
  | { type: 'refused', id: number, code: ErrorCode, message: string }
  | { type: 'query', id: number, drive: string }
  | { type: 'holders', id: number, drive: string, replicas: number, confirmations: HoldConfirmation[] }
  | { type: 'gossip', confirmations: HoldConfirmation[] }

function bad (why: string): never {
  throw ShadwError.PIN_PROTOCOL(why)
}

function uint (v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(`${what} must be a non-negative integer`)
  return v
}

/** Confirmations are checked (signature) by whoever keeps them; here only the list's bounds. */
function list (v: unknown): HoldConfirmation[] {
  if (!Array.isArray(v) || v.length > MAX_CONFIRMATIONS) bad(`confirmations must be a list of at most ${MAX_CONFIRMATIONS}`)
  return v as HoldConfirmation[]
}

/** A pinner's signed order (ledger/storage-pin.ts), its failures as this protocol's. */
function order (v: unknown): StorageOrder {
  try {
    return parseStorageOrder(v)
  } catch (err) {
    bad(`pin order: ${(err as Error).message}`)
  }
}

/** A standing order or a replacement offer (ledger/standing-order.ts), checked, its failures as this protocol's. */
function standing (v: unknown): StandingOrder {
  try {
    return verifyStandingOrder(v as StandingOrder)
  } catch (err) {
    bad(`standing order: ${(err as Error).message}`)
  }
}

function replacement (v: unknown): ReplacementOffer {
  try {
    return verifyReplacementOffer(v as ReplacementOffer)
  } catch (err) {
    bad(`replacement: ${(err as Error).message}`)
  }
}

/** Decodes and checks one message from a peer. @throws ShadwError `PIN_PROTOCOL` */
export function decodePinMessage (bytes: Uint8Array): PinMessage {
  if (bytes.byteLength > MAX_PIN_MESSAGE_BYTES) bad('message too large')
  let v: unknown
  try { v = JSON.parse(b4a.toString(bytes)) } catch { bad('message is not JSON') }
  if (typeof v !== 'object' || v === null) bad('message is not an object')
  const m = v as Record<string, unknown>
  switch (m.type) {
    case 'offer': {
      const o = m.offer as Record<string, unknown> | null
      if (typeof o !== 'object' || o === null) bad('offer is not an object')
      return { type: 'offer', offer: { free: uint(o.free, 'free'), price: uint(o.price, 'price'), servePrice: uint(o.servePrice, 'servePrice') } }
    }
    case 'pin': {
      return {
        type: 'pin',
        id: uint(m.id, 'id'),
        request: parsePinRequest(m.request),
        ...(m.order === undefined ? {} : { order: order(m.order) }),
        ...(m.standing === undefined ? {} : { standing: standing(m.standing) }),
        ...(m.replacement === undefined ? {} : { replacement: replacement(m.replacement) })
      }
    }
    case 'progress':
      return { type: 'progress', id: uint(m.id, 'id') }
    case 'held':
      return { type: 'held', id: uint(m.id, 'id'), confirmation: m.confirmation as HoldConfirmation }
    case 'refused':
      return { type: 'refused', id: uint(m.id, 'id'), code: isErrorCode(m.code) ? m.code : 'INTERNAL', message: typeof m.message === 'string' ? m.message.slice(0, 500) : '' }
    case 'query':
      if (!isHexKey(m.drive)) bad('drive must be 64 hex characters')
      return { type: 'query', id: uint(m.id, 'id'), drive: m.drive }
    case 'holders':
      if (!isHexKey(m.drive)) bad('drive must be 64 hex characters')
      return { type: 'holders', id: uint(m.id, 'id'), drive: m.drive, replicas: uint(m.replicas, 'replicas'), confirmations: list(m.confirmations) }
    case 'gossip':
      return { type: 'gossip', confirmations: list(m.confirmations) }
    default:
      return bad('unknown message type')
  }
}

/** An answer to a request: what `PinPeer.request` resolves with. */
export type PinAnswer = Extract<PinMessage, { type: 'held' | 'holders' }>

/** One peer's end of the protocol: its offer (holders only), sends, and requests with answers. */
export class PinPeer {
  /** the peer's node key (64 hex) */
  readonly publicKey: string
  /** the holder's latest offer; null for a peer that holds nothing (a pinner) */
  offer: HolderOffer | null = null
  readonly #channel: ProtomuxChannel
  readonly #message: ProtomuxMessage
  #nextId = 1
  readonly #pending = new Map<number, { resolve: (m: PinAnswer) => void, reject: (err: Error) => void, timer: ReturnType<typeof setTimeout>, idle: ReturnType<typeof setTimeout> | undefined, arm: () => void }>()

  constructor (publicKey: string, channel: ProtomuxChannel, message: ProtomuxMessage) {
    this.publicKey = publicKey
    this.#channel = channel
    this.#message = message
  }

  get closed (): boolean {
    return this.#channel.closed
  }

  send (m: PinMessage): void {
    if (!this.#channel.closed) this.#message.send(b4a.from(JSON.stringify(m)))
  }

  /**
   * Sends a request and waits for its answer. A `refused` answer rejects with the holder's
   * typed error. With `idleMs`, a peer silent that long (no `progress`) is given up on.
   * @throws ShadwError `TIMEOUT`, `NODE_CLOSED` when the channel closes first
   */
  async request (m: ({ type: 'pin' } & PinAsk) | { type: 'query', drive: string }, timeoutMs: number, idleMs?: number): Promise<PinAnswer> {
    if (this.#channel.closed) throw ShadwError.NODE_CLOSED('pin channel closed')
    const id = this.#nextId++
    return await new Promise<PinAnswer>((resolve, reject) => {
      const give = (ms: number, what: string) => (): void => {
        const p = this.#pending.get(id)
        this.#pending.delete(id)
        clearTimeout(p?.timer)
        clearTimeout(p?.idle)
        reject(ShadwError.TIMEOUT(`${m.type} ${what} from ${this.publicKey.slice(0, 8)}`, ms))
      }
      const entry = {
        resolve,
        reject,
        timer: setTimeout(give(timeoutMs, 'answer'), timeoutMs),
        idle: undefined as ReturnType<typeof setTimeout> | undefined,
        arm: () => {
          clearTimeout(entry.idle)
          if (idleMs !== undefined) entry.idle = setTimeout(give(idleMs, 'progress'), idleMs)
        }
      }
      entry.arm()
      this.#pending.set(id, entry)
      this.send({ ...m, id })
    })
  }

  /** Settles the request an answer names; false when it names none (late or foreign). */
  settle (m: PinMessage): boolean {
    if (m.type === 'progress') {
      this.#pending.get(m.id)?.arm()
      return true
    }
    if (m.type !== 'held' && m.type !== 'holders' && m.type !== 'refused') return false
    const p = this.#pending.get(m.id)
    if (p === undefined) return false
    this.#pending.delete(m.id)
    clearTimeout(p.timer)
    clearTimeout(p.idle)
    if (m.type === 'refused') p.reject(new ShadwError(m.code, m.message.replace(/^[A-Z_]+: /, ''), { details: { holder: this.publicKey } }))
    else p.resolve(m)
    return true
  }

  /** Fails every pending request: the channel closed. */
  fail (): void {
    for (const p of this.#pending.values()) { clearTimeout(p.timer); clearTimeout(p.idle); p.reject(ShadwError.NODE_CLOSED('pin channel closed')) }
    this.#pending.clear()
  }
}

/** Options of {@link PinChannels}. */
export interface PinChannelsOptions {
  host: ConnectionHost
  /** this node's offer when it holds for others; null (or absent) for a pinner */
  offer?: () => HolderOffer | null
  /** a message other than an answer to our own request */
  onmessage?: (peer: PinPeer, m: PinMessage) => void
}

/** The protocol on every connection; `start()`/`stop()` are safe to call twice. */
export class PinChannels {
  readonly #opts: PinChannelsOptions
  readonly #channels: ConnectionChannels
  readonly #peers = new Map<ProtomuxChannel, PinPeer>()

  constructor (opts: PinChannelsOptions) {
    this.#opts = opts
    this.#channels = new ConnectionChannels(opts.host, PIN_PROTOCOL, (conn, mux) => this.#open(conn, mux))
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
  peers (): PinPeer[] {
    return [...this.#peers.values()].filter(p => !p.closed)
  }

  /** Open peers that hold for others (they sent an offer). */
  holders (): PinPeer[] {
    return this.peers().filter(p => p.offer !== null)
  }

  /** Sends this node's offer again to every peer (its free space changed). */
  announce (): void {
    const offer = this.#opts.offer?.() ?? null
    if (offer !== null) for (const p of this.peers()) p.send({ type: 'offer', offer })
  }

  #open (conn: SwarmConnection, mux: Protomux): ProtomuxChannel | null {
    const publicKey = b4a.toString(conn.remotePublicKey, 'hex')
    let peer: PinPeer | null = null
    const channel = mux.createChannel({
      protocol: PIN_PROTOCOL,
      unique: true,
      onopen: () => {
        const offer = this.#opts.offer?.() ?? null
        if (offer !== null) peer?.send({ type: 'offer', offer })
      },
      onclose: () => {
        peer?.fail()
        if (channel !== null) this.#peers.delete(channel)
      }
    })
    if (channel === null) return null
    const message = channel.addMessage({
      encoding: c.buffer,
      onmessage: (bytes: Uint8Array) => {
        if (peer === null) return
        let m: PinMessage
        try { m = decodePinMessage(bytes) } catch (err) {
          debug('closing pin channel of', publicKey.slice(0, 8), err)
          channel.close()
          return
        }
        if (m.type === 'offer') { peer.offer = m.offer; return }
        if (peer.settle(m)) return
        this.#opts.onmessage?.(peer, m)
      }
    })
    peer = new PinPeer(publicKey, channel, message)
    this.#peers.set(channel, peer)
    channel.open()
    return channel
  }
}

/** Versioned name of the holders' topic. */
export const HOLDERS_TOPIC_NAME = 'shadw/v1/nodes/holders'

/**
 * The topic holders announce on (and look up, to find each other for re-pins); pinners and
 * status readers look it up. Every peer met there gets the holder's offer on the pin channel.
 */
export function holdersTopic (): Uint8Array {
  return crypto.hash(b4a.from(HOLDERS_TOPIC_NAME))
}

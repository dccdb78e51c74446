/**
 * The pin protocol: Protomux protocol `shadw/pin/v1` on every connection of a holder or a
 * pinner, on a request channel (request-channels.ts): JSON messages (bounded); holders open
 * with their offer (free space, price), pinners and status readers with none. Requests carry
 * an id the answer repeats. Everything from a peer is checked here; a malformed message
 * closes the channel.
 */
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import type { ConnectionHost } from '../connection-channels.ts'
import { ShadwError, isErrorCode, type ErrorCode } from '../errors.ts'
import { isHexKey } from '../hex.ts'
import { decodeChannelMessage, RequestChannels, RequestPeer, type RequestProtocol } from '../request-channels.ts'
import type { HoldConfirmation } from './hold-confirmation.ts'
import { parseStorageOrder, verifyReplacementOffer, verifyStandingOrder, type ReplacementOffer, type StandingOrder, type StorageOrder } from '../ledger/index.ts'
import { parsePinRequest, type PinRequest } from './pin-request.ts'

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

/** What a holder tells every peer about itself. */
export interface HolderOffer {
  /** bytes free in its disk budget */
  free: number
  /** µcredits per GiB-month of storage it asks now (on its bonding curve) */
  price: number
  /** µcredits per MiB it serves, now */
  servePrice: number
}

/**
 * What a pin request carries: the pin, and the agreements it comes with. The pinner sends
 * its `order` for this holder and its `standing` order for the drive; a re-pinning holder
 * sends the repairer's signed `replacement` offer (which carries the standing order).
 */
export interface PinAsk { request: PinRequest, order?: StorageOrder, standing?: StandingOrder, replacement?: ReplacementOffer }

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

/** Checks one message from a peer. @throws ShadwError `PIN_PROTOCOL` */
export function parsePinMessage (m: Record<string, unknown>): PinMessage {
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

const PROTOCOL: RequestProtocol<PinMessage> = {
  protocol: PIN_PROTOCOL,
  label: 'pin',
  maxMessageBytes: MAX_PIN_MESSAGE_BYTES,
  decode: parsePinMessage,
  answers: new Set(['held', 'holders']),
  progress: 'progress'
}

/** Decodes one message as sent without a payload (JSON bytes). @throws ShadwError `PIN_PROTOCOL` */
export function decodePinMessage (bytes: Uint8Array): PinMessage {
  return decodeChannelMessage(PROTOCOL, bytes)
}

/** What may be requested of a peer. */
export type PinRequestMessage = ({ type: 'pin' } & PinAsk) | { type: 'query', drive: string }

/**
 * One peer's end of the protocol: its offer (holders only), sends, and requests with answers.
 * A `pin` request is sent with an idle limit: a holder silent that long (no `progress`) is
 * given up on.
 */
export class PinPeer extends RequestPeer<PinMessage, PinRequestMessage, PinAnswer> {
  /** the holder's latest offer; null for a peer that holds nothing (a pinner) */
  offer: HolderOffer | null = null
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
  readonly #channels: RequestChannels<PinMessage, PinPeer>

  constructor (opts: PinChannelsOptions) {
    this.#opts = opts
    this.#channels = new RequestChannels(opts.host, PROTOCOL, {
      peer: (key, wire, proto) => new PinPeer(key, wire, proto),
      onopen: peer => {
        const offer = opts.offer?.() ?? null
        if (offer !== null) peer.send({ type: 'offer', offer })
      },
      onmessage: (peer, m) => {
        if (m.type === 'offer') peer.offer = m.offer
        else opts.onmessage?.(peer, m)
      }
    })
  }

  start (): void {
    this.#channels.start()
  }

  stop (): void {
    this.#channels.stop()
  }

  /** Open peers, one per connection. */
  peers (): PinPeer[] {
    return this.#channels.peers()
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

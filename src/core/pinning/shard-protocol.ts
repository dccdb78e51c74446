/**
 * The shard protocol: Protomux protocol `shadw/shard/v2`, beside `shadw/pin/v1` on every
 * connection of a shard holder or of a pinner, reader or challenger of erasure-coded pins.
 * A request channel (request-channels.ts): JSON control messages, shard bytes (`put`, `data`)
 * as the binary payload; holders open with their free space.
 *
 * v2 over v1: a `get` carries the reader's nonce and its `data` answer the holder's signature
 * over what it serves (ledger/served-wrong.ts), so a wrong answer is evidence others can
 * check; and a `wrong` message carries such a record to a pin's holders. A v1 peer opens
 * `shadw/shard/v1`, which a v2 holder answers on that name only with a typed refusal
 * (`PIN_PROTOCOL`, naming v2): it never reads a v2 answer as a v1 one.
 */
import type { ConnectionHost } from '../connection-channels.ts'
import { ShadwError, isErrorCode, type ErrorCode } from '../errors.ts'
import { isHex, isHexKey } from '../hex.ts'
import { NONCE_HEX } from '../ledger/index.ts'
import { decodeChannelMessage, RequestChannels, RequestPeer, type RequestProtocol } from '../request-channels.ts'

/** Protomux protocol name. */
export const SHARD_PROTOCOL = 'shadw/shard/v2'
/** The protocol before signed answers: refused, typed (see the module comment). */
export const SHARD_PROTOCOL_V1 = 'shadw/shard/v1'
/** A pin record of 1024 stripes of 15 shards is under 1.1 MiB; a shard is 64 KiB by default. */
export const MAX_SHARD_MESSAGE_BYTES = 2 * 1024 * 1024

/** Slots in one answer to a query: a holder keeps at most one slot per pin, and few versions per drive. */
export const MAX_SLOTS = 16

/** Records in one placement message at most: one shard hold and one repair per shard of a pin. */
export const MAX_PLACEMENT_RECORDS = 64

/**
 * One-way messages between the holders of one pin: the placement as the sender knows it
 * (each slot's newest shard hold, the repairs adopted; `ask`: answer with yours), and a
 * repairer's claim on one lost slot while it rebuilds it.
 */
export type ShardGossip =
  | { type: 'placement', root: string, holds: unknown[], repairs: unknown[], ask: boolean }
  | { type: 'repairing', root: string, shard: number, from: string }
  | { type: 'wrong', record: unknown }

/** Requests, each answered by `ok`, `held`, `data`, `proof`, `slots` or `refused` with the same id. */
export type ShardRequest =
  | { type: 'open', pin: unknown, shard: number, order?: unknown, standing?: unknown, replacement?: unknown }
  | { type: 'put', root: string, shard: number, stripe: number, bytes: Uint8Array }
  | { type: 'get', root: string, shard: number, stripe: number, nonce: string }
  | { type: 'challenge', challenge: { root: string, stripe: number, shard: number, chunk: number } }
  | { type: 'query', drive: string }

export type ShardMessage =
  | { type: 'offer', free: number }
  | ShardGossip
  | (ShardRequest & { id: number })
  | { type: 'ok', id: number }
  | { type: 'held', id: number, confirmation: unknown }
  | { type: 'data', id: number, bytes: Uint8Array, signature: string }
  | { type: 'proof', id: number, answer: unknown }
  | { type: 'slots', id: number, slots: Array<{ pin: unknown, hold: unknown, repairs?: unknown[], repairing?: number[], terms?: unknown, wrong?: unknown[] }> }
  | { type: 'refused', id: number, code: ErrorCode, message: string }

function bad (why: string): never {
  throw ShadwError.PIN_PROTOCOL(why)
}

function uint (v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(`${what} must be a non-negative integer`)
  return v
}

function payload (v: unknown): Uint8Array {
  if (!(v instanceof Uint8Array)) bad('bytes must be a binary payload')
  return v
}

function root (v: unknown): string {
  if (!isHexKey(v)) bad('root must be 64 hex characters')
  return v
}

/** Checks one message from a peer (its payload in `bytes`). @throws ShadwError `PIN_PROTOCOL` */
export function parseShardMessage (m: Record<string, unknown>): ShardMessage {
  switch (m.type) {
    case 'offer': return { type: 'offer', free: uint(m.free, 'free') }
    case 'open': return { type: 'open', id: uint(m.id, 'id'), pin: m.pin, shard: uint(m.shard, 'shard'), ...(m.order === undefined ? {} : { order: m.order }), ...(m.standing === undefined ? {} : { standing: m.standing }), ...(m.replacement === undefined ? {} : { replacement: m.replacement }) }
    case 'put': return { type: 'put', id: uint(m.id, 'id'), root: root(m.root), shard: uint(m.shard, 'shard'), stripe: uint(m.stripe, 'stripe'), bytes: payload(m.bytes) }
    case 'get':
      if (!isHex(m.nonce, NONCE_HEX / 2)) bad(`nonce must be ${NONCE_HEX} hex characters`)
      return { type: 'get', id: uint(m.id, 'id'), root: root(m.root), shard: uint(m.shard, 'shard'), stripe: uint(m.stripe, 'stripe'), nonce: m.nonce }
    case 'challenge': {
      const ch = m.challenge as Record<string, unknown> | null
      if (typeof ch !== 'object' || ch === null) bad('challenge is not an object')
      return { type: 'challenge', id: uint(m.id, 'id'), challenge: { root: root(ch.root), stripe: uint(ch.stripe, 'stripe'), shard: uint(ch.shard, 'shard'), chunk: uint(ch.chunk, 'chunk') } }
    }
    case 'query':
      if (!isHexKey(m.drive)) bad('drive must be 64 hex characters')
      return { type: 'query', id: uint(m.id, 'id'), drive: m.drive }
    case 'slots':
      if (!Array.isArray(m.slots) || m.slots.length > MAX_SLOTS) bad(`slots must be a list of at most ${MAX_SLOTS}`)
      return {
        type: 'slots',
        id: uint(m.id, 'id'),
        slots: (m.slots as unknown[]).map(v => {
          const x = v as Record<string, unknown> | null
          const repairs = Array.isArray(x?.repairs) && x.repairs.length <= MAX_PLACEMENT_RECORDS ? x.repairs as unknown[] : []
          const repairing = Array.isArray(x?.repairing) && x.repairing.length <= MAX_PLACEMENT_RECORDS ? (x.repairing as unknown[]).map(r => uint(r, 'repairing')) : []
          const wrong = Array.isArray(x?.wrong) && x.wrong.length <= MAX_PLACEMENT_RECORDS ? x.wrong as unknown[] : []
          return { pin: x?.pin, hold: x?.hold, repairs, repairing, wrong, ...(x?.terms === undefined ? {} : { terms: x.terms }) }
        })
      }
    case 'placement': {
      const list = (x: unknown, what: string): unknown[] => Array.isArray(x) && x.length <= MAX_PLACEMENT_RECORDS ? x : bad(`${what} must be a list of at most ${MAX_PLACEMENT_RECORDS}`)
      return { type: 'placement', root: root(m.root), holds: list(m.holds, 'holds'), repairs: list(m.repairs, 'repairs'), ask: m.ask === true }
    }
    case 'repairing':
      if (!isHexKey(m.from)) bad('from must be 64 hex characters')
      return { type: 'repairing', root: root(m.root), shard: uint(m.shard, 'shard'), from: m.from }
    case 'wrong': return { type: 'wrong', record: m.record }
    case 'ok': return { type: 'ok', id: uint(m.id, 'id') }
    case 'held': return { type: 'held', id: uint(m.id, 'id'), confirmation: m.confirmation }
    case 'data':
      if (!isHex(m.signature, 64)) bad('signature must be 128 hex characters')
      return { type: 'data', id: uint(m.id, 'id'), bytes: payload(m.bytes), signature: m.signature }
    case 'proof': return { type: 'proof', id: uint(m.id, 'id'), answer: m.answer }
    case 'refused': return { type: 'refused', id: uint(m.id, 'id'), code: isErrorCode(m.code) ? m.code : 'INTERNAL', message: typeof m.message === 'string' ? m.message.slice(0, 500) : '' }
    default: return bad('unknown message type')
  }
}

/** An answer: what {@link ShardPeer.request} resolves with. */
export type ShardAnswer = Extract<ShardMessage, { type: 'ok' | 'held' | 'data' | 'proof' | 'slots' }>

const PROTOCOL: RequestProtocol<ShardMessage> = {
  protocol: SHARD_PROTOCOL,
  label: 'shard',
  maxMessageBytes: MAX_SHARD_MESSAGE_BYTES,
  decode: parseShardMessage,
  answers: new Set(['ok', 'held', 'data', 'proof', 'slots'])
}

/** A v1 peer's message: only its type and id are read, to refuse it (see the module comment). */
type V1Message = { type: string, id?: number }

const PROTOCOL_V1: RequestProtocol<V1Message> = {
  protocol: SHARD_PROTOCOL_V1,
  label: 'shard v1',
  maxMessageBytes: MAX_SHARD_MESSAGE_BYTES,
  decode: m => ({ type: String(m.type), ...(typeof m.id === 'number' ? { id: m.id } : {}) }),
  answers: new Set()
}

/**
 * A holder's answer to v1 peers: it offers no room (so a v1 pinner places nothing here) and
 * refuses every request, typed, naming the version it speaks.
 */
function refuseV1 (host: ConnectionHost): RequestChannels<V1Message, RequestPeer<V1Message>> {
  return new RequestChannels(host, PROTOCOL_V1, {
    peer: (key, wire, proto) => new RequestPeer(key, wire, proto),
    onopen: peer => { peer.send({ type: 'offer', free: 0 } as V1Message) },
    onmessage: (peer, m) => {
      if (m.id !== undefined) peer.send({ type: 'refused', id: m.id, code: 'PIN_PROTOCOL', message: `PIN_PROTOCOL: this holder speaks ${SHARD_PROTOCOL} (signed shard answers), not ${SHARD_PROTOCOL_V1}` })
    }
  })
}

/** Decodes one message as sent without a payload (JSON bytes). @throws ShadwError `PIN_PROTOCOL` */
export function decodeShardMessage (bytes: Uint8Array): ShardMessage {
  return decodeChannelMessage(PROTOCOL, bytes)
}

/** One peer's end: its free space (holders only), sends, and requests with answers. */
export class ShardPeer extends RequestPeer<ShardMessage, ShardRequest, ShardAnswer> {
  /** free bytes the holder offers; null for a peer that holds no shards */
  free: number | null = null
}

/** The protocol on every connection; `start()`/`stop()` are safe to call twice. */
export class ShardChannels {
  readonly #channels: RequestChannels<ShardMessage, ShardPeer>
  readonly #free: (() => number) | null
  readonly #v1: RequestChannels<V1Message, RequestPeer<V1Message>> | null

  constructor (host: ConnectionHost, opts: { free?: () => number, onrequest?: (peer: ShardPeer, m: ShardMessage) => void } = {}) {
    const free = this.#free = opts.free ?? null
    this.#v1 = free === null ? null : refuseV1(host)
    this.#channels = new RequestChannels(host, PROTOCOL, {
      peer: (key, wire, proto) => new ShardPeer(key, wire, proto),
      onopen: peer => { if (free !== null) peer.send({ type: 'offer', free: free() }) },
      onmessage: (peer, m) => {
        if (m.type === 'offer') peer.free = m.free
        else opts.onrequest?.(peer, m)
      }
    })
  }

  start (): void {
    this.#channels.start()
    this.#v1?.start()
  }

  stop (): void {
    this.#channels.stop()
    this.#v1?.stop()
  }

  /** Open peers that hold shards (they sent an offer). */
  holders (): ShardPeer[] {
    return this.#channels.peers().filter(p => p.free !== null)
  }

  /** Sends this holder's free space again to every peer. */
  announce (): void {
    if (this.#free !== null) for (const p of this.#channels.peers()) p.send({ type: 'offer', free: this.#free() })
  }
}

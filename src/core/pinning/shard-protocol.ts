/**
 * The shard protocol: Protomux protocol `shadw/shard/v1`, beside `shadw/pin/v1` on every
 * connection of a shard holder or of a pinner, reader or challenger of erasure-coded pins.
 * JSON messages (bounded: one 64 KiB shard in hex and its envelope); holders open with their
 * free space. Requests carry an id the answer repeats; a malformed message closes the channel.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import type Protomux from 'protomux'
import type { ProtomuxChannel, ProtomuxMessage } from 'protomux'
import type { SwarmConnection } from 'hyperswarm'
import { ConnectionChannels, type ConnectionHost } from '../connection-channels.ts'
import { ShadwError, isErrorCode, type ErrorCode } from '../errors.ts'
import { isHexKey } from '../hex.ts'
import { log } from '../log.ts'

const debug = log('pinning')

/** Protomux protocol name. */
export const SHARD_PROTOCOL = 'shadw/shard/v1'
/** A 64 KiB shard is 128 KiB in hex; a pin record of 1024 stripes of 15 shards is under 1.1 MiB. */
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

/** Requests, each answered by `ok`, `held`, `data`, `proof`, `slots` or `refused` with the same id. */
export type ShardRequest =
  | { type: 'open', pin: unknown, shard: number, order?: unknown }
  | { type: 'put', root: string, shard: number, stripe: number, bytes: string }
  | { type: 'get', root: string, shard: number, stripe: number }
  | { type: 'challenge', challenge: { root: string, stripe: number, shard: number, chunk: number } }
  | { type: 'query', drive: string }

export type ShardMessage =
  | { type: 'offer', free: number }
  | ShardGossip
  | (ShardRequest & { id: number })
  | { type: 'ok', id: number }
  | { type: 'held', id: number, confirmation: unknown }
  | { type: 'data', id: number, bytes: string }
  | { type: 'proof', id: number, answer: unknown }
  | { type: 'slots', id: number, slots: Array<{ pin: unknown, hold: unknown, repairs?: unknown[], repairing?: number[] }> }
  | { type: 'refused', id: number, code: ErrorCode, message: string }

function bad (why: string): never {
  throw ShadwError.PIN_PROTOCOL(why)
}

function uint (v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(`${what} must be a non-negative integer`)
  return v
}

function hexBytes (v: unknown): string {
  if (typeof v !== 'string' || !/^([0-9a-f]{2})*$/.test(v)) bad('bytes must be hex')
  return v
}

function root (v: unknown): string {
  if (!isHexKey(v)) bad('root must be 64 hex characters')
  return v
}

/** Decodes and checks one message from a peer. @throws ShadwError `PIN_PROTOCOL` */
export function decodeShardMessage (bytes: Uint8Array): ShardMessage {
  if (bytes.byteLength > MAX_SHARD_MESSAGE_BYTES) bad('message too large')
  let v: unknown
  try { v = JSON.parse(b4a.toString(bytes)) } catch { bad('message is not JSON') }
  if (typeof v !== 'object' || v === null) bad('message is not an object')
  const m = v as Record<string, unknown>
  switch (m.type) {
    case 'offer': return { type: 'offer', free: uint(m.free, 'free') }
    case 'open': return { type: 'open', id: uint(m.id, 'id'), pin: m.pin, shard: uint(m.shard, 'shard'), ...(m.order === undefined ? {} : { order: m.order }) }
    case 'put': return { type: 'put', id: uint(m.id, 'id'), root: root(m.root), shard: uint(m.shard, 'shard'), stripe: uint(m.stripe, 'stripe'), bytes: hexBytes(m.bytes) }
    case 'get': return { type: 'get', id: uint(m.id, 'id'), root: root(m.root), shard: uint(m.shard, 'shard'), stripe: uint(m.stripe, 'stripe') }
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
          return { pin: x?.pin, hold: x?.hold, repairs, repairing }
        })
      }
    case 'placement': {
      const list = (x: unknown, what: string): unknown[] => Array.isArray(x) && x.length <= MAX_PLACEMENT_RECORDS ? x : bad(`${what} must be a list of at most ${MAX_PLACEMENT_RECORDS}`)
      return { type: 'placement', root: root(m.root), holds: list(m.holds, 'holds'), repairs: list(m.repairs, 'repairs'), ask: m.ask === true }
    }
    case 'repairing':
      if (!isHexKey(m.from)) bad('from must be 64 hex characters')
      return { type: 'repairing', root: root(m.root), shard: uint(m.shard, 'shard'), from: m.from }
    case 'ok': return { type: 'ok', id: uint(m.id, 'id') }
    case 'held': return { type: 'held', id: uint(m.id, 'id'), confirmation: m.confirmation }
    case 'data': return { type: 'data', id: uint(m.id, 'id'), bytes: hexBytes(m.bytes) }
    case 'proof': return { type: 'proof', id: uint(m.id, 'id'), answer: m.answer }
    case 'refused': return { type: 'refused', id: uint(m.id, 'id'), code: isErrorCode(m.code) ? m.code : 'INTERNAL', message: typeof m.message === 'string' ? m.message.slice(0, 500) : '' }
    default: return bad('unknown message type')
  }
}

/** An answer: what {@link ShardPeer.request} resolves with. */
export type ShardAnswer = Extract<ShardMessage, { type: 'ok' | 'held' | 'data' | 'proof' | 'slots' }>

/** One peer's end: its free space (holders only), sends, and requests with answers. */
export class ShardPeer {
  readonly publicKey: string
  /** free bytes the holder offers; null for a peer that holds no shards */
  free: number | null = null
  readonly #channel: ProtomuxChannel
  readonly #message: ProtomuxMessage
  #nextId = 1
  readonly #pending = new Map<number, { resolve: (m: ShardAnswer) => void, reject: (err: Error) => void, timer: ReturnType<typeof setTimeout> }>()

  constructor (publicKey: string, channel: ProtomuxChannel, message: ProtomuxMessage) {
    this.publicKey = publicKey
    this.#channel = channel
    this.#message = message
  }

  get closed (): boolean {
    return this.#channel.closed
  }

  send (m: ShardMessage): void {
    if (!this.#channel.closed) this.#message.send(b4a.from(JSON.stringify(m)))
  }

  /** Sends a request; a `refused` answer rejects with the peer's typed error. @throws ShadwError `TIMEOUT`, `NODE_CLOSED` */
  async request (m: ShardRequest, timeoutMs: number): Promise<ShardAnswer> {
    if (this.#channel.closed) throw ShadwError.NODE_CLOSED('shard channel closed')
    const id = this.#nextId++
    return await new Promise<ShardAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(ShadwError.TIMEOUT(`${m.type} answer from ${this.publicKey.slice(0, 8)}`, timeoutMs))
      }, timeoutMs)
      this.#pending.set(id, { resolve, reject, timer })
      this.send({ ...m, id } as ShardMessage)
    })
  }

  /** Settles the request an answer names; false when the message is not an answer. */
  settle (m: ShardMessage): boolean {
    if (m.type !== 'ok' && m.type !== 'held' && m.type !== 'data' && m.type !== 'proof' && m.type !== 'slots' && m.type !== 'refused') return false
    const p = this.#pending.get(m.id)
    if (p === undefined) return true
    this.#pending.delete(m.id)
    clearTimeout(p.timer)
    if (m.type === 'refused') p.reject(new ShadwError(m.code, m.message.replace(/^[A-Z_]+: /, ''), { details: { holder: this.publicKey } }))
    else p.resolve(m)
    return true
  }

  fail (): void {
    for (const p of this.#pending.values()) { clearTimeout(p.timer); p.reject(ShadwError.NODE_CLOSED('shard channel closed')) }
    this.#pending.clear()
  }
}

/** The protocol on every connection; `start()`/`stop()` are safe to call twice. */
export class ShardChannels {
  readonly #channels: ConnectionChannels
  readonly #peers = new Map<ProtomuxChannel, ShardPeer>()
  readonly #free: (() => number) | null
  readonly #onrequest: ((peer: ShardPeer, m: ShardMessage) => void) | null

  constructor (host: ConnectionHost, opts: { free?: () => number, onrequest?: (peer: ShardPeer, m: ShardMessage) => void } = {}) {
    this.#free = opts.free ?? null
    this.#onrequest = opts.onrequest ?? null
    this.#channels = new ConnectionChannels(host, SHARD_PROTOCOL, (conn, mux) => this.#open(conn, mux))
  }

  start (): void {
    this.#channels.start()
  }

  stop (): void {
    this.#channels.stop()
    for (const p of this.#peers.values()) p.fail()
    this.#peers.clear()
  }

  /** Open peers that hold shards (they sent an offer). */
  holders (): ShardPeer[] {
    return [...this.#peers.values()].filter(p => !p.closed && p.free !== null)
  }

  /** Sends this holder's free space again to every peer. */
  announce (): void {
    if (this.#free !== null) for (const p of this.#peers.values()) p.send({ type: 'offer', free: this.#free() })
  }

  #open (conn: SwarmConnection, mux: Protomux): ProtomuxChannel | null {
    const publicKey = b4a.toString(conn.remotePublicKey, 'hex')
    let peer: ShardPeer | null = null
    const channel = mux.createChannel({
      protocol: SHARD_PROTOCOL,
      unique: true,
      onopen: () => { if (this.#free !== null) peer?.send({ type: 'offer', free: this.#free() }) },
      onclose: () => { peer?.fail(); if (channel !== null) this.#peers.delete(channel) }
    })
    if (channel === null) return null
    const message = channel.addMessage({
      encoding: c.buffer,
      onmessage: (bytes: Uint8Array) => {
        if (peer === null) return
        let m: ShardMessage
        try { m = decodeShardMessage(bytes) } catch (err) {
          debug('closing shard channel of', publicKey.slice(0, 8), err)
          channel.close()
          return
        }
        if (m.type === 'offer') { peer.free = m.free; return }
        if (peer.settle(m)) return
        this.#onrequest?.(peer, m)
      }
    })
    peer = new ShardPeer(publicKey, channel, message)
    this.#peers.set(channel, peer)
    channel.open()
    return channel
  }
}

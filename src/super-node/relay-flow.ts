/**
 * What the WebSocket relay holds for its clients after their handshake, bounded and counted
 * against the node's memory budget: bytes a client sent toward the DHT that a relayed stream
 * has not taken yet, and bytes waiting for a client to read its socket.
 */
import type { WebSocket } from 'ws'
import { ShadwError } from '../core/errors.ts'
import { log } from '../core/log.ts'
import type { MemoryBudget } from './memory-budget.ts'

const debug = log('relay')

/** Mirrors relay-server.ts: a relay message is at most one secret-stream frame (16 MiB) and some. */
const MAX_FRAME_BYTES = 16 * 1024 * 1024 + 64 * 1024
/**
 * Bytes one relayed stream may queue toward the DHT before reading its client pauses until
 * it drains: a few Hypercore blocks, so a client whose stream keeps up is never paused.
 */
export const STREAM_HIGH_WATER_BYTES = 1024 * 1024
/**
 * Default bytes one relayed stream may queue toward the DHT at all. Past the high-water mark
 * only messages the relay had read already pile up: at most about one maximum-size message.
 */
export const DEFAULT_MAX_STREAM_QUEUE_BYTES = 2 * MAX_FRAME_BYTES
/**
 * Default bytes the relay may hold for one client that has not taken them from its socket.
 * The DHT side cannot be told to slow down (UDX has no receive window), so a client that
 * stops reading is closed past this; two maximum-size frames fit.
 */
export const DEFAULT_MAX_CLIENT_BACKLOG_BYTES = 2 * MAX_FRAME_BYTES
/** RFC 6455 close code: policy violation (here: the client does not read). */
const CLOSE_POLICY_VIOLATION = 1008
/** How long a client cut for not reading has to see the close frame (it will not answer it). */
const CUT_MS = 200

/** The bounds the patched dht-relay's node-proxy applies to what a client sends toward the DHT. */
export interface RelayFlow {
  highWaterMark: number
  maxStreamBytes: number
  take: (bytes: number) => boolean
  give: (bytes: number) => void
  pause: () => void
  resume: () => void
  refusal: (why: 'stream' | 'budget', bytes: number) => Error
}

/** Reading a client's socket (a `ws` WebSocket: both are no-ops once it is closed). */
export interface Pausable { pause (): void, resume (): void }

/** One client's outgoing side. */
export interface RelayClientOut {
  readonly socket: WebSocket
  /** bytes sent to the socket and not yet taken by the kernel (held against the budget) */
  backlog: number
  /** the relay stopped sending to it (it did not read, or it closed) */
  cut: boolean
}

/** Counters for the relay's status. */
export interface RelayMemoryStats {
  /** clients closed because they did not read what the relay held for them */
  backlogged: number
  /** relayed streams destroyed because their queue toward the DHT passed its bound or the budget */
  overflowed: number
  /** times reading a client paused because a stream of its was over its high-water mark */
  paused: number
  /** bytes held now: queued toward the DHT, and waiting for clients to read them */
  held: { toDht: number, toClients: number }
}

/** @example `relay(dht, stream, { flow: memory.flow(ws) })`; `send: data => memory.send(out, data)` */
export class RelayMemory {
  readonly #budget: MemoryBudget
  readonly #maxStreamBytes: number
  readonly #maxBacklogBytes: number
  #backlogged = 0
  #overflowed = 0
  #paused = 0
  #toDht = 0
  #toClients = 0

  constructor (budget: MemoryBudget, maxStreamBytes: number, maxBacklogBytes: number) {
    this.#budget = budget
    this.#maxStreamBytes = maxStreamBytes
    this.#maxBacklogBytes = maxBacklogBytes
  }

  stats (): RelayMemoryStats {
    return { backlogged: this.#backlogged, overflowed: this.#overflowed, paused: this.#paused, held: { toDht: this.#toDht, toClients: this.#toClients } }
  }

  /**
   * What the client sends toward the DHT: a stream over its high-water mark pauses reading
   * this client's socket until it drains (TCP then slows the client down); its queue counts
   * against the budget; past its bound or the budget, the stream is destroyed with a typed
   * reason, which the client gets as the stream's destroy reason.
   */
  flow (ws: Pausable): RelayFlow {
    return {
      highWaterMark: Math.min(STREAM_HIGH_WATER_BYTES, this.#maxStreamBytes),
      maxStreamBytes: this.#maxStreamBytes,
      take: (bytes) => {
        if (!this.#budget.take(bytes)) return false
        this.#toDht += bytes
        return true
      },
      give: (bytes) => {
        const n = Math.min(bytes, this.#toDht)
        this.#toDht -= n
        this.#budget.give(n)
      },
      pause: () => {
        this.#paused++
        ws.pause()
      },
      resume: () => { ws.resume() },
      refusal: (why, bytes) => {
        this.#overflowed++
        debug('relayed stream over its bound', why, bytes)
        return why === 'stream'
          ? ShadwError.RELAY_BACKLOG_EXCEEDED('a relayed stream whose remote end does not read', bytes, this.#maxStreamBytes)
          : this.#budget.refusal('relayed streams')
      }
    }
  }

  /**
   * Sends to a client, holding the bytes against its backlog bound and the budget until the
   * kernel has them. The DHT side cannot be paused, so a client that does not read is closed
   * (1008) rather than buffered for without bound.
   */
  send (out: RelayClientOut, data: Uint8Array): void {
    if (out.cut) return
    const bytes = data.byteLength
    const ws = out.socket
    if (out.backlog + bytes > this.#maxBacklogBytes || !this.#budget.take(bytes)) {
      out.cut = true
      this.#backlogged++
      debug('client does not read, closing', out.backlog, bytes)
      if (ws.readyState === ws.OPEN) ws.close(CLOSE_POLICY_VIOLATION, 'relay client does not read')
      setTimeout(() => { ws.terminate() }, CUT_MS).unref()
      return
    }
    out.backlog += bytes
    this.#toClients += bytes
    ws.send(data, () => { this.#release(out, bytes) })
  }

  /** The client closed: what it had not read is gone with its socket. */
  drop (out: RelayClientOut): void {
    out.cut = true
    this.#release(out, out.backlog)
  }

  #release (out: RelayClientOut, bytes: number): void {
    const n = Math.min(bytes, out.backlog)
    out.backlog -= n
    this.#toClients -= n
    this.#budget.give(n)
  }
}

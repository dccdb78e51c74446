/**
 * One invocation channel on one swarm connection, sharing the connection's Protomux with
 * Corestore replication and the signalling channel. A peer that sends a malformed frame gets
 * a typed `INVOKE_PROTOCOL` error frame and the channel closed; the connection (and the
 * replication on it) goes on.
 */
import Protomux, { type ProtomuxChannel, type ProtomuxMessage } from 'protomux'
import type { SwarmConnection } from 'hyperswarm'
import { ShadwError } from '../errors.ts'
import { keyToHex } from '../keys.ts'
import { decodeMessage, encodeMessage, INVOKE_PROTOCOL, MAX_ERROR_MESSAGE_CHARS, type InvokeMessage } from './protocol.ts'

/** What a channel tells its owner. */
export interface InvokeChannelHandlers {
  /** both sides opened the channel */
  onopen?: (channel: InvokeChannel) => void
  /** a valid message from the peer */
  onmessage: (msg: InvokeMessage, channel: InvokeChannel) => void
  /** closed by either side, by the connection ending, or for a protocol violation (`err`) */
  onclose?: (channel: InvokeChannel, err: ShadwError | null) => void
}

/** The invocation channel of one connection. */
export class InvokeChannel {
  readonly conn: SwarmConnection
  /** the peer's node key, hex (proved by the connection's Noise handshake) */
  readonly remoteKey: string
  readonly #channel: ProtomuxChannel | null
  readonly #message: ProtomuxMessage | null
  readonly #handlers: InvokeChannelHandlers
  #open = false
  #closed = false
  /** the connection is corked until the current microtasks have run */
  #corked = false
  #error: ShadwError | null = null

  /** Creates and opens the channel; call synchronously when the connection appears. */
  constructor (conn: SwarmConnection, handlers: InvokeChannelHandlers) {
    this.conn = conn
    this.remoteKey = keyToHex(conn.remotePublicKey)
    this.#handlers = handlers
    this.#channel = Protomux.from(conn).createChannel({
      protocol: INVOKE_PROTOCOL,
      unique: true,
      onopen: () => { this.#open = true; handlers.onopen?.(this) },
      onclose: () => { this.#onclose() }
    })
    if (this.#channel === null) {
      this.#message = null
      this.#closed = true
      return
    }
    this.#message = this.#channel.addMessage<Uint8Array>({ onmessage: (bytes) => { this.#onmessage(bytes) } })
    this.#channel.open()
  }

  /** True once both sides opened and until it closes. */
  get opened (): boolean {
    return this.#open && !this.#closed
  }

  get closed (): boolean {
    return this.#closed
  }

  /**
   * Sends a message; false when the channel is not open. Messages sent in the same run of
   * microtasks leave as one Protomux batch frame (one encryption, one packet): a burst of
   * results from one group commit, or of calls a tenant starts together.
   */
  send (msg: InvokeMessage): boolean {
    if (!this.opened || this.#message === null || this.#channel === null) return false
    const frame = encodeMessage(msg)
    if (!this.#corked) {
      this.#corked = true
      const channel = this.#channel
      channel.cork()
      queueMicrotask(() => { this.#corked = false; channel.uncork() })
    }
    return this.#message.send(frame)
  }

  /** Sends a typed error for request `id`, truncating the message to what the wire allows. */
  sendError (id: number, err: unknown): boolean {
    const e = err instanceof ShadwError ? err : ShadwError.INTERNAL(err instanceof Error ? err.message : String(err))
    return this.send({ type: 'error', id, code: e.code, message: e.message.slice(0, MAX_ERROR_MESSAGE_CHARS) })
  }

  /** Closes the channel (not the connection); `err` is what the owner's onclose hears. */
  close (err: ShadwError | null = null): void {
    if (this.#closed) return
    this.#error = err
    this.#channel?.close()
  }

  #onmessage (bytes: Uint8Array): void {
    let msg: InvokeMessage
    try {
      msg = decodeMessage(bytes)
    } catch (err) {
      // tell the peer why before closing: its developer gets a code, not a silent close
      this.sendError(0, err)
      this.close(err as ShadwError)
      return
    }
    this.#handlers.onmessage(msg, this)
  }

  #onclose (): void {
    if (this.#closed) return
    this.#closed = true
    this.#handlers.onclose?.(this, this.#error)
  }
}

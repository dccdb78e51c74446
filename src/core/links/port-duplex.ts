import { Duplex } from 'streamx'
import type { LinkDataControl, LinkPort } from './link-protocol.ts'

/**
 * Largest data-channel message the worker asks the page to send. Chromium accepts up to
 * 256 KiB per message (SDP `max-message-size`); 64 KiB keeps a Hypercore block of the usual
 * size in one or two messages without approaching that limit on other stacks.
 */
export const MAX_LINK_CHUNK_BYTES = 64 * 1024

/**
 * Bytes the worker may have posted to the page that the data channel has not taken yet.
 * Past it, writes wait for the page's acks: a slow or stalled channel pushes back on the
 * Noise stream (and so on Hypercore) instead of growing the page's queue without bound.
 */
export const LINK_SEND_WINDOW_BYTES = 1024 * 1024

/**
 * The raw byte stream under a direct link's Noise stream, inside the node worker: a streamx
 * Duplex over the link's data MessagePort, whose other end the page pipes into the WebRTC
 * data channel. Bytes cross the port as transferred ArrayBuffers (one copy, on the way out,
 * to own the buffer); credit-based flow control bounds what is in flight to the page.
 */
export class PortDuplex extends Duplex {
  readonly #port: LinkPort
  #inflight = 0
  #blocked: ((err: Error | null) => void) | null = null
  /** bytes received from and sent to the peer over this link */
  bytesIn = 0
  bytesOut = 0

  constructor (port: LinkPort) {
    super()
    this.#port = port
    port.onmessage = (ev) => { this.#onmessage(ev.data) }
    port.start()
  }

  override _write (data: Uint8Array, cb: (err: Error | null) => void): void {
    for (let off = 0; off < data.byteLength; off += MAX_LINK_CHUNK_BYTES) {
      // Uint8Array's slice copies; a Node Buffer's would be a view into a shared pool
      const chunk = Uint8Array.prototype.slice.call(data, off, off + MAX_LINK_CHUNK_BYTES)
      this.#port.postMessage(chunk.buffer, [chunk.buffer])
    }
    this.#inflight += data.byteLength
    this.bytesOut += data.byteLength
    if (this.#inflight <= LINK_SEND_WINDOW_BYTES) cb(null)
    else this.#blocked = cb
  }

  override _destroy (cb: (err: Error | null) => void): void {
    const close: LinkDataControl = { type: 'close' }
    try { this.#port.postMessage(close) } catch {}
    this.#port.close()
    this.#release()
    cb(null)
  }

  #release (): void {
    const blocked = this.#blocked
    this.#blocked = null
    blocked?.(null)
  }

  #onmessage (data: unknown): void {
    if (data instanceof ArrayBuffer) {
      this.bytesIn += data.byteLength
      this.push(new Uint8Array(data))
      return
    }
    const msg = data as Partial<LinkDataControl> | null
    if (msg?.type === 'ack' && typeof msg.bytes === 'number' && msg.bytes >= 0) {
      this.#inflight = Math.max(0, this.#inflight - msg.bytes)
      if (this.#inflight <= LINK_SEND_WINDOW_BYTES) this.#release()
    } else if (msg?.type === 'close') {
      this.destroy()
    }
  }
}

import { Duplex } from 'streamx'
import { ShadwError } from '../errors.ts'

/**
 * Largest data-channel message a link sends. Chromium accepts up to 256 KiB per message (SDP
 * `max-message-size`); 64 KiB keeps a Hypercore block of the usual size (16 KiB plus its
 * proof and the Noise header) in one message without approaching that limit on other stacks.
 */
export const MAX_LINK_CHUNK_BYTES = 64 * 1024

/**
 * The data channel's own send buffer is the link's window: past {@link CHANNEL_HIGH_BYTES}
 * writes wait until it drains below {@link CHANNEL_LOW_BYTES} (`bufferedamountlow`), so a
 * slow or stalled channel pushes back on the Noise stream (and on Hypercore) instead of
 * growing the buffer without bound. A window of 1 MiB keeps a loopback channel busy between
 * refills; the old 64 KiB one (simple-peer's) left it idle at half a raw channel's speed.
 */
export const CHANNEL_HIGH_BYTES = 1024 * 1024
export const CHANNEL_LOW_BYTES = 256 * 1024

/**
 * How often a blocked write looks at the buffer on a stack without `bufferedamountlow`
 * (@roamhq/wrtc has neither the event nor the threshold; simple-peer polled every 150 ms,
 * which at a 1 MiB window would cap a loopback link near 7 MB/s).
 */
export const CHANNEL_POLL_MS = 5

/**
 * The part of RTCDataChannel a link uses: the browser's (a channel the page transferred to
 * the node worker) and @roamhq/wrtc's (a super node) both fit. The WebWorker lib has no
 * RTC types, so this is ours.
 */
export interface DataChannelLike {
  readonly readyState: 'connecting' | 'open' | 'closing' | 'closed'
  readonly bufferedAmount: number
  bufferedAmountLowThreshold: number
  binaryType: string
  onopen: ((ev: unknown) => void) | null
  onmessage: ((ev: { data: unknown }) => void) | null
  onbufferedamountlow: ((ev: unknown) => void) | null
  onclose: ((ev: unknown) => void) | null
  onerror: ((ev: unknown) => void) | null
  send (data: Uint8Array): void
  close (): void
}

/**
 * True for a data channel: the runtime's own class where it has one (a node worker gets the
 * real object by transfer), else the shape (@roamhq/wrtc in a super node, no global class).
 */
export function isDataChannel (value: unknown): value is DataChannelLike {
  const ctor = (globalThis as { RTCDataChannel?: unknown }).RTCDataChannel
  if (typeof ctor === 'function') return value instanceof ctor
  const v = value as Partial<DataChannelLike> | null
  return typeof v === 'object' && v !== null && typeof v.send === 'function' && typeof v.close === 'function' && typeof v.readyState === 'string'
}

/**
 * The raw byte stream under a direct link's Noise stream: a streamx Duplex straight over an
 * RTCDataChannel, in the thread that runs the Noise stream (the node worker, which the page
 * handed the channel to on creation; a super node's main thread). Writes wait for the
 * channel to open (streamx holds them until `_open` completes), go out as messages of at
 * most {@link MAX_LINK_CHUNK_BYTES}, and hold their callback while the channel's buffer is
 * over {@link CHANNEL_HIGH_BYTES}. Message boundaries carry no meaning: the Noise stream
 * frames its own messages over the bytes, which the channel delivers reliably and in order.
 */
export class ChannelDuplex extends Duplex {
  readonly #channel: DataChannelLike
  #blocked: ((err: Error | null) => void) | null = null
  #opening: ((err: Error | null) => void) | null = null
  /** false where the stack has no `bufferedamountlow`: blocked writes poll the buffer */
  readonly #lowEvent: boolean
  #poll: ReturnType<typeof setInterval> | null = null
  /** bytes received from and sent to the peer over this link */
  bytesIn = 0
  bytesOut = 0

  constructor (channel: DataChannelLike) {
    super()
    this.#channel = channel
    channel.binaryType = 'arraybuffer'
    this.#lowEvent = typeof channel.bufferedAmountLowThreshold === 'number'
    channel.bufferedAmountLowThreshold = CHANNEL_LOW_BYTES
    channel.onopen = () => { this.#opened(null) }
    channel.onmessage = (ev) => { this.#onmessage(ev.data) }
    channel.onbufferedamountlow = () => { this.#release() }
    channel.onclose = () => {
      this.#opened(ShadwError.LINK_FAILED('data channel closed before it opened'))
      this.destroy()
    }
    // a channel error is followed by its close, which tears the stream down
    channel.onerror = () => {}
  }

  override _open (cb: (err: Error | null) => void): void {
    const state = this.#channel.readyState
    if (state === 'open') cb(null)
    else if (state === 'connecting') this.#opening = cb
    else cb(ShadwError.LINK_FAILED(`data channel is ${state}`))
  }

  override _write (data: Uint8Array, cb: (err: Error | null) => void): void {
    try {
      if (data.byteLength <= MAX_LINK_CHUNK_BYTES) this.#channel.send(data)
      else for (let off = 0; off < data.byteLength; off += MAX_LINK_CHUNK_BYTES) this.#channel.send(data.subarray(off, off + MAX_LINK_CHUNK_BYTES))
    } catch (err) {
      // the channel is closing: its close event destroys the stream
      cb(ShadwError.LINK_FAILED(`send on the data channel: ${(err as Error).message}`))
      return
    }
    this.bytesOut += data.byteLength
    if (this.#channel.bufferedAmount <= CHANNEL_HIGH_BYTES) {
      cb(null)
      return
    }
    this.#blocked = cb
    if (!this.#lowEvent && this.#poll === null) {
      this.#poll = setInterval(() => { if (this.#channel.bufferedAmount <= CHANNEL_LOW_BYTES) this.#release() }, CHANNEL_POLL_MS)
    }
  }

  override _destroy (cb: (err: Error | null) => void): void {
    this.#channel.onmessage = null
    this.#channel.onbufferedamountlow = null
    try { this.#channel.close() } catch {}
    this.#opened(ShadwError.LINK_FAILED('link closed'))
    this.#release()
    cb(null)
  }

  #opened (err: Error | null): void {
    const cb = this.#opening
    this.#opening = null
    cb?.(err)
  }

  #release (): void {
    if (this.#poll !== null) clearInterval(this.#poll)
    this.#poll = null
    const blocked = this.#blocked
    this.#blocked = null
    blocked?.(null)
  }

  #onmessage (data: unknown): void {
    // binaryType 'arraybuffer': a string would be a peer that is not a shadw link
    if (!(data instanceof ArrayBuffer)) {
      this.destroy(ShadwError.LINK_FAILED('text message on a link data channel'))
      return
    }
    this.bytesIn += data.byteLength
    this.push(new Uint8Array(data))
  }
}

import './process-shim.ts'
import { Buffer } from 'buffer'
import SimplePeer from 'simple-peer'
import { ShadwError, serializeError } from '../errors.ts'
import { log } from '../log.ts'
import type { SignalData } from './signal-protocol.ts'
import { linkChannel, parseWorkerToPage, type IceConfig, type LinkDataControl, type LinkPort, type PageToWorker, type WorkerToPage } from './link-protocol.ts'

const debug = log('webrtc-page')

/** What the page knows about its links (the node worker knows the rest). */
export interface LinkHostStats {
  /** peer connections made on the worker's request */
  started: number
  /** data channels that opened */
  connected: number
  /** peer connections now alive (connecting or open) */
  live: number
  /** peer connection errors, by simple-peer's error code */
  errors: Record<string, number>
  /** ciphertext bytes received from and sent to peers over data channels */
  bytesIn: number
  bytesOut: number
  /** peer connections the worker tore down, by its reason (`TIMEOUT`: the connect timeout fired) */
  stops: Record<string, number>
}

/**
 * The data channel's own send buffer, the window a link's bytes have in flight between the
 * page and the peer: past {@link CHANNEL_HIGH_BYTES} the page stops acknowledging until the
 * buffer drains below {@link CHANNEL_LOW_BYTES}. simple-peer's stream write keeps it under
 * 64 KiB, which on loopback left the channel idle between refills (a drain event and a worker
 * round trip each time) and held the link to about half a raw channel's throughput.
 */
export const CHANNEL_HIGH_BYTES = 1024 * 1024
export const CHANNEL_LOW_BYTES = 256 * 1024

/** The part of RTCDataChannel the page uses for flow control (simple-peer keeps it as `_channel`). */
interface ChannelLike {
  bufferedAmount: number
  bufferedAmountLowThreshold: number
  onbufferedamountlow: ((ev: unknown) => void) | null
}

interface PageLink {
  peer: SimplePeer
  /** the open data channel, once simple-peer says 'connect' */
  channel: ChannelLike | null
  /** bytes sent while the channel's buffer was over its high mark, acknowledged when it drains */
  ackHeld: number
  /**
   * The page's end of the link's data port, made with the peer: bytes that arrive before
   * simple-peer's 'connect' (the remote may start its Noise handshake first) queue in it
   * until the worker gets the other end.
   */
  data: LinkPort
  /** the worker's end, until it is handed over on 'connect' */
  handoff: LinkPort | null
  ackPending: number
  ackScheduled: boolean
}

/**
 * The page's side of direct links: RTCPeerConnection exists only in window contexts, so the
 * leader tab makes the peer connections (simple-peer) that its node worker asks for, passes
 * signals both ways, and once a data channel opens, pipes it to a LinkPort it transfers
 * to the worker. The page never reads the bytes: they are the Noise stream's ciphertext.
 *
 * Received messages are transferred to the worker as they are (zero copy); sent ones go
 * straight onto the data channel and are acknowledged at once while its buffer is under
 * {@link CHANNEL_HIGH_BYTES}, else once it drains below {@link CHANNEL_LOW_BYTES}: the credit
 * the worker's {@link PortDuplex} waits for.
 */
export class LinkHost {
  readonly #port: LinkPort
  readonly #links = new Map<number, PageLink>()
  readonly #stats: LinkHostStats = { started: 0, connected: 0, live: 0, errors: {}, bytesIn: 0, bytesOut: 0, stops: {} }
  readonly #wrtc: unknown

  /** `port`: the control port whose other end went to the node worker. */
  constructor (port: LinkPort, opts: { wrtc?: unknown } = {}) {
    this.#port = port
    this.#wrtc = opts.wrtc
    port.onmessage = (ev) => { this.#onWorker(ev.data) }
    port.start()
  }

  stats (): LinkHostStats {
    return { ...this.#stats, live: this.#links.size, errors: { ...this.#stats.errors }, stops: { ...this.#stats.stops } }
  }

  /** Destroys every peer connection (the tab stops hosting the node). */
  close (): void {
    for (const id of [...this.#links.keys()]) this.#drop(id)
    this.#port.close()
  }

  #onWorker (data: unknown): void {
    let msg: WorkerToPage
    try {
      msg = parseWorkerToPage(data)
    } catch (err) {
      debug('dropped worker message', (err as Error).message)
      return
    }
    switch (msg.type) {
      case 'start': this.#start(msg.link, msg.initiator, msg.ice); break
      case 'signal': this.#links.get(msg.link)?.peer.signal(msg.signal); break
      case 'stop':
        if (this.#links.has(msg.link)) this.#stats.stops[msg.reason] = (this.#stats.stops[msg.reason] ?? 0) + 1
        this.#drop(msg.link)
        break
    }
  }

  #post (msg: PageToWorker, transfer: LinkPort[] = []): void {
    this.#port.postMessage(msg, transfer)
  }

  #start (id: number, initiator: boolean, ice: IceConfig): void {
    if (this.#links.has(id)) return
    let peer: SimplePeer
    try {
      peer = new SimplePeer({ initiator, trickle: true, config: { iceServers: ice.iceServers, iceTransportPolicy: ice.iceTransportPolicy }, ...(this.#wrtc === undefined ? {} : { wrtc: this.#wrtc }) })
    } catch (err) {
      // no WebRTC in this browser (or it is disabled by policy): the relay carries everything
      this.#post({ type: 'closed', link: id, error: serializeError(ShadwError.LINK_FAILED(`cannot create a peer connection: ${(err as Error).message}`)) })
      return
    }
    const { port1, port2 } = linkChannel()
    const link: PageLink = { peer, channel: null, ackHeld: 0, data: port1, handoff: port2, ackPending: 0, ackScheduled: false }
    port1.onmessage = (ev) => { this.#fromWorker(link, ev.data) }
    port1.start()
    this.#links.set(id, link)
    this.#stats.started++
    peer.on('signal', (signal: unknown) => { this.#post({ type: 'signal', link: id, signal: signal as SignalData }) })
    peer.on('connect', () => { this.#connect(id, link) })
    peer.on('data', (buf: Uint8Array) => { this.#forward(link, buf) })
    peer.on('error', (err: Error & { code?: string }) => {
      const code = err.code ?? 'ERR_UNKNOWN'
      this.#stats.errors[code] = (this.#stats.errors[code] ?? 0) + 1
      debug('peer error', id, code)
      this.#closed(id, ShadwError.LINK_FAILED(`${code}: ${err.message}`))
    })
    peer.on('close', () => { this.#closed(id, null) })
  }

  #connect (id: number, link: PageLink): void {
    debug('data channel open', id)
    const port = link.handoff
    if (port === null) return
    link.handoff = null
    this.#stats.connected++
    const channel = (link.peer as unknown as { _channel?: ChannelLike })._channel
    if (channel !== undefined && typeof channel.bufferedAmountLowThreshold === 'number') {
      channel.bufferedAmountLowThreshold = CHANNEL_LOW_BYTES
      const previous = channel.onbufferedamountlow
      channel.onbufferedamountlow = (ev) => {
        previous?.call(channel, ev)
        this.#drained(link)
      }
      link.channel = channel
    }
    this.#post({ type: 'open', link: id, port }, [port])
  }

  /** Peer → worker: hand the message's buffer over when the Buffer spans all of it. */
  #forward (link: PageLink, buf: Uint8Array): void {
    this.#stats.bytesIn += buf.byteLength
    const whole = buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength && buf.buffer instanceof ArrayBuffer
    // Uint8Array's slice copies; a Node Buffer's (super nodes) would be a view into a pool
    const ab = whole ? buf.buffer as ArrayBuffer : Uint8Array.prototype.slice.call(buf).buffer
    link.data.postMessage(ab, [ab])
  }

  /** Worker → peer: write with simple-peer's backpressure, acknowledge when it drains. */
  #fromWorker (link: PageLink, data: unknown): void {
    if (data instanceof ArrayBuffer) {
      const bytes = data.byteLength
      this.#stats.bytesOut += bytes
      const channel = link.channel
      if (channel === null) {
        link.peer.write(Buffer.from(data), () => { this.#ack(link, bytes) })
        return
      }
      // straight onto the channel (simple-peer's `send`), with the page's own window on its buffer
      try {
        link.peer.send(Buffer.from(data))
      } catch (err) {
        // the channel is closing: simple-peer's 'close' or 'error' tears the link down
        debug('send on a closing channel', (err as Error).message)
        return
      }
      if (channel.bufferedAmount <= CHANNEL_HIGH_BYTES && link.ackHeld === 0) this.#ack(link, bytes)
      else link.ackHeld += bytes
      return
    }
    if ((data as Partial<LinkDataControl> | null)?.type === 'close') link.peer.destroy()
  }

  /** The channel's buffer fell below its low mark: what was held back is acknowledged. */
  #drained (link: PageLink): void {
    const held = link.ackHeld
    if (held === 0) return
    link.ackHeld = 0
    this.#ack(link, held)
  }

  #ack (link: PageLink, bytes: number): void {
    link.ackPending += bytes
    if (link.ackScheduled) return
    link.ackScheduled = true
    queueMicrotask(() => {
      link.ackScheduled = false
      const ack: LinkDataControl = { type: 'ack', bytes: link.ackPending }
      link.ackPending = 0
      link.data.postMessage(ack)
    })
  }

  #closed (id: number, err: ShadwError | null): void {
    if (!this.#links.has(id)) return
    this.#drop(id)
    this.#post({ type: 'closed', link: id, error: err === null ? null : serializeError(err) })
  }

  #drop (id: number): void {
    const link = this.#links.get(id)
    if (link === undefined) return
    this.#links.delete(id)
    const close: LinkDataControl = { type: 'close' }
    link.data.postMessage(close)
    link.data.close()
    link.handoff?.close()
    link.peer.destroy()
  }
}

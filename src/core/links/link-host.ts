import { ShadwError, serializeError } from '../errors.ts'
import { log } from '../log.ts'
import type { SignalData } from './signal-protocol.ts'
import { parseWorkerToPage, type IceConfig, type LinkPort, type PageToWorker, type WorkerToPage } from './link-protocol.ts'
import { PeerConnection } from './peer-connection.ts'

const debug = log('webrtc-page')

/** What the page knows about its links (the node worker knows the rest, bytes included). */
export interface LinkHostStats {
  /** peer connections made on the worker's request */
  started: number
  /** peer connections whose ICE and DTLS came up (the data channel opens next) */
  connected: number
  /** peer connections now alive (connecting or open) */
  live: number
  /** peer connection errors, by code (`ERR_CONNECTION_FAILURE`, `ERR_SET_REMOTE_DESCRIPTION`, ...) */
  errors: Record<string, number>
  /** peer connections the worker tore down, by its reason (`TIMEOUT`: the connect timeout fired) */
  stops: Record<string, number>
}

/** Bytes over the node's links, counted by the worker that reads and writes them. */
export interface LinkTraffic {
  bytesIn: number
  bytesOut: number
}

/** What the app's `shadwLinks.stats()` gives tests and benches: the page's counts and the worker's bytes. */
export type PageLinkStats = LinkHostStats & LinkTraffic

/** Bound on the worker's answer to a traffic request. */
const TRAFFIC_TIMEOUT_MS = 5_000

/**
 * The page's side of direct links: RTCPeerConnection exists only in window contexts, so the
 * leader tab makes the peer connections its node worker asks for and passes signals both
 * ways. Each peer connection's data channel is transferred to the worker in the task that
 * created it (Chromium allows a transfer only then, before any send): the worker reads and
 * writes the channel itself, and the page never sees a link's bytes. A super node runs this
 * half in its own thread with @roamhq/wrtc and hands the channel over as an object.
 */
export class LinkHost {
  readonly #port: LinkPort
  readonly #links = new Map<number, PeerConnection>()
  readonly #stats: LinkHostStats = { started: 0, connected: 0, live: 0, errors: {}, stops: {} }
  readonly #rtc: unknown
  readonly #traffic: Array<(t: LinkTraffic | null) => void> = []

  /** `port`: the control port whose other end went to the node worker. */
  constructor (port: LinkPort, opts: { wrtc?: unknown } = {}) {
    this.#port = port
    this.#rtc = opts.wrtc
    port.onmessage = (ev) => { this.#onWorker(ev.data) }
    port.start()
  }

  stats (): LinkHostStats {
    return { ...this.#stats, live: this.#links.size, errors: { ...this.#stats.errors }, stops: { ...this.#stats.stops } }
  }

  /** The worker's byte counts over every link; null if it does not answer in time. */
  async traffic (): Promise<LinkTraffic | null> {
    return await new Promise(resolve => {
      const timer = setTimeout(() => {
        const i = this.#traffic.indexOf(done)
        if (i >= 0) this.#traffic.splice(i, 1)
        resolve(null)
      }, TRAFFIC_TIMEOUT_MS)
      const done = (t: LinkTraffic | null): void => { clearTimeout(timer); resolve(t) }
      this.#traffic.push(done)
      this.#post({ type: 'traffic' })
    })
  }

  /** Destroys every peer connection (the tab stops hosting the node). */
  close (): void {
    for (const id of [...this.#links.keys()]) this.#drop(id)
    for (const done of this.#traffic.splice(0)) done(null)
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
      case 'signal': this.#links.get(msg.link)?.signal(msg.signal); break
      case 'stop':
        if (this.#links.has(msg.link)) this.#stats.stops[msg.reason] = (this.#stats.stops[msg.reason] ?? 0) + 1
        this.#drop(msg.link)
        break
      case 'traffic':
        this.#traffic.shift()?.({ bytesIn: msg.bytesIn, bytesOut: msg.bytesOut })
        break
    }
  }

  #post (msg: PageToWorker, transfer: unknown[] = []): void {
    try { this.#port.postMessage(msg, transfer) } catch (err) { debug('cannot post to the worker', (err as Error).message) }
  }

  #start (id: number, initiator: boolean, ice: IceConfig): void {
    if (this.#links.has(id)) return
    let peer: PeerConnection
    try {
      peer = new PeerConnection({ initiator, ice, rtc: this.#rtc }, {
        onsignal: (signal: SignalData) => { this.#post({ type: 'signal', link: id, signal }) },
        onconnect: () => {
          debug('peer connection up', id)
          this.#stats.connected++
        },
        onclose: (err) => {
          if (err !== null) {
            this.#stats.errors[err.code] = (this.#stats.errors[err.code] ?? 0) + 1
            debug('peer error', id, err.code)
          }
          this.#closed(id, err === null ? null : ShadwError.LINK_FAILED(`${err.code}: ${err.message}`))
        }
      })
    } catch (err) {
      // no WebRTC in this browser (or it is disabled by policy): the relay carries everything
      this.#post({ type: 'closed', link: id, error: serializeError(ShadwError.LINK_FAILED(`cannot create a peer connection: ${(err as Error).message}`)) })
      return
    }
    this.#links.set(id, peer)
    this.#stats.started++
    // now, in the task that created it: later (or after a send) Chromium refuses the transfer
    const msg: PageToWorker = { type: 'channel', link: id, channel: peer.channel }
    try {
      this.#port.postMessage(msg, [peer.channel])
    } catch (err) {
      // a browser that cannot transfer a data channel to a worker: the relay carries everything
      this.#stats.errors['ERR_CHANNEL_TRANSFER'] = (this.#stats.errors['ERR_CHANNEL_TRANSFER'] ?? 0) + 1
      this.#closed(id, ShadwError.LINK_FAILED(`cannot hand the data channel to the node worker: ${(err as Error).message}`))
    }
  }

  #closed (id: number, err: ShadwError | null): void {
    if (!this.#links.has(id)) return
    this.#drop(id)
    this.#post({ type: 'closed', link: id, error: err === null ? null : serializeError(err) })
  }

  #drop (id: number): void {
    const peer = this.#links.get(id)
    if (peer === undefined) return
    this.#links.delete(id)
    peer.close()
  }
}

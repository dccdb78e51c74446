import NoiseSecretStream from '@hyperswarm/secret-stream'
import Protomux from 'protomux'
import type { SwarmConnection } from 'hyperswarm'
import { ShadwError, deserializeError } from '../errors.ts'
import { keyToHex } from '../keys.ts'
import { log } from '../log.ts'
import type { ShadwNode } from '../node/index.ts'
import { SIGNAL_PROTOCOL, SignalChannel, type SignalData, type SignalMessage } from './signal-protocol.ts'
import type { PeerStatus } from '../node/index.ts'
import { parsePageToWorker, type LinkPort, type PageToWorker, type WebrtcConfig, type WorkerToPage } from './link-protocol.ts'
import { ChannelDuplex, type DataChannelLike } from './channel-duplex.ts'

const debug = log('webrtc')

/** First wait before an initiator tries a failed link again; doubles up to the cap. */
export const LINK_RETRY_BASE_MS = 5_000
/** A peer that cannot be reached directly costs one attempt a minute at most. */
export const LINK_RETRY_MAX_MS = 60_000

/** Same keep-alive as Hyperswarm's connections, so a dead link is noticed as fast as a dead relay. */
const KEEP_ALIVE_MS = 5_000

/**
 * A link that carried nothing (not even the peer's keep-alives) for this long is dead: the
 * data channel may not say so for ~30 s (ICE consent), and block requests preferred onto the
 * link would wait on it. Four missed keep-alives.
 */
export const LINK_IDLE_TIMEOUT_MS = 20_000

/** Counters the app and tests read. */
export interface LinkStats {
  /** attempts started (as initiator or responder) */
  attempts: number
  /** links whose Noise handshake completed over the data channel */
  opened: number
  /** attempts that timed out or failed, by error code */
  failed: Record<string, number>
  /** links open now, by remote public key (hex) */
  open: Array<{ publicKey: string, bytesIn: number, bytesOut: number }>
}

interface Link {
  id: number
  remote: string
  attempt: number
  initiator: boolean
  state: 'connecting' | 'open' | 'closed'
  timer: ReturnType<typeof setTimeout> | null
  duplex: ChannelDuplex | null
  conn: NoiseSecretStream | null
}

interface Remote {
  channels: Set<SignalChannel>
  link: Link | null
  /** last attempt number seen or used with this peer */
  attempt: number
  failures: number
  retry: ReturnType<typeof setTimeout> | null
}

/**
 * The node worker's side of direct WebRTC links. For every relayed connection it opens the
 * signalling channel; when both sides speak it, the node with the lower public key starts an
 * attempt: it asks the page (which owns RTCPeerConnections) for a peer, carries offers,
 * answers and candidates over the channel, and runs a Noise secret stream straight over the
 * data channel the page hands over as it makes it, with the node's swarm identity; once the
 * handshake proves the peer is the one signalled with, attaches it to
 * the node as a 'webrtc' connection.
 *
 * The relayed connection is kept (see docs/protocol.md, "Signalling channel"): it is the
 * signalling path for the next attempt and the fallback while the link is down. Every
 * attempt is bounded by `connectTimeoutMs`; a failed one is retried with backoff by the
 * initiator while a signalling channel to that peer is open.
 */
export class LinkManager {
  readonly #node: ShadwNode
  readonly #keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }
  readonly #port: LinkPort
  readonly #config: WebrtcConfig
  readonly #local: string
  readonly #remotes = new Map<string, Remote>()
  readonly #links = new Map<number, Link>()
  /** connections on which a peer's late open creates our channel (see #watch) */
  readonly #paired = new Set<SwarmConnection>()
  readonly #stats = { attempts: 0, opened: 0, failed: {} as Record<string, number> }
  /** bytes over links that have closed (open ones count in their duplex) */
  readonly #closedTraffic = { bytesIn: 0, bytesOut: 0 }
  #nextLink = 1
  #stopped = false
  #off: (() => void) | null = null

  constructor (opts: { node: ShadwNode, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }, port: LinkPort, config: WebrtcConfig }) {
    this.#node = opts.node
    this.#keyPair = opts.keyPair
    this.#port = opts.port
    this.#config = opts.config
    this.#local = keyToHex(opts.keyPair.publicKey)
  }

  /** Starts signalling on every current and future relayed connection. Safe to call twice. */
  start (): void {
    if (this.#off !== null || this.#stopped) return
    this.#port.onmessage = (ev) => { this.#onPage(ev.data) }
    this.#port.start()
    if (!this.#config.enabled) return
    this.#off = this.#node.on('connection', (conn, peer) => { this.#watch(conn, peer) })
    for (const [conn, peer] of this.#node.connections()) this.#watch(conn, peer)
  }

  /** Closes every link and channel. Safe to call twice. */
  stop (): void {
    if (this.#stopped) return
    this.#stopped = true
    this.#off?.()
    for (const conn of this.#paired) Protomux.from(conn).unpair({ protocol: SIGNAL_PROTOCOL })
    this.#paired.clear()
    for (const remote of this.#remotes.values()) {
      if (remote.retry !== null) clearTimeout(remote.retry)
      if (remote.link !== null) this.#close(remote.link, null)
      for (const ch of remote.channels) ch.close()
    }
    this.#port.close()
  }

  stats (): LinkStats {
    const open = [...this.#links.values()].filter(l => l.state === 'open').map(l => ({ publicKey: l.remote, bytesIn: l.duplex?.bytesIn ?? 0, bytesOut: l.duplex?.bytesOut ?? 0 }))
    return { attempts: this.#stats.attempts, opened: this.#stats.opened, failed: { ...this.#stats.failed }, open }
  }

  #remote (key: string): Remote {
    let r = this.#remotes.get(key)
    if (r === undefined) this.#remotes.set(key, r = { channels: new Set(), link: null, attempt: 0, failures: 0, retry: null })
    return r
  }

  #watch (conn: SwarmConnection, peer: PeerStatus): void {
    if (this.#stopped || peer.transport === 'webrtc' || this.#paired.has(conn)) return
    this.#openChannel(conn, peer)
    // Protomux refuses an open for a protocol nobody created or paired yet: when our side
    // starts after the connection (the node worker starts links once the node is up), the
    // peer's open was refused and its channel closed. Pairing creates our channel whenever the
    // peer opens (again, or late), so either side's start order ends in one open channel.
    const mux = Protomux.from(conn)
    mux.pair({ protocol: SIGNAL_PROTOCOL }, () => { this.#openChannel(conn, peer) })
    this.#paired.add(conn)
    conn.once('close', () => {
      this.#paired.delete(conn)
      mux.unpair({ protocol: SIGNAL_PROTOCOL })
    })
  }

  #openChannel (conn: SwarmConnection, peer: PeerStatus): void {
    if (this.#stopped) return
    const key = peer.publicKey
    const remote = this.#remote(key)
    for (const ch of remote.channels) if (ch.conn === conn) return
    const channel: SignalChannel = new SignalChannel(conn, {
      onopen: (remoteTier) => {
        // super nodes reach each other over native UDX already: a link would only add work
        if (remoteTier === 'super' && this.#node.tier === 'super') {
          channel.close()
          return
        }
        debug('signalling open with', key.slice(0, 8), remoteTier)
        this.#maybeStart(key)
      },
      onsignal: (msg) => { this.#onSignal(key, msg) },
      onclose: (err) => {
        if (err !== null) debug('signalling closed with', key.slice(0, 8), err.code, err.message)
        remote.channels.delete(channel)
      }
    }, this.#node.tier)
    if (channel.created) remote.channels.add(channel)
  }

  #channelTo (key: string): SignalChannel | null {
    for (const ch of this.#remotes.get(key)?.channels ?? []) if (ch.opened) return ch
    return null
  }

  /** The lower public key initiates: both sides agree without a message, and only one offers. */
  #maybeStart (key: string): void {
    const remote = this.#remote(key)
    if (this.#stopped || remote.link !== null || remote.retry !== null || this.#local >= key) return
    if (this.#channelTo(key) === null) return
    this.#begin(key, ++remote.attempt, true)
  }

  #begin (key: string, attempt: number, initiator: boolean): Link {
    const remote = this.#remote(key)
    const link: Link = { id: this.#nextLink++, remote: key, attempt, initiator, state: 'connecting', timer: null, duplex: null, conn: null }
    remote.link = link
    remote.attempt = attempt
    this.#links.set(link.id, link)
    this.#stats.attempts++
    link.timer = setTimeout(() => {
      this.#fail(link, ShadwError.TIMEOUT(`direct link to ${key.slice(0, 8)}`, this.#config.connectTimeoutMs), true)
    }, this.#config.connectTimeoutMs)
    debug('attempt', attempt, initiator ? 'offering to' : 'answering', key.slice(0, 8))
    this.#toPage({ type: 'start', link: link.id, initiator, ice: this.#config.ice })
    return link
  }

  #onSignal (key: string, msg: SignalMessage): void {
    if (this.#stopped) return
    const remote = this.#remote(key)
    let link = remote.link
    if (msg.signal.type === 'bye') {
      if (link !== null && link.attempt === msg.attempt) this.#fail(link, ShadwError.LINK_FAILED(`peer gave up: ${msg.signal.reason}`), false)
      return
    }
    if (link === null || link.attempt !== msg.attempt) {
      // A new offer from the initiator replaces whatever we had: it knows its side of any
      // older link is gone (it restarted, or its attempt timed out before ours).
      if (msg.signal.type !== 'offer' || this.#local < key) return
      if (link !== null) this.#close(link, null)
      link = this.#begin(key, msg.attempt, false)
    }
    if (link.state !== 'connecting') return
    debug('signal in', msg.signal.type)
    this.#toPage({ type: 'signal', link: link.id, signal: msg.signal })
  }

  #onPage (data: unknown): void {
    let msg: PageToWorker
    try {
      msg = parsePageToWorker(data)
    } catch (err) {
      debug('dropped page message', (err as Error).message)
      return
    }
    if (msg.type === 'traffic') {
      this.#toPage({ type: 'traffic', ...this.#traffic() })
      return
    }
    const link = this.#links.get(msg.link)
    if (link === undefined || link.state === 'closed') {
      if (msg.type === 'channel') msg.channel.close()
      return
    }
    switch (msg.type) {
      case 'signal':
        this.#sendSignal(link, msg.signal)
        break
      case 'channel':
        this.#onChannel(link, msg.channel)
        break
      case 'closed':
        this.#fail(link, msg.error === null ? ShadwError.LINK_FAILED('peer connection closed') : deserializeError(msg.error), link.state === 'connecting')
        break
    }
  }

  #sendSignal (link: Link, signal: SignalData): void {
    const ch = this.#channelTo(link.remote)
    if (ch === null || !ch.send({ attempt: link.attempt, signal })) debug('no signalling channel to', link.remote.slice(0, 8), 'for', signal.type)
    else debug('signal out', signal.type, signal.type === 'candidate' ? signal.candidate.candidate : '')
  }

  /**
   * The page handed over the link's data channel as it made it (not open yet): run Noise over
   * it, whose handshake goes out once it opens, and check it reaches the peer we signalled with.
   */
  #onChannel (link: Link, channel: DataChannelLike): void {
    if (link.state !== 'connecting' || link.duplex !== null) { channel.close(); return }
    debug('data channel to', link.remote.slice(0, 8), 'handed over: Noise handshake once it opens')
    const duplex = new ChannelDuplex(channel)
    const conn = new NoiseSecretStream(link.initiator, duplex, { keyPair: this.#keyPair, keepAlive: KEEP_ALIVE_MS })
    link.duplex = duplex
    link.conn = conn
    conn.on('error', (err: Error) => { debug('link stream error', link.remote.slice(0, 8), err.message) })
    conn.on('close', () => {
      if (link.state === 'open') {
        debug('link closed', link.remote.slice(0, 8))
        this.#close(link, null)
        this.#scheduleRetry(link.remote)
      } else {
        this.#fail(link, ShadwError.LINK_FAILED('link closed during the Noise handshake'), false)
      }
    })
    conn.opened.then(ok => {
      if (!ok || link.state !== 'connecting') return
      const remoteKey = keyToHex(conn.remotePublicKey)
      if (remoteKey !== link.remote) {
        this.#fail(link, ShadwError.LINK_FAILED(`link reached ${remoteKey.slice(0, 8)}, expected ${link.remote.slice(0, 8)}`), true)
        return
      }
      if (link.timer !== null) clearTimeout(link.timer)
      link.timer = null
      link.state = 'open'
      conn.setTimeout(LINK_IDLE_TIMEOUT_MS)
      this.#stats.opened++
      this.#remote(link.remote).failures = 0
      debug('link open with', link.remote.slice(0, 8))
      try {
        this.#node.attachConnection(conn, 'webrtc')
      } catch (err) {
        this.#fail(link, err as ShadwError, false)
      }
    }, () => {})
  }

  #fail (link: Link, err: ShadwError, tellPeer: boolean): void {
    if (link.state === 'closed') return
    const wasOpen = link.state === 'open'
    if (!wasOpen) this.#stats.failed[err.code] = (this.#stats.failed[err.code] ?? 0) + 1
    debug('link to', link.remote.slice(0, 8), wasOpen ? 'broke' : 'failed', err.code, err.message)
    if (tellPeer) this.#sendSignal(link, { type: 'bye', reason: err.code })
    this.#close(link, err)
    if (!wasOpen) this.#remote(link.remote).failures++
    this.#scheduleRetry(link.remote)
  }

  #close (link: Link, err: ShadwError | null): void {
    if (link.state === 'closed') return
    link.state = 'closed'
    if (link.timer !== null) clearTimeout(link.timer)
    link.timer = null
    this.#links.delete(link.id)
    const remote = this.#remotes.get(link.remote)
    if (remote?.link === link) remote.link = null
    link.conn?.destroy()
    link.duplex?.destroy()
    this.#closedTraffic.bytesIn += link.duplex?.bytesIn ?? 0
    this.#closedTraffic.bytesOut += link.duplex?.bytesOut ?? 0
    this.#toPage({ type: 'stop', link: link.id, reason: err?.code ?? 'closed' })
  }

  /** Bytes over every link since the links started, open and closed. */
  #traffic (): { bytesIn: number, bytesOut: number } {
    let { bytesIn, bytesOut } = this.#closedTraffic
    for (const link of this.#links.values()) {
      bytesIn += link.duplex?.bytesIn ?? 0
      bytesOut += link.duplex?.bytesOut ?? 0
    }
    return { bytesIn, bytesOut }
  }

  #scheduleRetry (key: string): void {
    const remote = this.#remote(key)
    if (this.#stopped || this.#local >= key || remote.retry !== null) return
    const delay = Math.min(LINK_RETRY_BASE_MS * 2 ** Math.max(0, remote.failures - 1), LINK_RETRY_MAX_MS)
    remote.retry = setTimeout(() => {
      remote.retry = null
      this.#maybeStart(key)
    }, delay)
  }

  #toPage (msg: WorkerToPage): void {
    if (this.#stopped && msg.type !== 'stop') return
    try { this.#port.postMessage(msg) } catch {}
  }
}

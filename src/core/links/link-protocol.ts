import { ShadwError, type SerializedError } from '../errors.ts'
import { parseSignal, type SignalData } from './signal-protocol.ts'
import { describeValue } from '../describe.ts'
import { isDataChannel, type DataChannelLike } from './channel-duplex.ts'

/**
 * The page ⇄ node-worker bridge for direct links. RTCPeerConnection exists only in window
 * contexts, so the leader tab's page owns every peer connection while the node worker
 * decides when to link, carries the signalling over the swarm and runs the Noise stream and
 * replication. They talk over one control MessagePort (below). Each link's data channel is
 * created by the page and transferred to the worker at once (`channel`), so a link's bytes
 * go between the worker and the network with no page hop; the page keeps only the peer
 * connection (ICE, DTLS, its state).
 */

/**
 * The MessagePort surface links use, the same in browsers and in Node (whose worker_threads
 * MessagePort is an EventTarget with `onmessage` at run time, though its typings say
 * otherwise): a super node joins the two halves with an in-process MessageChannel.
 */
export interface LinkPort {
  postMessage (message: unknown, transfer?: unknown[]): void
  // a method type read off an object is checked bivariantly, so DOM ports (whose handler
  // takes a full MessageEvent) fit
  onmessage: { handler (ev: { data: unknown }): void }['handler'] | null
  start (): void
  close (): void
}

/** True for a real MessagePort of this runtime (from a message, not a look-alike). */
export function isLinkPort (value: unknown): value is LinkPort {
  return typeof MessagePort === 'function' && value instanceof MessagePort
}

/** What the page needs to make a peer connection, from the node's WebRTC settings. */
export interface IceConfig {
  /** STUN/TURN servers; none on loopback and LANs (host candidates suffice) */
  iceServers: RTCIceServerLike[]
  /** 'relay' forces TURN (no host candidates): with no TURN server nothing can connect */
  iceTransportPolicy: 'all' | 'relay'
}

/** The part of RTCIceServer we pass through (the WebWorker lib has no RTC types). */
export interface RTCIceServerLike {
  urls: string | string[]
  username?: string
  credential?: string
}

/** Node worker → page on the control port. */
export type WorkerToPage =
  /** make a peer connection for link `link`; the initiator makes the offer */
  | { type: 'start', link: number, initiator: boolean, ice: IceConfig }
  | { type: 'signal', link: number, signal: SignalData }
  /** tear the peer connection down (attempt timed out, peer said bye, node stopping) */
  | { type: 'stop', link: number, reason: string }
  /** answer to the page's `traffic`: bytes over every link since the node started */
  | { type: 'traffic', bytesIn: number, bytesOut: number }

/** Page → node worker on the control port. */
export type PageToWorker =
  | { type: 'signal', link: number, signal: SignalData }
  /** the link's data channel, transferred on creation (not open yet): the worker reads and writes it */
  | { type: 'channel', link: number, channel: DataChannelLike }
  /** the peer connection failed or closed (before or after opening) */
  | { type: 'closed', link: number, error: SerializedError | null }
  /** asks the worker for its links' byte counts (the page no longer sees the bytes) */
  | { type: 'traffic' }

/** Sent by the page to the node worker once, beside the init message: the control port. */
export interface WebrtcWorkerInit {
  type: 'webrtc'
  port: LinkPort
  config: WebrtcConfig
}

/** The node's WebRTC settings. */
export interface WebrtcConfig {
  /** false: never attempt a direct link (everything goes over the relay) */
  enabled: boolean
  ice: IceConfig
  /** bound on one attempt, from start to the Noise handshake over the data channel */
  connectTimeoutMs: number
}

/**
 * Bound on one link attempt. A peer connection waits forever when no candidate pair works; on
 * loopback a link opens in ~100 ms and across the internet with STUN in a few seconds.
 */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000

/** Largest connect timeout a page may configure. */
export const MAX_CONNECT_TIMEOUT_MS = 120_000

/** The default: on, no ICE servers (loopback and LAN), all candidate types. */
export const DEFAULT_WEBRTC_CONFIG: WebrtcConfig = {
  enabled: true,
  ice: { iceServers: [], iceTransportPolicy: 'all' },
  connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS
}

/** Most ICE servers a configuration may list. */
const MAX_ICE_SERVERS = 8

function isInt (v: unknown, max = 0x7fffffff): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 && v <= max
}

/** Validates ICE settings (from a URL, a page or the init message). */
export function parseIceConfig (value: unknown): IceConfig {
  if (typeof value !== 'object' || value === null) throw ShadwError.INVALID_ARGUMENT('ice config must be an object')
  const v = value as Record<string, unknown>
  const servers = v['iceServers'] ?? []
  if (!Array.isArray(servers) || servers.length > MAX_ICE_SERVERS) throw ShadwError.INVALID_ARGUMENT(`iceServers must be an array of at most ${MAX_ICE_SERVERS}`)
  const iceServers = servers.map((s: unknown): RTCIceServerLike => {
    const o = s as Record<string, unknown> | null
    if (typeof o !== 'object' || o === null) throw ShadwError.INVALID_ARGUMENT('each ICE server must be an object')
    const urls = Array.isArray(o['urls']) ? o['urls'] : [o['urls']]
    if (urls.length === 0 || urls.length > 8 || !urls.every(u => typeof u === 'string' && /^(stun|stuns|turn|turns):/.test(u) && u.length <= 256)) {
      throw ShadwError.INVALID_ARGUMENT('ICE server urls must be stun:, stuns:, turn: or turns: URLs')
    }
    const server: RTCIceServerLike = { urls: urls as string[] }
    if (typeof o['username'] === 'string') server.username = o['username'].slice(0, 256)
    if (typeof o['credential'] === 'string') server.credential = o['credential'].slice(0, 256)
    return server
  })
  const policy = v['iceTransportPolicy'] ?? 'all'
  if (policy !== 'all' && policy !== 'relay') throw ShadwError.INVALID_ARGUMENT('iceTransportPolicy must be "all" or "relay"')
  return { iceServers, iceTransportPolicy: policy }
}

/** Validates WebRTC settings, filling defaults. */
export function parseWebrtcConfig (value: unknown): WebrtcConfig {
  if (value === undefined) return DEFAULT_WEBRTC_CONFIG
  if (typeof value !== 'object' || value === null) throw ShadwError.INVALID_ARGUMENT('webrtc config must be an object')
  const v = value as Record<string, unknown>
  const enabled = v['enabled'] ?? true
  if (typeof enabled !== 'boolean') throw ShadwError.INVALID_ARGUMENT('webrtc.enabled must be a boolean')
  const connectTimeoutMs = v['connectTimeoutMs'] ?? DEFAULT_CONNECT_TIMEOUT_MS
  if (!isInt(connectTimeoutMs, MAX_CONNECT_TIMEOUT_MS) || connectTimeoutMs === 0) throw ShadwError.INVALID_ARGUMENT(`webrtc.connectTimeoutMs must be 1-${MAX_CONNECT_TIMEOUT_MS}`)
  return { enabled, ice: parseIceConfig(v['ice'] ?? {}), connectTimeoutMs }
}

/** Validates the page's webrtc message to the worker. */
export function parseWebrtcWorkerInit (data: unknown): WebrtcWorkerInit {
  const m = data as Record<string, unknown> | null
  if (typeof m !== 'object' || m === null || m['type'] !== 'webrtc') throw ShadwError.BRIDGE_PROTOCOL('expected a webrtc message')
  if (!isLinkPort(m['port'])) throw ShadwError.BRIDGE_PROTOCOL('webrtc message needs a MessagePort')
  return { type: 'webrtc', port: m['port'], config: parseWebrtcConfig(m['config']) }
}

/** Validates a control message from the page (in the worker). */
export function parsePageToWorker (data: unknown): PageToWorker {
  const m = data as Record<string, unknown> | null
  if (typeof m === 'object' && m !== null && m['type'] === 'traffic') return { type: 'traffic' }
  if (typeof m !== 'object' || m === null || !isInt(m['link'])) throw ShadwError.BRIDGE_PROTOCOL('link message needs a link number')
  const link = m['link']
  switch (m['type']) {
    case 'signal': return { type: 'signal', link, signal: parseSignal(m['signal']) }
    case 'channel':
      if (!isDataChannel(m['channel'])) throw ShadwError.BRIDGE_PROTOCOL('channel needs an RTCDataChannel')
      return { type: 'channel', link, channel: m['channel'] }
    case 'closed': return { type: 'closed', link, error: (m['error'] ?? null) as SerializedError | null }
    default: throw ShadwError.BRIDGE_PROTOCOL(`unknown link message ${describeValue(m['type'])}`)
  }
}

/** Validates a control message from the worker (in the page). */
export function parseWorkerToPage (data: unknown): WorkerToPage {
  const m = data as Record<string, unknown> | null
  if (typeof m === 'object' && m !== null && m['type'] === 'traffic') {
    if (!isInt(m['bytesIn'], Number.MAX_SAFE_INTEGER) || !isInt(m['bytesOut'], Number.MAX_SAFE_INTEGER)) throw ShadwError.BRIDGE_PROTOCOL('traffic needs byte counts')
    return { type: 'traffic', bytesIn: m['bytesIn'], bytesOut: m['bytesOut'] }
  }
  if (typeof m !== 'object' || m === null || !isInt(m['link'])) throw ShadwError.BRIDGE_PROTOCOL('link message needs a link number')
  const link = m['link']
  switch (m['type']) {
    case 'start':
      if (typeof m['initiator'] !== 'boolean') throw ShadwError.BRIDGE_PROTOCOL('start needs initiator')
      return { type: 'start', link, initiator: m['initiator'], ice: parseIceConfig(m['ice']) }
    case 'signal': return { type: 'signal', link, signal: parseSignal(m['signal']) }
    case 'stop': return { type: 'stop', link, reason: typeof m['reason'] === 'string' ? m['reason'].slice(0, 256) : 'stopped' }
    default: throw ShadwError.BRIDGE_PROTOCOL(`unknown link message ${describeValue(m['type'])}`)
  }
}

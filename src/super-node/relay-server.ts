import { readFileSync } from 'node:fs'
import type { IncomingMessage, Server as HttpServer } from 'node:http'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { Duplex } from 'node:stream'
import DHTRelay from '@hyperswarm/dht-relay'
import WebSocketStream, { type RelaySocket } from '@hyperswarm/dht-relay/ws'
import type HyperDHT from 'hyperdht'
import { WebSocketServer, type WebSocket } from 'ws'
import { ShadwError } from '../core/errors.ts'
import { log } from '../core/log.ts'
import { refuseUpgrade } from './app-server.ts'
import { MemoryBudget } from './memory-budget.ts'
import { DEFAULT_MAX_CLIENT_BACKLOG_BYTES, DEFAULT_MAX_STREAM_QUEUE_BYTES, RelayMemory, type RelayClientOut, type RelayMemoryStats } from './relay-flow.ts'

const debug = log('relay')

/** Default URL path of the relay on the super node's HTTP port. */
export const DEFAULT_RELAY_PATH = '/relay'
/**
 * Default bound on concurrent relay clients. Each costs a WebSocket, a Protomux session and
 * a DHT server plus streams on the relay's DHT node; 256 keeps a small VPS's memory and file
 * descriptors bounded. Operators with bigger machines raise it.
 */
export const DEFAULT_MAX_CLIENTS = 256
/**
 * Default largest WebSocket message. One relay message carries one write batch of a relayed
 * stream; a secret-stream frame is at most 16 MiB (uint24 length prefix), so this admits any
 * single frame while capping what one client can make us buffer.
 */
export const DEFAULT_MAX_PAYLOAD_BYTES = 16 * 1024 * 1024 + 64 * 1024
/**
 * Default WebSocket ping interval. A socket that has not answered the previous ping when
 * the next one is due is dead (half-open TCP, frozen tab) and is terminated, so a dead
 * client is dropped after one to two intervals. Browsers answer pings without page code.
 */
export const DEFAULT_HEARTBEAT_MS = 30_000
/**
 * Default time a client has to send dht-relay's handshake after the upgrade. Honest clients
 * send it immediately; a socket that says nothing would only hold a client slot.
 */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000
/**
 * Default bytes a client may send before its relay handshake completes. dht-relay's
 * handshake is a few hundred bytes; without this a client that never finishes it could park
 * one unfinished maximum-size message (16 MiB) per socket.
 */
export const DEFAULT_MAX_HANDSHAKE_BYTES = 64 * 1024
/** How long `stop()` waits for a client to finish the close handshake before terminating it. */
export const STOP_GRACE_MS = 2_000

/** RFC 6455 close code: normal closure. */
export const CLOSE_NORMAL = 1000
/** RFC 6455 close code: the endpoint is going away (the relay stops). */
export const CLOSE_GOING_AWAY = 1001
/** RFC 6455 close code: protocol error (a malformed relay message, a failed request). */
export const CLOSE_PROTOCOL_ERROR = 1002
/** RFC 6455 close code: policy violation (no handshake in time). */
export const CLOSE_POLICY_VIOLATION = 1008
/** RFC 6455 close code: a message above the size bound (or too much before the handshake). */
export const CLOSE_MESSAGE_TOO_BIG = 1009
/** How long a client cut for sending too much before its handshake has to see the close frame. */
const PRE_HANDSHAKE_CUT_MS = 200
/** RFC 6455 close code: internal error (the relay could not serve this client). */
export const CLOSE_INTERNAL_ERROR = 1011
/** RFC 6455 close code: try again later (the relay is at its client bound). */
export const CLOSE_TRY_AGAIN_LATER = 1013

/** Options of a {@link RelayServer}. */
export interface RelayServerOptions {
  /** the relay's DHT node; clients' lookups, announces, servers and streams run on it */
  dht: HyperDHT
  /** the HTTP server whose upgrades on `path` become relay clients */
  server: HttpServer
  /** URL path of the relay; upgrades on other paths are left to other handlers */
  path?: string
  maxClients?: number
  maxPayloadBytes?: number
  heartbeatMs?: number
  handshakeTimeoutMs?: number
  /** bytes a client may send before its handshake completes (default {@link DEFAULT_MAX_HANDSHAKE_BYTES}) */
  maxHandshakeBytes?: number
  /** bytes one relayed stream may queue toward the DHT (default {@link DEFAULT_MAX_STREAM_QUEUE_BYTES}) */
  maxStreamQueueBytes?: number
  /** bytes held for one client that does not read its socket (default {@link DEFAULT_MAX_CLIENT_BACKLOG_BYTES}) */
  maxClientBacklogBytes?: number
  /** the node's budget those bytes, queued stream bytes and client backlogs count against (default: one of its own) */
  budget?: MemoryBudget
  /**
   * The listening HyperDHT server of this process that a client dialling `publicKey` should
   * reach in memory rather than through `dht` (a UDX stream between two sockets of one
   * event loop), or null. The client's Noise handshake is then with that server directly;
   * see docs/security.md.
   */
  local?: (publicKey: Uint8Array) => unknown
}

/** Counters of a {@link RelayServer}, for `/api/status`. */
export interface RelayStats extends RelayMemoryStats {
  path: string
  /** clients connected now */
  clients: number
  maxClients: number
  /** clients accepted since start */
  accepted: number
  /** upgrades refused because the relay was full */
  rejected: number
  /** clients closed because of an error (malformed message, socket error, failed request) */
  errors: number
  /** clients terminated by the heartbeat or the handshake timeout */
  timedOut: number
}

interface Client {
  readonly socket: WebSocket
  alive: boolean
  failed: boolean
  handshakeTimer: ReturnType<typeof setTimeout> | null
  readonly closed: Promise<void>
  readonly out: RelayClientOut
}

/**
 * The WebSocket DHT relay for browsers (`@hyperswarm/dht-relay`), on a path of the super
 * node's HTTP server. Each WebSocket is one client, isolated from the others: a malformed
 * message, a socket error or a failed request closes that client only.
 *
 * @example
 * ```ts
 * const relay = new RelayServer({ dht, server: httpServer, path: '/relay' })
 * await relay.start()
 * // browsers: new Hyperswarm({ dht: new DHTRelay(new WebSocketStream(true, new WebSocket(url))) })
 * await relay.stop()
 * ```
 */
export class RelayServer {
  readonly path: string
  readonly #dht: HyperDHT
  readonly #server: HttpServer
  readonly #maxClients: number
  readonly #maxPayloadBytes: number
  readonly #heartbeatMs: number
  readonly #handshakeTimeoutMs: number
  readonly #maxHandshakeBytes: number
  readonly #budget: MemoryBudget
  readonly #memory: RelayMemory
  readonly #local: ((publicKey: Uint8Array) => unknown) | undefined
  readonly #clients = new Set<Client>()
  readonly #onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => { this.#upgrade(req, socket, head) }
  #wss: WebSocketServer | null = null
  /** listening for upgrades: from the first start on, so a stopped relay still answers its path (503) */
  #attached = false
  #heartbeat: ReturnType<typeof setInterval> | null = null
  #stopping: Promise<void> | null = null
  #stats = { accepted: 0, rejected: 0, errors: 0, timedOut: 0 }

  constructor (opts: RelayServerOptions) {
    const path = opts.path ?? DEFAULT_RELAY_PATH
    if (!path.startsWith('/')) throw ShadwError.INVALID_ARGUMENT(`relay path must start with "/", got ${JSON.stringify(path)}`)
    this.path = path
    this.#dht = opts.dht
    this.#server = opts.server
    this.#maxClients = positiveInt('maxClients', opts.maxClients ?? DEFAULT_MAX_CLIENTS)
    this.#maxPayloadBytes = positiveInt('maxPayloadBytes', opts.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD_BYTES)
    this.#heartbeatMs = positiveInt('heartbeatMs', opts.heartbeatMs ?? DEFAULT_HEARTBEAT_MS)
    this.#handshakeTimeoutMs = positiveInt('handshakeTimeoutMs', opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS)
    this.#maxHandshakeBytes = positiveInt('maxHandshakeBytes', opts.maxHandshakeBytes ?? DEFAULT_MAX_HANDSHAKE_BYTES)
    this.#budget = opts.budget ?? new MemoryBudget()
    this.#local = opts.local
    this.#memory = new RelayMemory(this.#budget,
      positiveInt('maxStreamQueueBytes', opts.maxStreamQueueBytes ?? DEFAULT_MAX_STREAM_QUEUE_BYTES),
      positiveInt('maxClientBacklogBytes', opts.maxClientBacklogBytes ?? DEFAULT_MAX_CLIENT_BACKLOG_BYTES))
  }

  /** Starts answering upgrades on {@link path}. Safe to call twice; restarts after `stop()`. */
  async start (): Promise<void> {
    if (this.#stopping !== null) await this.#stopping
    if (this.#wss !== null) return
    assertPatched()
    this.#stopping = null
    // noServer: the HTTP server is shared with the app and the API, so we route upgrades
    // ourselves and leave other paths alone; clientTracking off because #clients tracks them
    this.#wss = new WebSocketServer({ noServer: true, clientTracking: false, maxPayload: this.#maxPayloadBytes, perMessageDeflate: false })
    if (!this.#attached) this.#server.on('upgrade', this.#onUpgrade)
    this.#attached = true
    this.#heartbeat = setInterval(() => { this.#beat() }, this.#heartbeatMs)
    this.#heartbeat.unref()
    debug('relay listening on path', this.path)
  }

  /**
   * Stops taking clients, closes every client socket (close code 1001) and waits until they
   * are closed (terminating those that do not finish the close handshake in time). Safe to
   * call twice.
   */
  stop (): Promise<void> {
    this.#stopping ??= this.#stop()
    return this.#stopping
  }

  /** Current counters. */
  stats (): RelayStats {
    return { path: this.path, clients: this.#clients.size, maxClients: this.#maxClients, ...this.#stats, ...this.#memory.stats() }
  }

  async #stop (): Promise<void> {
    // the upgrade listener stays: upgrades on the path get a 503 while the relay is stopped
    if (this.#heartbeat !== null) clearInterval(this.#heartbeat)
    this.#heartbeat = null
    const clients = [...this.#clients]
    for (const client of clients) client.socket.close(CLOSE_GOING_AWAY, 'relay stopping')
    const grace = setTimeout(() => { for (const client of clients) client.socket.terminate() }, STOP_GRACE_MS)
    await Promise.all(clients.map(client => client.closed))
    clearTimeout(grace)
    const wss = this.#wss
    this.#wss = null
    if (wss !== null) await new Promise<void>(resolve => { wss.close(() => { resolve() }) })
    debug('relay stopped')
  }

  #upgrade (req: IncomingMessage, socket: Duplex, head: Buffer): void {
    if (requestPath(req) !== this.path) return
    const wss = this.#wss
    if (wss === null || this.#stopping !== null) {
      refuseUpgrade(socket, 503, 'Service Unavailable')
      return
    }
    // an error on the raw socket before the upgrade completes must not be unhandled
    socket.on('error', () => { socket.destroy() })
    wss.handleUpgrade(req, socket, head, (ws) => {
      // an upgrade that completes after stop() began would escape stop()'s list of clients
      if (this.#wss === null || this.#stopping !== null) {
        ws.close(CLOSE_GOING_AWAY, 'relay stopping')
        return
      }
      if (this.#clients.size >= this.#maxClients) {
        this.#stats.rejected++
        debug('relay full, refusing', req.socket.remoteAddress)
        ws.close(CLOSE_TRY_AGAIN_LATER, 'relay full')
        return
      }
      this.#accept(ws, socket)
    })
  }

  #accept (ws: WebSocket, raw: Duplex): void {
    let onClosed: () => void = () => {}
    const closed = new Promise<void>(resolve => { onClosed = resolve })
    const client: Client = { socket: ws, alive: true, failed: false, handshakeTimer: null, closed, out: { socket: ws, backlog: 0, cut: false } }
    let stream: WebSocketStream
    try {
      stream = new WebSocketStream(false, socketView(ws, client, (data) => { this.#memory.send(client.out, data) }))
    } catch (err) {
      this.#stats.errors++
      debug('cannot wrap socket', err)
      ws.close(CLOSE_INTERNAL_ERROR, 'relay error')
      return
    }
    this.#clients.add(client)
    this.#stats.accepted++

    const fail = (err: unknown): void => {
      if (client.failed) return
      client.failed = true
      this.#stats.errors++
      debug('client error', err)
    }
    ws.on('error', fail)
    ws.on('pong', () => { client.alive = true })
    ws.on('close', () => {
      if (client.handshakeTimer !== null) clearTimeout(client.handshakeTimer)
      this.#memory.drop(client.out)
      this.#clients.delete(client)
      // the transport's own close listener destroys the stream, which tears down the
      // client's DHT servers and streams on the relay side; this is for a socket whose
      // listeners the transport had already removed
      stream.destroy()
      onClosed()
    })
    stream.on('error', fail)

    // until the handshake completes, what the client sends is bounded, and held against the budget
    let preHandshake = 0
    let cutting = false
    const onRaw = (data: Buffer): void => {
      preHandshake += data.byteLength
      if (preHandshake <= this.#maxHandshakeBytes && this.#budget.take(data.byteLength)) {
        budgeted += data.byteLength
        return
      }
      if (cutting) return
      cutting = true
      debug('too much before the handshake', preHandshake)
      // 1009, unless ws closed it already (an oversized frame: its own 1009, counted as an
      // error there); cut shortly after whatever the client sends
      if (ws.readyState === ws.OPEN) {
        this.#stats.errors++
        ws.close(CLOSE_MESSAGE_TOO_BIG, 'too much before the relay handshake')
      }
      setTimeout(() => { ws.terminate() }, PRE_HANDSHAKE_CUT_MS).unref()
    }
    let budgeted = 0
    const endPreHandshake = (): void => {
      raw.off('data', onRaw)
      this.#budget.give(budgeted)
      budgeted = 0
    }
    raw.on('data', onRaw)
    ws.once('close', endPreHandshake)

    client.handshakeTimer = setTimeout(() => {
      client.handshakeTimer = null
      this.#stats.timedOut++
      debug('no handshake in time', this.#handshakeTimeoutMs)
      ws.close(CLOSE_POLICY_VIOLATION, 'no relay handshake')
    }, this.#handshakeTimeoutMs)

    let handshake: Promise<unknown>
    try {
      handshake = DHTRelay.relay(this.#dht, stream, { flow: this.#memory.flow(ws), ...(this.#local === undefined ? {} : { local: this.#local }) })
    } catch (err) {
      fail(err)
      ws.close(CLOSE_INTERNAL_ERROR, 'relay error')
      return
    }
    handshake.then(() => {
      endPreHandshake()
      if (client.handshakeTimer !== null) clearTimeout(client.handshakeTimer)
      client.handshakeTimer = null
    }, (err: unknown) => {
      fail(err)
      ws.close(CLOSE_INTERNAL_ERROR, 'relay error')
    })
  }

  #beat (): void {
    for (const client of this.#clients) {
      if (!client.alive) {
        this.#stats.timedOut++
        debug('client missed a heartbeat, terminating')
        client.socket.terminate()
        continue
      }
      client.alive = false
      try {
        client.socket.ping()
      } catch {
        // ping throws only while the socket is still connecting, which a served client is not
      }
    }
  }
}

/**
 * The socket as the dht-relay transport sees it. The transport closes the socket without a
 * code from inside the stream's destroy, before the stream's error event; deferring the
 * close lets it carry the reason (1002 after an error, 1000 otherwise). ws ignores a close
 * on a socket that is already closing, so a code the peer or ws chose (1009) stands.
 */
function socketView (ws: WebSocket, client: Client, send: (data: Uint8Array) => void): RelaySocket {
  return {
    get binaryType () { return ws.binaryType },
    set binaryType (type: string) { ws.binaryType = type === 'arraybuffer' ? 'arraybuffer' : 'nodebuffer' },
    get readyState () { return ws.readyState },
    send,
    close () {
      setImmediate(() => {
        if (client.failed) ws.close(CLOSE_PROTOCOL_ERROR, 'relay protocol error')
        else ws.close(CLOSE_NORMAL)
      })
    },
    addEventListener (type: string, listener: (event: unknown) => void) { ws.addEventListener(type as 'message', listener) },
    removeEventListener (type: string, listener: (event: unknown) => void) { ws.removeEventListener(type as 'message', listener) }
  }
}

function positiveInt (name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw ShadwError.INVALID_ARGUMENT(`${name} must be a positive integer, got ${value}`, { [name]: value })
  return value
}

function requestPath (req: IncomingMessage): string | null {
  try {
    return new URL(req.url ?? '/', 'http://relay.invalid').pathname
  } catch {
    return null
  }
}

let patchChecked = false

/**
 * One line of each patched file that only the current patch has: 0.4.3 kills the process
 * when a relayed server stream errors (server-proxy), loses a slow client's dialled stream
 * at the server (stream-proxy) and drops a client's relay stream when a handshake reply
 * comes through two DHT nodes (handshake-proxy); it sends each UDX packet of a relayed stream
 * as a WebSocket frame of its own (coalesce); it reaches a key this process serves in
 * memory, not over loopback UDX (local-dial). See patches/.
 */
const PATCH_MARKERS: ReadonlyArray<readonly [file: string, marker: string]> = [
  ['server-proxy.js', 'paired: true'],
  ['stream-proxy.js', 'rawStream.trySend(POKE)'],
  ['handshake-proxy.js', 'Handshake step already taken'],
  ['node-proxy.js', 'function writeWithin'],
  ['coalesce.js', 'function coalescer'],
  ['local-dial.js', 'function dialLocal']
]

/**
 * Refuses to run on an unpatched (or older-patched) dht-relay. The patch is applied by
 * `postinstall`; an install with scripts disabled skips it, and that must fail here,
 * loudly, not misbehave later.
 */
function assertPatched (): void {
  if (patchChecked) return
  const require = createRequire(import.meta.url)
  const lib = join(dirname(require.resolve('@hyperswarm/dht-relay')), 'lib')
  for (const [name, marker] of PATCH_MARKERS) {
    const file = join(lib, name)
    if (!readFileSync(file, 'utf8').includes(marker)) {
      throw ShadwError.INTERNAL(`@hyperswarm/dht-relay is not patched (${file}); run "npm install" with scripts enabled so patch-package applies patches/`)
    }
  }
  patchChecked = true
}

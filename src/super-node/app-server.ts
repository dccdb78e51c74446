import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import { extname, join, normalize, resolve, sep } from 'node:path'
import { serializeError, ShadwError } from '../core/errors.ts'
import { log } from '../core/log.ts'
import { ISOLATION_HEADERS, SHARED_RESOURCE_HEADERS } from './isolation.ts'
import { MemoryBudget } from './memory-budget.ts'

const debug = log('http')

/** Content types of what the built app contains. */
const MIME: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.webmanifest': 'application/manifest+json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8'
}

/**
 * How long `close()` lets open connections finish before destroying them: in-flight
 * responses get this long, a client that holds a socket open gets no longer.
 */
export const CLOSE_GRACE_MS = 1_000
/** How long a refused request's answer may take to leave before its socket is cut. */
const REFUSAL_FLUSH_MS = 1_000

/**
 * Answers an upgrade nobody serves and destroys its socket. Node hands an upgrade's socket
 * to the `upgrade` listeners and forgets it: one left unanswered stays open for ever (half
 * open even after the client leaves), so a flood of them exhausts the descriptors.
 */
export function refuseUpgrade (socket: Duplex, status: 404 | 426 | 503, reason: string): void {
  socket.on('error', () => { socket.destroy() })
  if (socket.writable) socket.end(`HTTP/1.1 ${status} ${reason}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`)
  socket.destroy()
}

/** A JSON API route: returns the body to send (or throws a ShadwError). */
export type ApiRoute = (req: IncomingMessage, url: URL) => Promise<unknown> | unknown

/** A Fetch API handler mounted under a path prefix. */
export type FetchHandler = (req: Request, client?: string) => Promise<Response>

/**
 * Serves the built web app and the JSON API on one HTTP server; the relay shares its port
 * through the `upgrade` event. Hashed assets are immutable; `sw.js` and HTML never cached,
 * or a fixed app could not reach browsers. The app's files are served cross-origin isolated
 * (isolation.ts).
 */
export class AppServer {
  readonly server: Server
  readonly #root: string
  readonly #routes = new Map<string, ApiRoute>()
  readonly #mounts: Array<{ prefix: string, handler: FetchHandler, maxBodyBytes: number, methods: readonly string[] }> = []
  /** paths whose upgrades another listener serves (the relay); every other upgrade is refused */
  readonly #upgradePaths = new Set<string>()
  /** every socket of the server, upgraded ones too: the server forgets those, close() must not */
  readonly #sockets = new Set<Socket>()

  /** bytes of unfinished request bodies (and the relay's pre-handshake messages) held at once */
  readonly budget: MemoryBudget

  constructor (opts: { root: string, budget?: MemoryBudget }) {
    this.#root = resolve(opts.root)
    this.budget = opts.budget ?? new MemoryBudget()
    this.server = createServer((req, res) => { this.#handle(req, res).catch(err => { this.#fail(res, err) }) })
    this.server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket)
      socket.once('close', () => { this.#sockets.delete(socket) })
    })
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex) => {
      if (!this.#upgradePaths.has(pathOf(req.url))) refuseUpgrade(socket, 404, 'Not Found')
    })
  }

  /** Leaves upgrades on `path` to another `upgrade` listener (which must answer each one). */
  claimUpgrade (path: string): void {
    this.#upgradePaths.add(path)
  }

  /** Adds a GET route under `/api/`. */
  route (path: `/api/${string}`, handler: ApiRoute): void {
    this.#routes.set(path, handler)
  }

  /**
   * Hands every request under `prefix` in one of `methods` to a Fetch API handler: the `/fn/*`
   * gateway. A body above `maxBodyBytes` is answered 413 without being read further; another
   * method is answered 405 (TRACE and CONNECT cannot even become a Fetch Request).
   */
  mount (prefix: string, handler: FetchHandler, maxBodyBytes: number, methods: readonly string[] = ['GET', 'HEAD', 'POST', 'OPTIONS']): void {
    this.#mounts.push({ prefix, handler, maxBodyBytes, methods })
  }

  async listen (port: number, host: string): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, host, () => { this.server.off('error', reject); resolve() })
    })
    return this.server.address() as AddressInfo
  }

  /**
   * Stops listening, closes idle connections at once and destroys whatever is still open
   * after {@link CLOSE_GRACE_MS} (requests in flight, upgraded sockets, slow clients), so it
   * always resolves.
   */
  async close (): Promise<void> {
    if (!this.server.listening) return
    const closed = new Promise<void>(resolve => { this.server.close(() => { resolve() }) })
    this.server.closeIdleConnections()
    const force = setTimeout(() => {
      this.server.closeAllConnections()
      for (const socket of this.#sockets) socket.destroy()
    }, CLOSE_GRACE_MS)
    try {
      await closed
    } finally {
      clearTimeout(force)
    }
  }

  /** Open sockets (HTTP and upgraded), for tests and status. */
  get connections (): number {
    return this.#sockets.size
  }

  async #handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const mount = this.#mounts.find(m => url.pathname.startsWith(m.prefix))
    if (mount !== undefined) {
      if (!mount.methods.includes(req.method ?? '')) {
        notAllowed(req, res, url.pathname, mount.methods, { 'access-control-allow-origin': '*' })
        return
      }
      await this.#fetch(mount, url, req, res)
      return
    }
    const route = this.#routes.get(url.pathname)
    if (route !== undefined && req.method !== 'GET' && req.method !== 'HEAD') {
      notAllowed(req, res, url.pathname, API_METHODS)
      return
    }
    if (route !== undefined) {
      const body = await route(req, url)
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      res.end(req.method === 'HEAD' ? undefined : JSON.stringify(body, null, 2))
      return
    }
    if (url.pathname.startsWith('/api/')) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 'NOT_FOUND', message: `no API route ${url.pathname}` }))
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end()
      return
    }
    await this.#serveFile(url.pathname, req, res)
  }

  async #fetch (mount: { handler: FetchHandler, maxBodyBytes: number }, url: URL, req: IncomingMessage, res: ServerResponse): Promise<void> {
    // every byte buffered here counts against the node's budget until the answer is sent
    const body = req.method === 'GET' || req.method === 'HEAD' ? { chunks: [], held: 0 } : await this.#readBody(req, mount.maxBodyBytes)
    if ('status' in body) {
      // the rest of the body is read and dropped (buffering nothing) while the answer goes out:
      // a socket cut with unread bytes is reset, and the reset would swallow the answer; the
      // socket is cut after a short grace whatever the client does
      req.on('data', () => {})
      req.resume()
      const cut = setTimeout(() => { req.socket.destroy() }, REFUSAL_FLUSH_MS)
      req.socket.once('close', () => { clearTimeout(cut) })
      res.writeHead(body.status, { 'content-type': 'application/json', 'access-control-allow-origin': '*', 'shadw-error-code': body.code, connection: 'close' })
      res.end(JSON.stringify({ code: body.code, message: body.message }))
      return
    }
    try {
      await this.#answer(mount, url, req, res, body.chunks)
    } finally {
      this.budget.give(body.held)
    }
  }

  /** Reads a request body within `max` bytes and the node's budget; a refusal stops reading and gives back what it held. */
  #readBody (req: IncomingMessage, max: number): Promise<{ chunks: Buffer[], held: number } | { status: number, code: string, message: string }> {
    const tooLarge = { status: 413, code: 'INPUT_TOO_LARGE', message: `INPUT_TOO_LARGE: body exceeds ${max} bytes` }
    if (Number(req.headers['content-length'] ?? 0) > max) return Promise.resolve(tooLarge)
    return new Promise(resolve => {
      const chunks: Buffer[] = []
      let held = 0
      const stop = (answer: { status: number, code: string, message: string } | null): void => {
        req.off('data', onData)
        req.off('end', onEnd)
        req.off('error', onEnd)
        req.off('close', onEnd)
        if (answer === null) {
          resolve({ chunks, held })
          return
        }
        this.budget.give(held)
        resolve(answer)
      }
      const onData = (chunk: Buffer): void => {
        if (held + chunk.byteLength > max) { stop(tooLarge); return }
        if (!this.budget.take(chunk.byteLength)) {
          const e = this.budget.refusal('request bodies')
          stop({ status: 503, code: e.code, message: e.message })
          return
        }
        held += chunk.byteLength
        chunks.push(chunk)
      }
      // a client that left before the end is answered nothing; its bytes are given back
      const onEnd = (): void => { stop(req.complete ? null : { status: 400, code: 'INVALID_ARGUMENT', message: 'INVALID_ARGUMENT: the request body ended early' }) }
      req.on('data', onData)
      req.on('end', onEnd)
      req.on('error', onEnd)
      req.on('close', onEnd)
    })
  }

  async #answer (mount: { handler: FetchHandler }, url: URL, req: IncomingMessage, res: ServerResponse, chunks: Buffer[]): Promise<void> {
    const headers = new Headers()
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v)
    const request = new Request(url, { method: req.method ?? 'GET', headers, ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}) })
    const response = await mount.handler(request, req.socket.remoteAddress)
    res.writeHead(response.status, { ...SHARED_RESOURCE_HEADERS, ...Object.fromEntries(response.headers) })
    if (response.body === null || req.method === 'HEAD') {
      res.end()
      return
    }
    // streamed with backpressure: a drive file of any size passes through a bounded buffer
    // (the response's close, not the request's: a GET's request closes once its empty body is read)
    const reader = response.body.getReader()
    res.once('close', () => { if (!res.writableFinished) reader.cancel().catch(() => {}) })
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        if (!res.write(value)) await new Promise<void>(resolve => { res.once('drain', resolve); res.once('close', resolve) })
        if (res.destroyed) {
          await reader.cancel().catch(() => {})
          return
        }
      }
    } catch (err) {
      // headers are out: a body that fails midway can only cut the connection, so the client
      // sees a short read rather than a complete-looking wrong file
      res.destroy(err as Error)
      return
    }
    res.end()
  }

  async #serveFile (pathname: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    let decoded: string
    try {
      decoded = decodeURIComponent(pathname)
    } catch {
      res.writeHead(400).end()
      return
    }
    const file = normalize(join(this.#root, decoded))
    // a path that climbs out of the app directory is refused, not resolved
    if (file !== this.#root && !file.startsWith(this.#root + sep)) {
      res.writeHead(403).end()
      return
    }
    let target = file
    let info = await stat(target).catch(() => null)
    if (info?.isDirectory() === true) {
      target = join(target, 'index.html')
      info = await stat(target).catch(() => null)
    }
    if (info === null || !info.isFile()) {
      // client-side routes get the app; missing assets get a 404
      if (extname(decoded) !== '') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('not found')
        return
      }
      target = join(this.#root, 'index.html')
      info = await stat(target).catch(() => null)
      if (info === null) {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('the web app is not built: run `npm run build`')
        return
      }
    }
    const immutable = target.includes(`${sep}assets${sep}`)
    res.writeHead(200, {
      'content-type': MIME[extname(target)] ?? 'application/octet-stream',
      'content-length': info.size,
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache',
      // on every file, workers' scripts too: a worker is isolated only when its own script says so
      ...ISOLATION_HEADERS
    })
    if (req.method === 'HEAD') {
      res.end()
      return
    }
    createReadStream(target).pipe(res)
  }

  #fail (res: ServerResponse, err: unknown): void {
    debug('request failed', err)
    const body = serializeError(err)
    if (!res.headersSent) res.writeHead(body.code === 'INTERNAL' ? 500 : body.code === 'METHOD_NOT_ALLOWED' ? 405 : body.code.endsWith('_NOT_FOUND') ? 404 : 400, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }
}

/** The methods `/api/*` routes answer. */
const API_METHODS: readonly string[] = ['GET', 'HEAD']

function notAllowed (req: IncomingMessage, res: ServerResponse, path: string, allow: readonly string[], extra: Record<string, string> = {}): void {
  const body = serializeError(ShadwError.METHOD_NOT_ALLOWED(req.method ?? '', path, allow))
  res.writeHead(405, { allow: allow.join(', '), 'content-type': 'application/json', 'shadw-error-code': body.code, ...extra })
  res.end(req.method === 'HEAD' ? undefined : JSON.stringify(body))
}

function pathOf (url: string | undefined): string {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname
  } catch {
    return ''
  }
}

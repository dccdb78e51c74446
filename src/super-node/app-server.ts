import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { extname, join, normalize, resolve, sep } from 'node:path'
import { serializeError } from '../core/errors.ts'
import { log } from '../core/log.ts'

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

/** A JSON API route: returns the body to send (or throws a ShadwError). */
export type ApiRoute = (req: IncomingMessage, url: URL) => Promise<unknown> | unknown

/** A Fetch API handler mounted under a path prefix. */
export type FetchHandler = (req: Request) => Promise<Response>

/**
 * Serves the built web app and the JSON API on one HTTP server; the relay shares its port
 * through the `upgrade` event. Hashed assets are immutable; `sw.js` and HTML never cached,
 * or a fixed app could not reach browsers.
 */
export class AppServer {
  readonly server: Server
  readonly #root: string
  readonly #routes = new Map<string, ApiRoute>()
  readonly #mounts: Array<{ prefix: string, handler: FetchHandler, maxBodyBytes: number }> = []

  constructor (opts: { root: string }) {
    this.#root = resolve(opts.root)
    this.server = createServer((req, res) => { this.#handle(req, res).catch(err => { this.#fail(res, err) }) })
  }

  /** Adds a GET route under `/api/`. */
  route (path: `/api/${string}`, handler: ApiRoute): void {
    this.#routes.set(path, handler)
  }

  /**
   * Hands every request under `prefix` (any method) to a Fetch API handler: the `/fn/*`
   * gateway. A body above `maxBodyBytes` is answered 413 without being read further.
   */
  mount (prefix: string, handler: FetchHandler, maxBodyBytes: number): void {
    this.#mounts.push({ prefix, handler, maxBodyBytes })
  }

  async listen (port: number, host: string): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(port, host, () => { this.server.off('error', reject); resolve() })
    })
    return this.server.address() as AddressInfo
  }

  async close (): Promise<void> {
    if (!this.server.listening) return
    this.server.closeAllConnections()
    await new Promise<void>(resolve => { this.server.close(() => { resolve() }) })
  }

  async #handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const mount = this.#mounts.find(m => url.pathname.startsWith(m.prefix))
    if (mount !== undefined) {
      await this.#fetch(mount, url, req, res)
      return
    }
    const route = this.#routes.get(url.pathname)
    if (route !== undefined) {
      const body = await route(req, url)
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' })
      res.end(JSON.stringify(body, null, 2))
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
    const chunks: Buffer[] = []
    let size = 0
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      for await (const chunk of req) {
        size += (chunk as Buffer).byteLength
        if (size > mount.maxBodyBytes) {
          res.writeHead(413, { 'content-type': 'application/json', 'access-control-allow-origin': '*' })
          res.end(JSON.stringify({ code: 'INPUT_TOO_LARGE', message: `INPUT_TOO_LARGE: body exceeds ${mount.maxBodyBytes} bytes` }))
          req.destroy()
          return
        }
        chunks.push(chunk as Buffer)
      }
    }
    const headers = new Headers()
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v)
    const request = new Request(url, { method: req.method ?? 'GET', headers, ...(chunks.length > 0 ? { body: Buffer.concat(chunks) } : {}) })
    const response = await mount.handler(request)
    res.writeHead(response.status, Object.fromEntries(response.headers))
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
      'cache-control': immutable ? 'public, max-age=31536000, immutable' : 'no-cache'
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
    if (!res.headersSent) res.writeHead(body.code === 'INTERNAL' ? 500 : 400, { 'content-type': 'application/json' })
    res.end(JSON.stringify(body))
  }
}

/**
 * `GET /drive/<key>[@version]/<path>` as a Fetch API handler, for every host that serves
 * drives (the super node's HTTP server; the same code answers wherever a `Request` arrives).
 * Files stream out with `Range` (206, 416), content types, ETags by version (304 on
 * If-None-Match) and HEAD. A path ending in `/` answers with the folder's `index.html` when it
 * has one (so a drive serves a site) and otherwise lists the folder as JSON; `?list` always
 * lists. A folder named without its `/` (the drive's root too) whose index.html exists is
 * redirected to the name with the `/`, so the page's relative links resolve inside the folder.
 * Versioned URLs are immutable and cached for good; the latest is revalidated.
 */
import { ShadwError, serializeError } from '../errors.ts'
import type { Drive, DriveEntry } from './drive.ts'
import { contentTypeOf, drivePath, parseDriveKey, parseDriveVersion } from './paths.ts'

/** The URL prefix drives are served under. */
export const DRIVE_PREFIX = '/drive/'

/** Longest request URL accepted, in characters. */
const MAX_URL_CHARS = 8192

/** Opens (or returns an open) drive by key, hex. */
export type DriveOpener = (key: string) => Promise<Drive>

/** The file a folder serves in place of its listing. */
export const INDEX_FILE = 'index.html'

/**
 * A parsed drive URL. `list`: the path names a folder (it ends in `/`, or `?list`); `index`:
 * the folder's index.html may answer in its place (no `?list`); `bare`: nothing followed the
 * key (`/drive/<key>`), so a site's root is redirected to `/drive/<key>/`.
 */
export interface DriveUrl { key: string, version: number | null, path: string, list: boolean, index: boolean, bare: boolean }

/** Parses `/drive/<key>[@version]/<path>[?version=N]`. @throws typed errors for a malformed URL */
export function parseDriveUrl (url: URL): DriveUrl {
  if (url.href.length > MAX_URL_CHARS) throw ShadwError.DRIVE_PATH_INVALID(url.pathname, `URL is longer than ${MAX_URL_CHARS} characters`)
  if (!url.pathname.startsWith(DRIVE_PREFIX)) throw ShadwError.INVALID_DRIVE_REF(url.pathname, `drive URLs start with ${DRIVE_PREFIX}`)
  const rest = url.pathname.slice(DRIVE_PREFIX.length)
  const slash = rest.indexOf('/')
  const head = slash === -1 ? rest : rest.slice(0, slash)
  const at = head.indexOf('@')
  const key = (at === -1 ? head : head.slice(0, at)).toLowerCase()
  parseDriveKey(key)
  let version = at === -1 ? null : parseDriveVersion(head.slice(at + 1), url.pathname)
  const q = url.searchParams.get('version')
  if (q !== null) {
    if (version !== null) throw ShadwError.INVALID_DRIVE_REF(url.pathname, 'give the version once: @N or ?version=N')
    version = parseDriveVersion(q, q)
  }
  let raw: string
  try {
    raw = decodeURIComponent(slash === -1 ? '/' : rest.slice(slash))
  } catch {
    throw ShadwError.DRIVE_PATH_INVALID(url.pathname, 'path is not valid percent-encoding')
  }
  const explicit = url.searchParams.has('list')
  const list = raw.endsWith('/') || explicit
  return { key, version, path: drivePath(raw, { dir: list }), list, index: !explicit, bare: slash === -1 }
}

/** The HTTP status each drive error answers with. */
function statusOf (err: unknown): number {
  const code = err instanceof ShadwError ? err.code : 'INTERNAL'
  switch (code) {
    case 'INVALID_DRIVE_REF':
    case 'DRIVE_PATH_INVALID':
    case 'INVALID_ARGUMENT': return 400
    case 'DRIVE_LOCKED': return 403
    case 'DRIVE_NOT_FOUND': return 404
    case 'DRIVE_RANGE_INVALID': return 416
    case 'TIMEOUT': return 504
    default: return 500
  }
}

const CORS = { 'access-control-allow-origin': '*', 'access-control-expose-headers': 'etag, content-range, content-length, accept-ranges, x-drive-version' }

function errorResponse (err: unknown, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(serializeError(err)), { status: statusOf(err), headers: { 'content-type': 'application/json', ...CORS, ...extra } })
}

/** Parses one `bytes=` range against `size`; null serves the whole file (absent or multi-range). */
export function parseRange (header: string | null, size: number): { start: number, end: number } | null {
  if (header === null) return null
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim())
  if (m === null) {
    if (/^bytes=[\d\s,-]+$/.test(header.trim()) && header.includes(',')) return null // several ranges: the whole file is a valid answer
    throw ShadwError.DRIVE_RANGE_INVALID(header, size)
  }
  const [, a = '', b = ''] = m
  if (a === '' && b === '') throw ShadwError.DRIVE_RANGE_INVALID(header, size)
  if (a === '') {
    const n = Number(b)
    if (n === 0 || size === 0) throw ShadwError.DRIVE_RANGE_INVALID(header, size)
    return { start: Math.max(0, size - n), end: size - 1 }
  }
  const start = Number(a)
  const end = b === '' ? size - 1 : Math.min(Number(b), size - 1)
  if (!Number.isSafeInteger(start) || start >= size || end < start) throw ShadwError.DRIVE_RANGE_INVALID(header, size)
  return { start, end }
}

/** The Fetch API handler for `/drive/*` over drives `open` returns. */
export function driveHandler (open: DriveOpener): (req: Request) => Promise<Response> {
  return async (req: Request): Promise<Response> => {
    if (req.method === 'OPTIONS') return new Response(null, { status: 204, headers: { ...CORS, 'access-control-allow-methods': 'GET, HEAD', 'access-control-allow-headers': 'range, if-none-match' } })
    if (req.method !== 'GET' && req.method !== 'HEAD') return new Response(null, { status: 405, headers: { allow: 'GET, HEAD', ...CORS } })
    try {
      const u = parseDriveUrl(new URL(req.url))
      const drive = await open(u.key)
      if (u.version === null) await drive.update()
      const version = u.version ?? drive.version
      if (u.list) {
        const index = u.index ? await drive.entry(indexOf(u.path), { version }) : null
        if (index !== null && u.bare) return redirect(req, u.path)
        if (index !== null) return await serveFile(req, drive, u, indexOf(u.path), index, version)
        const entries = await drive.list(u.path, { version })
        return serveListing(req, new TextEncoder().encode(JSON.stringify({ key: u.key, version, dir: u.path, entries })), version, u.version !== null)
      }
      const entry = await drive.entry(u.path, { version })
      if (entry === null && await drive.entry(indexOf(u.path), { version }) !== null) return redirect(req, u.path)
      if (entry === null) throw ShadwError.DRIVE_NOT_FOUND(`no file ${u.path} in drive ${u.key} at version ${version}`, { key: u.key, path: u.path })
      return await serveFile(req, drive, u, u.path, entry, version)
    } catch (err) {
      return errorResponse(err)
    }
  }
}

function indexOf (dir: string): string {
  return dir === '/' ? `/${INDEX_FILE}` : `${dir}/${INDEX_FILE}`
}

/** To the folder's name with its `/`: the request's own URL, as the client wrote it, plus `/`. */
function redirect (req: Request, dir: string): Response {
  const url = new URL(req.url)
  url.pathname += '/'
  return new Response(null, { status: 301, headers: { location: url.pathname + url.search, 'x-drive-folder': dir, ...CORS } })
}

function cacheHeaders (versioned: boolean): Record<string, string> {
  return { 'cache-control': versioned ? 'public, max-age=31536000, immutable' : 'no-cache' }
}

/**
 * A folder's listing at one version never changes, so it answers `Range` like a file: a
 * listing larger than one bridge window crosses it window by window, and `x-drive-listing`
 * tells the windowing that the next window asks for the listing, not a file.
 */
function serveListing (req: Request, bytes: Uint8Array, version: number, versioned: boolean): Response {
  const headers: Record<string, string> = { 'content-type': 'application/json', 'accept-ranges': 'bytes', 'x-drive-version': String(version), 'x-drive-listing': '1', ...cacheHeaders(versioned), ...CORS }
  let range: { start: number, end: number } | null
  try {
    range = parseRange(req.headers.get('range'), bytes.byteLength)
  } catch (err) {
    return errorResponse(err, { 'content-range': `bytes */${bytes.byteLength}` })
  }
  const body = range === null ? bytes : bytes.subarray(range.start, range.end + 1)
  headers['content-length'] = String(body.byteLength)
  if (range !== null) headers['content-range'] = `bytes ${range.start}-${range.end}/${bytes.byteLength}`
  return new Response(req.method === 'HEAD' ? null : body as Uint8Array<ArrayBuffer>, { status: range === null ? 200 : 206, headers })
}

async function serveFile (req: Request, drive: Drive, u: DriveUrl, path: string, entry: DriveEntry, version: number): Promise<Response> {
  // the entry's own version names its bytes: a later write elsewhere in the drive keeps the ETag
  const etag = `"${u.key.slice(0, 16)}-${entry.version}"`
  const headers: Record<string, string> = {
    'content-type': contentTypeOf(path),
    'accept-ranges': 'bytes',
    etag,
    'x-drive-version': String(version),
    ...cacheHeaders(u.version !== null),
    ...CORS
  }
  const inm = req.headers.get('if-none-match')
  if (inm !== null && inm.split(',').map(s => s.trim().replace(/^W\//, '')).includes(etag)) return new Response(null, { status: 304, headers })
  let range: { start: number, end: number } | null
  try {
    range = parseRange(req.headers.get('range'), entry.size)
  } catch (err) {
    return errorResponse(err, { 'content-range': `bytes */${entry.size}` })
  }
  const length = range === null ? entry.size : range.end - range.start + 1
  headers['content-length'] = String(length)
  if (range !== null) headers['content-range'] = `bytes ${range.start}-${range.end}/${entry.size}`
  const status = range === null ? 200 : 206
  if (req.method === 'HEAD' || length === 0) return new Response(null, { status, headers })
  const it = drive.read(path, { version, ...(range === null ? {} : range) })
  const body = new ReadableStream<Uint8Array>({
    async pull (ctrl) {
      try {
        const { value, done } = await it.next()
        if (done === true) ctrl.close()
        else ctrl.enqueue(value)
      } catch (err) {
        ctrl.error(err)
      }
    },
    async cancel () {
      await it.return(undefined)
    }
  })
  return new Response(body, { status, headers })
}

/** One window of a drive response, as it crosses the browser's bridge to the service worker. */
export interface DriveReply {
  status: number
  headers: Record<string, string>
  body: Uint8Array | null
  /** when the body goes on past this window: the pinned-version URL and byte range to ask next */
  next: { url: string, start: number, last: number } | null
}

/** What the service worker forwards of a `/drive/*` request. */
export interface DriveFetchParams {
  /** path and query, starting `/drive/` */
  url: string
  method: 'GET' | 'HEAD'
  range?: string
  ifNoneMatch?: string
}

/**
 * Answers a `/drive/*` request with at most `windowBytes` of body; the rest is asked for by
 * range at the version this answer was read at, so a file of any size crosses a bounded
 * message channel window by window and stays one consistent version.
 */
export async function driveReply (handler: (req: Request) => Promise<Response>, params: DriveFetchParams, windowBytes: number): Promise<DriveReply> {
  const headers: Record<string, string> = {}
  if (params.range !== undefined) headers['range'] = params.range
  if (params.ifNoneMatch !== undefined) headers['if-none-match'] = params.ifNoneMatch
  const url = new URL(params.url, 'http://drive.local')
  const res = await handler(new Request(url, { method: params.method, headers }))
  const out: DriveReply = { status: res.status, headers: {}, body: null, next: null }
  res.headers.forEach((value, name) => { out.headers[name] = value })
  if (res.body === null) return out
  const reader = res.body.getReader()
  const parts: Uint8Array[] = []
  let size = 0
  let done = false
  while (size < windowBytes) {
    const r = await reader.read()
    if (r.done) { done = true; break }
    parts.push(r.value)
    size += r.value.byteLength
  }
  if (!done) await reader.cancel().catch(() => {})
  // a chunk may run past the window (a whole listing is one): the window keeps its bound
  size = Math.min(size, windowBytes)
  const body = new Uint8Array(size)
  let at = 0
  for (const p of parts) {
    if (at >= size) break
    const part = p.subarray(0, size - at)
    body.set(part, at)
    at += part.byteLength
  }
  const more = size < Number(out.headers['content-length'])
  out.body = body
  if (more) {
    const u = parseDriveUrl(url)
    const range = /^bytes (\d+)-(\d+)\/\d+$/.exec(out.headers['content-range'] ?? '')
    const first = range === null ? 0 : Number(range[1])
    const last = range === null ? Number(out.headers['content-length']) - 1 : Number(range[2])
    // a folder's body is its listing (asked for again with ?list) or its index.html (asked for by name)
    const listing = out.headers['x-drive-listing'] === '1'
    const name = listing ? `${u.path === '/' ? '' : u.path}/` : u.list ? indexOf(u.path) : u.path
    const path = name.split('/').map(encodeURIComponent).join('/')
    out.next = { url: `${DRIVE_PREFIX}${u.key}@${out.headers['x-drive-version'] ?? ''}${path}${listing ? '?list' : ''}`, start: first + size, last }
  }
  return out
}

/**
 * Reading drives from any page (or Node): a file as a streaming `Response` (with an optional
 * byte range) and a folder's listing, over `GET /drive/*` on a super node (`url`, CORS
 * allowed) or the page's own origin. Keys and paths are checked before anything is sent;
 * a failure comes back as the typed error the server sent. See docs/storage.md.
 *
 * @example
 * ```ts
 * import { readDriveFile, listDrive } from 'shadw/client'
 * const res = await readDriveFile(key, '/video.mp4', { url: 'https://node.example/', range: { start: 0, end: 1023 } })
 * const { entries } = await listDrive(key, '/photos', { url: 'https://node.example/' })
 * ```
 */
import { ShadwError, deserializeError } from '../errors.ts'
import { DRIVE_PREFIX, drivePath, parseDriveKey, type DriveEntry } from '../drive/index.ts'

/** Options of {@link readDriveFile} and {@link listDrive}. */
export interface DriveReadOptions {
  /** a super node's base URL (default: the page's own origin) */
  url?: string
  /** a version to read at (default: the latest) */
  version?: number
  /** default: the global `fetch` */
  fetch?: typeof fetch
  signal?: AbortSignal
}

/** A folder's listing. */
export interface DriveListing { key: string, version: number, dir: string, entries: DriveEntry[] }

function driveUrl (key: string, path: string, opts: DriveReadOptions, trailingSlash: boolean): string {
  parseDriveKey(key)
  const p = drivePath(path, { dir: trailingSlash })
  if (opts.version !== undefined && (!Number.isSafeInteger(opts.version) || opts.version < 0)) throw ShadwError.INVALID_ARGUMENT('version is a whole number')
  const encoded = p === '/' ? '' : p.split('/').map(encodeURIComponent).join('/')
  const base = opts.url ?? (globalThis as { location?: { origin: string } }).location?.origin
  if (base === undefined) throw ShadwError.INVALID_ARGUMENT('no url given and no page origin to default to')
  return new URL(`${DRIVE_PREFIX}${key.toLowerCase()}${opts.version === undefined ? '' : `@${opts.version}`}${encoded}${trailingSlash ? '/' : ''}`, base).href
}

async function failure (res: Response): Promise<ShadwError> {
  try {
    return deserializeError(await res.json())
  } catch {
    return ShadwError.DRIVE_NOT_FOUND(`drive server answered ${res.status}`)
  }
}

/**
 * Fetches a file; the body streams. `range` asks for bytes `start`..`end` (inclusive) and
 * answers 206. @throws the server's typed error (`DRIVE_NOT_FOUND`, `DRIVE_RANGE_INVALID`, …)
 */
export async function readDriveFile (key: string, path: string, opts: DriveReadOptions & { range?: { start: number, end?: number } } = {}): Promise<Response> {
  const headers: Record<string, string> = {}
  if (opts.range !== undefined) {
    const { start, end } = opts.range
    if (!Number.isSafeInteger(start) || start < 0 || (end !== undefined && (!Number.isSafeInteger(end) || end < start))) throw ShadwError.DRIVE_RANGE_INVALID(`${start}-${end ?? ''}`, -1)
    headers['range'] = `bytes=${start}-${end ?? ''}`
  }
  const res = await (opts.fetch ?? fetch)(driveUrl(key, path, opts, false), { headers, ...(opts.signal === undefined ? {} : { signal: opts.signal }) })
  if (!res.ok) throw await failure(res)
  return res
}

/** Lists a folder (default `/`). @throws the server's typed error */
export async function listDrive (key: string, dir = '/', opts: DriveReadOptions = {}): Promise<DriveListing> {
  // ?list: a folder with an index.html answers with that page otherwise
  const res = await (opts.fetch ?? fetch)(`${driveUrl(key, dir, opts, true)}?list`, opts.signal === undefined ? {} : { signal: opts.signal })
  if (!res.ok) throw await failure(res)
  return await res.json() as DriveListing
}

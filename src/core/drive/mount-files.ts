/**
 * The files of a call's mounts, read on demand: the tree a call gets names each file by an
 * id and a size only, and the executor's worker asks for byte ranges of it while the call
 * runs (sandbox/file-channel.ts). Each range is read from the drive at the pinned version,
 * fetching only the blob blocks it spans.
 *
 * Ranges are kept in a cache shared by the calls of one executor ({@link MountCache}), in
 * pages, so a range read again (by the same call after its own pages were evicted, or by the
 * next call over the same data) costs neither a fetch nor a Hyperblobs read. Pages are keyed
 * by drive, the hash of the encryption key the drive was opened with, and the file's place in
 * the blob log: a version's bytes never change, and a private drive's plaintext is found only
 * by a call that opened it with the same key.
 */
import type { Drive, DriveFile } from './drive.ts'

/** Page of the cache: the sandbox's fetch page (Hyperdrive's 64 KiB blob block). */
export const CACHE_PAGE_BYTES = 64 * 1024
/** Default bytes an executor keeps cached for its calls' mounts. */
export const DEFAULT_MOUNT_CACHE_BYTES = 64 * 1024 * 1024

/** Pages of mounted files an executor keeps, least recently used out first. */
export class MountCache {
  readonly #pages = new Map<string, Uint8Array>()
  readonly maxBytes: number
  bytes = 0
  /** pages answered from here, and fetched from a drive (tests and benchmarks read them) */
  hits = 0
  misses = 0

  constructor (maxBytes = DEFAULT_MOUNT_CACHE_BYTES) {
    this.maxBytes = maxBytes
  }

  get (key: string): Uint8Array | undefined {
    const page = this.#pages.get(key)
    if (page === undefined) return undefined
    this.#pages.delete(key)
    this.#pages.set(key, page)
    return page
  }

  set (key: string, page: Uint8Array): void {
    if (page.length > this.maxBytes) return
    const old = this.#pages.get(key)
    if (old !== undefined) { this.#pages.delete(key); this.bytes -= old.length }
    this.#pages.set(key, page)
    this.bytes += page.length
    while (this.bytes > this.maxBytes) {
      const [first, p] = this.#pages.entries().next().value as [string, Uint8Array]
      this.#pages.delete(first)
      this.bytes -= p.length
    }
  }
}

interface MountedFile { drive: Drive, scope: string, path: string, version: number, size: number, open?: Promise<DriveFile> }

/** One call's on-demand files: ids handed out as the mounts' trees are built. */
export class MountFiles {
  readonly #files: MountedFile[] = []
  readonly #cache: MountCache

  constructor (cache: MountCache = new MountCache()) {
    this.#cache = cache
  }

  /** Names a file of `drive` (opened with the key whose hash is `scope`); returns its id. */
  add (drive: Drive, scope: string, path: string, version: number, size: number): number {
    this.#files.push({ drive, scope, path, version, size })
    return this.#files.length - 1
  }

  get count (): number {
    return this.#files.length
  }

  /** `length` bytes of file `id` from `offset` (fewer at its end). */
  async read (id: number, offset: number, length: number): Promise<Uint8Array> {
    const f = this.#files[id]
    if (f === undefined) throw new RangeError(`no mounted file ${id}`)
    const end = Math.min(f.size, offset + length)
    if (end <= offset) return new Uint8Array(0)
    f.open ??= f.drive.openFile(f.path, { version: f.version })
    // a failed open is tried again by the next read, not remembered
    const file = await f.open.catch((err: unknown) => { f.open = undefined; throw err })
    if (offset % CACHE_PAGE_BYTES !== 0) return await file.read(offset, end - offset)
    const base = `${f.drive.key}/${f.scope}/${file.blob}/`
    const first = offset / CACHE_PAGE_BYTES
    const count = Math.ceil((end - offset) / CACHE_PAGE_BYTES)
    const pages: Uint8Array[] = []
    for (let i = 0; i < count; i++) {
      const page = this.#cache.get(base + String(first + i))
      if (page === undefined) break
      pages.push(page)
    }
    if (pages.length === count) {
      this.#cache.hits += count
      return concat(pages, end - offset)
    }
    this.#cache.misses += count
    const bytes = await file.read(offset, end - offset)
    for (let i = 0; i * CACHE_PAGE_BYTES < bytes.length; i++) {
      // a full page, or the file's last: a short page from a short read is never kept
      const page = bytes.slice(i * CACHE_PAGE_BYTES, (i + 1) * CACHE_PAGE_BYTES)
      if (page.length === CACHE_PAGE_BYTES || offset + i * CACHE_PAGE_BYTES + page.length === f.size) this.#cache.set(base + String(first + i), page)
    }
    return bytes
  }
}

function concat (parts: Uint8Array[], length: number): Uint8Array {
  const out = new Uint8Array(length)
  let at = 0
  for (const p of parts) {
    const n = Math.min(p.length, length - at)
    out.set(p.subarray(0, n), at)
    at += n
  }
  return out
}

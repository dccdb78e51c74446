/**
 * The worker's view of files whose bytes its host fetches on demand (see file-channel.ts):
 * reads are served from pages kept for the call, and a page not here yet is fetched, with
 * the pages around it when the module reads sequentially. Where the bytes came with the call
 * (a worker without shared memory) they are "fetched" from them the same way, so a call
 * costs the same fuel on every executor.
 *
 * Fuel: every byte fetched costs what a byte copied does (1 unit per 16), on top of the copy
 * into the module's memory, and is paid before the fetch. A read of one byte pays for the
 * whole page it brings in, so scattered small reads cannot buy fetches for the price of
 * their bytes. What is fetched, and so what is paid, depends only on the module's reads and
 * the files' sizes (the pages kept are per call, evicted in a fixed order), never on the
 * host's cache or timing: redundant executors charge the same fuel.
 */
import { WINDOW_BYTES, type RangeReader } from './file-channel.ts'

/** Page size: Hyperdrive's blob block (64 KiB), so a page is usually one block fetched. */
export const PAGE_BYTES = 64 * 1024
/**
 * Smallest page a file may name (a file written in small blocks, `drive put --block-size`):
 * a 4 KiB read then moves about 4 KiB, not 64. Pages are powers of two from this to
 * {@link PAGE_BYTES}.
 */
export const MIN_PAGE_BYTES = 4 * 1024
/** Bytes of pages a call keeps (4 MiB): re-reads within them cost no fetch. */
export const MAX_CACHED_BYTES = 4 * 1024 * 1024
/** Pages of {@link PAGE_BYTES} a call keeps. */
export const MAX_CACHED_PAGES = MAX_CACHED_BYTES / PAGE_BYTES
/** Bytes per fuel unit for fetched bytes (a bulk copy's rate, as for file reads). */
const BYTES_PER_FUEL = 16

/** True for a page size a lazy file may name: a power of two from {@link MIN_PAGE_BYTES} to {@link PAGE_BYTES}. */
export function isPageSize (n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= MIN_PAGE_BYTES && n <= PAGE_BYTES && (n & (n - 1)) === 0
}

/** Reads of one call's on-demand files, through its channel. */
export class LazyFiles {
  readonly #client: RangeReader
  readonly #charge: (units: number) => void
  /** `${id}:${page}` → bytes and the file's page size, oldest use first */
  readonly #pages = new Map<string, { bytes: Uint8Array, size: number }>()
  /** page sizes of the pages kept (a file's short last page counts whole) */
  #held = 0
  /** where the last fetch of each file ended, and how far it read ahead (in pages) */
  readonly #streams = new Map<number, { next: number, ahead: number }>()
  /** bytes fetched in this call (what fuel was paid for) */
  fetched = 0

  constructor (client: RangeReader, charge: (units: number) => void) {
    this.#client = client
    this.#charge = charge
  }

  /**
   * Bytes `offset`..`offset + length` of file `id` of `size` bytes (clamped to it), fetched
   * in pages of `pageBytes` (the file's own, fixed for the call: {@link isPageSize}).
   */
  read (id: number, size: number, offset: number, length: number, pageBytes = PAGE_BYTES): Uint8Array {
    const end = Math.min(size, offset + length)
    if (end <= offset) return new Uint8Array(0)
    const out = new Uint8Array(end - offset)
    const last = Math.floor((end - 1) / pageBytes)
    for (let p = Math.floor(offset / pageBytes); p <= last; p++) {
      const page = this.#page(id, size, p, last, pageBytes)
      const start = p * pageBytes
      const from = Math.max(offset, start) - start
      const to = Math.min(end, start + page.length) - start
      out.set(page.subarray(from, to), Math.max(offset, start) - offset)
    }
    return out
  }

  #page (id: number, size: number, p: number, lastWanted: number, pageBytes: number): Uint8Array {
    const key = `${id}:${p}`
    const hit = this.#pages.get(key)
    if (hit !== undefined) {
      // moved to the newest end: the bytes held do not change
      this.#pages.delete(key)
      this.#pages.set(key, hit)
      return hit.bytes
    }
    // a sequential reader gets read-ahead, doubling up to the window, as a kernel does
    const pages = Math.ceil(size / pageBytes)
    // most pages one fetch brings in: the channel's window
    const maxRun = WINDOW_BYTES / pageBytes
    const stream = this.#streams.get(id)
    const ahead = stream !== undefined && stream.next === p ? Math.min(maxRun, Math.max(2, stream.ahead * 2)) : 1
    let count = Math.min(maxRun, Math.max(ahead, lastWanted - p + 1), pages - p)
    // never refetch a page already here
    for (let i = 1; i < count; i++) {
      if (this.#pages.has(`${id}:${p + i}`)) { count = i; break }
    }
    const from = p * pageBytes
    const length = Math.min(size, from + count * pageBytes) - from
    this.#charge(Math.ceil(length / BYTES_PER_FUEL))
    const bytes = this.#client.read(id, from, length)
    this.fetched += length
    this.#streams.set(id, { next: p + count, ahead: count })
    let first: Uint8Array | undefined
    for (let i = 0; i < count; i++) {
      // a copy: a kept page must not hold its whole fetch's buffer alive
      const page = bytes.slice(i * pageBytes, Math.min(bytes.length, (i + 1) * pageBytes))
      first ??= page
      this.#keep(`${id}:${p + i}`, page, pageBytes)
    }
    return first ?? new Uint8Array(0)
  }

  #keep (key: string, bytes: Uint8Array, size: number): void {
    this.#pages.set(key, { bytes, size })
    this.#held += size
    // oldest first, by page sizes: a file of small pages keeps as many bytes as others, and
    // files of 64 KiB pages keep exactly MAX_CACHED_PAGES, as they always did
    while (this.#held > MAX_CACHED_BYTES) {
      const [oldest, page] = this.#pages.entries().next().value as [string, { size: number }]
      this.#pages.delete(oldest)
      this.#held -= page.size
    }
  }
}

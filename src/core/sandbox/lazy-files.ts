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
/** Pages a call keeps (4 MiB): re-reads within them cost no fetch. */
export const MAX_CACHED_PAGES = 64
/** Most pages one fetch brings in: the channel's window. */
const MAX_RUN_PAGES = WINDOW_BYTES / PAGE_BYTES
/** Bytes per fuel unit for fetched bytes (a bulk copy's rate, as for file reads). */
const BYTES_PER_FUEL = 16

/** Reads of one call's on-demand files, through its channel. */
export class LazyFiles {
  readonly #client: RangeReader
  readonly #charge: (units: number) => void
  /** `${id}:${page}` → bytes, oldest use first */
  readonly #pages = new Map<string, Uint8Array>()
  /** where the last fetch of each file ended, and how far it read ahead (in pages) */
  readonly #streams = new Map<number, { next: number, ahead: number }>()
  /** bytes fetched in this call (what fuel was paid for) */
  fetched = 0

  constructor (client: RangeReader, charge: (units: number) => void) {
    this.#client = client
    this.#charge = charge
  }

  /** Bytes `offset`..`offset + length` of file `id` of `size` bytes (clamped to it). */
  read (id: number, size: number, offset: number, length: number): Uint8Array {
    const end = Math.min(size, offset + length)
    if (end <= offset) return new Uint8Array(0)
    const out = new Uint8Array(end - offset)
    const last = Math.floor((end - 1) / PAGE_BYTES)
    for (let p = Math.floor(offset / PAGE_BYTES); p <= last; p++) {
      const page = this.#page(id, size, p, last)
      const start = p * PAGE_BYTES
      const from = Math.max(offset, start) - start
      const to = Math.min(end, start + page.length) - start
      out.set(page.subarray(from, to), Math.max(offset, start) - offset)
    }
    return out
  }

  #page (id: number, size: number, p: number, lastWanted: number): Uint8Array {
    const key = `${id}:${p}`
    const hit = this.#pages.get(key)
    if (hit !== undefined) {
      this.#pages.delete(key)
      this.#pages.set(key, hit)
      return hit
    }
    // a sequential reader gets read-ahead, doubling up to the window, as a kernel does
    const pages = Math.ceil(size / PAGE_BYTES)
    const stream = this.#streams.get(id)
    const ahead = stream !== undefined && stream.next === p ? Math.min(MAX_RUN_PAGES, Math.max(2, stream.ahead * 2)) : 1
    let count = Math.min(MAX_RUN_PAGES, Math.max(ahead, lastWanted - p + 1), pages - p)
    // never refetch a page already here
    for (let i = 1; i < count; i++) {
      if (this.#pages.has(`${id}:${p + i}`)) { count = i; break }
    }
    const from = p * PAGE_BYTES
    const length = Math.min(size, from + count * PAGE_BYTES) - from
    this.#charge(Math.ceil(length / BYTES_PER_FUEL))
    const bytes = this.#client.read(id, from, length)
    this.fetched += length
    this.#streams.set(id, { next: p + count, ahead: count })
    let first: Uint8Array | undefined
    for (let i = 0; i < count; i++) {
      // a copy: a kept page must not hold its whole fetch's buffer alive
      const page = bytes.slice(i * PAGE_BYTES, Math.min(bytes.length, (i + 1) * PAGE_BYTES))
      first ??= page
      this.#keep(`${id}:${p + i}`, page)
    }
    return first ?? new Uint8Array(0)
  }

  #keep (key: string, page: Uint8Array): void {
    this.#pages.set(key, page)
    if (this.#pages.size > MAX_CACHED_PAGES) this.#pages.delete(this.#pages.keys().next().value as string)
  }
}

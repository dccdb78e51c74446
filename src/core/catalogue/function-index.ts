/**
 * The functions a node knows of: one entry per publisher and function name (its highest
 * version not yanked), built only from manifests whose signature checked out, bounded in
 * count and bytes. When full, the entry held by the fewest executors goes first (the oldest
 * of those on a tie): what many executors hold is what a visitor can run, and a publisher
 * nobody serves cannot push it out.
 */
import b4a from 'b4a'
import type { FunctionManifest, PriceParams } from '../registry/index.ts'

/** Default cap on entries: a few thousand functions fit a page of search results and a few MiB. */
export const MAX_INDEX_ENTRIES = 2048
/** Default cap on the entries' summed JSON size. */
export const MAX_INDEX_BYTES = 4 * 1024 * 1024
/** Holders are counted up to this many per publisher: past it the count only says "many". */
export const MAX_HOLDERS_COUNTED = 64
/** Largest page of search results. */
export const MAX_PAGE = 100
/** Page size when none is asked for. */
export const DEFAULT_PAGE = 20
/** A search term is at most this long. */
export const MAX_QUERY_LENGTH = 100
/** At most this many chains are named in an access summary. */
const MAX_CHAINS_LISTED = 8

/** What a catalogue says about a function's access conditions. */
export interface AccessSummary {
  /** true when anyone may call it */
  public: boolean
  /** number of Lit conditions (operators included) */
  conditions: number
  /** the chains the conditions read, distinct and sorted */
  chains: string[]
  /** the app domains whose SIWE auth executors accept; absent = each executor's own */
  authDomains?: string[]
}

/** One function as a catalogue lists it. */
export interface CatalogueEntry {
  /** `publisher/name@version` */
  ref: string
  publisher: string
  name: string
  version: string
  description?: string
  abi: FunctionManifest['abi']
  price: PriceParams
  access: AccessSummary
  /** executors known to serve the publisher's registry */
  holders: number
  /** module size in bytes */
  size: number
  /** how many examples the manifest carries */
  examples: number
  readme: boolean
  createdAt: number
}

/** One page of search results. */
export interface CataloguePage {
  functions: CatalogueEntry[]
  /** pass as `cursor` for the next page; null on the last */
  next: string | null
}

interface Stored { entry: Omit<CatalogueEntry, 'holders'>, bytes: number, updated: number }

/** The access summary of a manifest. */
export function summarizeAccess (m: FunctionManifest): AccessSummary {
  const chains = new Set<string>()
  for (const c of m.access) {
    const chain = (c as { chain?: unknown } | null)?.chain
    if (typeof chain === 'string' && chain.length <= 64 && chains.size < MAX_CHAINS_LISTED) chains.add(chain)
  }
  return { public: m.access.length === 0, conditions: m.access.length, chains: [...chains].sort(), ...(m.authDomains === undefined ? {} : { authDomains: m.authDomains }) }
}

function key (publisher: string, name: string): string {
  // names cannot hold '/', and sorting by name first lists a function's publishers together
  return `${name}/${publisher}`
}

/**
 * @example
 * ```ts
 * const index = new FunctionIndex()
 * index.put(verified.manifest) // only after verifyManifest
 * index.search('upper', { limit: 10 })
 * ```
 */
export class FunctionIndex {
  readonly #maxEntries: number
  readonly #maxBytes: number
  readonly #entries = new Map<string, Stored>()
  readonly #holders = new Map<string, Set<string>>()
  #bytes = 0
  #clock = 0

  constructor (opts: { maxEntries?: number, maxBytes?: number } = {}) {
    this.#maxEntries = opts.maxEntries ?? MAX_INDEX_ENTRIES
    this.#maxBytes = opts.maxBytes ?? MAX_INDEX_BYTES
  }

  /** The entry of a (verified) manifest, without its holder count. */
  static entryOf (m: FunctionManifest): Omit<CatalogueEntry, 'holders'> {
    return {
      ref: `${m.publisher}/${m.name}@${m.version}`,
      publisher: m.publisher,
      name: m.name,
      version: m.version,
      ...(m.description === undefined ? {} : { description: m.description }),
      abi: m.abi,
      price: m.price,
      access: summarizeAccess(m),
      size: m.size,
      examples: m.examples?.length ?? 0,
      readme: m.readme !== undefined,
      createdAt: m.createdAt
    }
  }

  /** Entries held. */
  get size (): number { return this.#entries.size }
  /** Summed size of the entries, bytes. */
  get bytes (): number { return this.#bytes }

  /**
   * Adds or replaces the entry of `manifest`'s publisher and name. The caller verified the
   * manifest's signature. Returns false when the index is full of entries held by more
   * executors than this one (it is then not added).
   */
  put (m: FunctionManifest): boolean {
    const k = key(m.publisher, m.name)
    const entry = FunctionIndex.entryOf(m)
    const bytes = b4a.byteLength(JSON.stringify(entry))
    this.remove(m.publisher, m.name)
    const holders = this.holders(m.publisher)
    while (this.#entries.size >= this.#maxEntries || this.#bytes + bytes > this.#maxBytes) {
      const victim = this.#weakest()
      if (victim === null || this.#rank(victim[1]) > holders) return false
      this.#delete(victim[0])
    }
    this.#entries.set(k, { entry, bytes, updated: ++this.#clock })
    this.#bytes += bytes
    return true
  }

  /** Drops the entry of a publisher's function (yanked, or no longer valid). */
  remove (publisher: string, name: string): void {
    this.#delete(key(publisher, name))
  }

  /** Drops every entry of a publisher not in `keep` (names it no longer lists). */
  retain (publisher: string, keep: Set<string>): void {
    for (const [k, s] of this.#entries) if (s.entry.publisher === publisher && !keep.has(s.entry.name)) this.#delete(k)
  }

  /** Records that executor `peer` serves `publisher`'s registry (counted up to {@link MAX_HOLDERS_COUNTED}). */
  addHolder (publisher: string, peer: string): void {
    let set = this.#holders.get(publisher)
    if (set === undefined) this.#holders.set(publisher, set = new Set())
    if (set.size < MAX_HOLDERS_COUNTED) set.add(peer)
  }

  /** Forgets executor `peer` (its connection closed). */
  dropHolder (peer: string): void {
    for (const [publisher, set] of this.#holders) {
      set.delete(peer)
      if (set.size === 0) this.#holders.delete(publisher)
    }
  }

  /** Executors known to serve `publisher`'s registry. */
  holders (publisher: string): number {
    return this.#holders.get(publisher)?.size ?? 0
  }

  /** The entry of `publisher/name`, or null. */
  get (publisher: string, name: string): CatalogueEntry | null {
    const s = this.#entries.get(key(publisher, name))
    return s === undefined ? null : { ...s.entry, holders: this.holders(publisher) }
  }

  /**
   * Entries whose name, description or publisher key contains `q` (case-insensitive; all
   * when empty), sorted by name then publisher, `limit` (at most {@link MAX_PAGE}) after `cursor`.
   */
  search (q: string, opts: { limit?: number, cursor?: string | null } = {}): CataloguePage {
    const term = q.toLowerCase()
    const limit = Math.max(1, Math.min(MAX_PAGE, opts.limit ?? DEFAULT_PAGE))
    const after = opts.cursor ?? ''
    const matches: Array<[string, Stored]> = []
    for (const [k, s] of this.#entries) {
      if (k <= after) continue
      const e = s.entry
      if (term === '' || e.name.includes(term) || e.publisher.startsWith(term) || (e.description?.toLowerCase().includes(term) ?? false)) matches.push([k, s])
    }
    matches.sort((a, b) => a[0] < b[0] ? -1 : 1)
    const page = matches.slice(0, limit)
    const last = page[page.length - 1]
    return {
      functions: page.map(([, s]) => ({ ...s.entry, holders: this.holders(s.entry.publisher) })),
      next: matches.length > limit && last !== undefined ? last[0] : null
    }
  }

  #rank (s: Stored): number {
    return this.holders(s.entry.publisher)
  }

  #weakest (): [string, Stored] | null {
    let weakest: [string, Stored] | null = null
    for (const e of this.#entries) {
      if (weakest === null) { weakest = e; continue }
      const [r, w] = [this.#rank(e[1]), this.#rank(weakest[1])]
      if (r < w || (r === w && e[1].updated < weakest[1].updated)) weakest = e
    }
    return weakest
  }

  #delete (k: string): void {
    const s = this.#entries.get(k)
    if (s === undefined) return
    this.#entries.delete(k)
    this.#bytes -= s.bytes
  }
}

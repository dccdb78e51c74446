/**
 * The executor's loaded functions: each ref looked up once and shared by every call that
 * names it while the lookup runs, kept a while after ({@link FUNCTION_CACHE_TTL_MS}), with
 * the lookups in flight bounded in all and per caller. A warm call takes its function
 * without an await ({@link FunctionCache.ready}), and its access policy checked once per
 * loaded function ({@link FunctionCache.policy}), not once per call.
 */
import { checkConditions, type AccessPolicy } from '../access/index.ts'
import { untilAborted } from '../abort.ts'
import { ShadwError } from '../errors.ts'
import { mark, tracing } from '../trace.ts'
import type { LoadedFunction } from '../registry/index.ts'

/**
 * How long a loaded function is reused without asking the registry again. A registry that
 * grows (a yank, a new version) drops its functions at once when the host reports it
 * ({@link FunctionCache.invalidate}); this bounds staleness when nothing reports.
 */
export const FUNCTION_CACHE_TTL_MS = 5_000
/** Most functions kept loaded: module bytes are up to 32 MiB, so the cache stays small. */
const FUNCTION_CACHE_ENTRIES = 64
/**
 * Function lookups (registry syncs, module fetches) in flight at once, over all callers, and
 * per caller. A lookup holds no executor slot, only one of these: a caller naming publishers
 * nobody serves waits out its own deadline and starves nobody's execution.
 */
export const MAX_LOOKUPS = 32
export const MAX_LOOKUPS_PER_CALLER = 4

/** What the service needs to load functions (FunctionLoader implements it). */
export interface FunctionSource {
  load (ref: string, opts?: { signal?: AbortSignal }): Promise<LoadedFunction>
  /**
   * whether looking `ref` up starts no follow of a new publisher (this node follows it
   * already); absent: every lookup counts as one this node may make
   */
  follows? (ref: string): boolean
}

/** Options of {@link FunctionCache}. */
export interface FunctionCacheOptions {
  functions: FunctionSource
  now: () => number
  /** how long a loaded function is reused, ms (default {@link FUNCTION_CACHE_TTL_MS}) */
  ttlMs?: number
  /** lookups in flight at once (default {@link MAX_LOOKUPS}) */
  maxLookups?: number
  /** lookups in flight at once for one caller (default {@link MAX_LOOKUPS_PER_CALLER}) */
  maxLookupsPerCaller?: number
  /** this node's own key, hex: its own calls answer to the global bound only */
  self: string
}

/** A function being looked up or loaded, shared by every call that names the same ref. */
interface FunctionEntry {
  fn: Promise<LoadedFunction>
  /** once it resolved: what {@link FunctionCache.ready} hands out without an await */
  value?: LoadedFunction
  at: number
  /** once known (a ref may be a local alias) */
  publisher?: string
  /** once settled: the registry length it resolved at; `minLength`: one the registry reached while it ran (kept only if it resolved there) */
  length?: number
  minLength?: number
  /** calls waiting on it: a lookup nobody waits for any more is abandoned */
  waiters: number
  settled: boolean
  abort: AbortController
  /** frees its place among the lookups in flight; idempotent */
  release: () => void
}

/** The loaded functions of one executor; see the module comment. */
export class FunctionCache {
  readonly #opts: FunctionCacheOptions
  readonly #functions = new Map<string, FunctionEntry>()
  readonly #ttl: number
  readonly #maxLookups: number
  readonly #maxLookupsPerCaller: number
  /** lookups in flight, in all and by the caller that started each */
  #lookups = 0
  readonly #lookupsBy = new Map<string, number>()
  /** each loaded function's access policy: its manifest is fixed, so one check serves all its calls */
  readonly #policies = new WeakMap<LoadedFunction, Promise<AccessPolicy>>()

  constructor (opts: FunctionCacheOptions) {
    this.#opts = opts
    this.#ttl = opts.ttlMs ?? FUNCTION_CACHE_TTL_MS
    this.#maxLookups = opts.maxLookups ?? MAX_LOOKUPS
    this.#maxLookupsPerCaller = opts.maxLookupsPerCaller ?? MAX_LOOKUPS_PER_CALLER
    if (!Number.isSafeInteger(this.#maxLookups) || this.#maxLookups < 1 || !Number.isSafeInteger(this.#maxLookupsPerCaller) || this.#maxLookupsPerCaller < 1) {
      throw ShadwError.INVALID_ARGUMENT('maxLookups and maxLookupsPerCaller must be positive integers')
    }
  }

  /** Function lookups in flight now, in all or for `caller`. */
  lookups (caller?: string): number { return caller === undefined ? this.#lookups : this.#lookupsBy.get(caller) ?? 0 }

  /** Whether `ref` is loaded already (a lookup of it would start nothing). */
  settled (ref: string): boolean { return this.#functions.get(ref)?.settled === true }

  /**
   * `ref` loaded and still fresh, with no await: what a warm call takes; undefined when it
   * must go through {@link load} (not loaded, still loading, failed or stale).
   */
  ready (ref: string): LoadedFunction | undefined {
    const e = this.#functions.get(ref)
    return e?.value !== undefined && this.#opts.now() - e.at < this.#ttl ? e.value : undefined
  }

  /** The access policy of `fn`'s manifest, checked once per loaded function. @throws `ACCESS_CONDITIONS_INVALID` */
  async policy (fn: LoadedFunction): Promise<AccessPolicy> {
    let p = this.#policies.get(fn)
    if (p === undefined) {
      p = checkConditions(fn.manifest.access)
      this.#policies.set(fn, p)
      // a failed check is not kept: the next call checks again and gets the same typed error
      p.catch(() => { if (this.#policies.get(fn) === p) this.#policies.delete(fn) })
    }
    return await p
  }

  /**
   * Forgets the loaded functions of `publisher` (hex key), so the next call asks its registry
   * again. With its new `length`: a function resolved at that length or later is kept (its own sync grew it).
   */
  invalidate (publisher: string, length?: number): void {
    const prefix = `${publisher}/`
    for (const [ref, e] of this.#functions) {
      if ((e.publisher !== publisher && !ref.startsWith(prefix)) || (length !== undefined && (e.length ?? -1) >= length)) continue
      // a lookup in flight may have synced past this length already: judged when it settles
      if (length !== undefined && !e.settled) e.minLength = Math.max(e.minLength ?? 0, length)
      else this.#functions.delete(ref)
    }
  }

  /**
   * The loaded function `ref` names: from the cache, from a lookup in flight, or from a new
   * lookup charged to `caller` (refused with `BUSY` beyond the global and per-caller
   * bounds). Rejects when `signal` aborts; a lookup every caller has left is abandoned.
   */
  async load (ref: string, caller: string, signal: AbortSignal): Promise<LoadedFunction> {
    const now = this.#opts.now()
    let entry = this.#functions.get(ref)
    let stale: FunctionEntry | undefined
    if (entry !== undefined && entry.settled && now - entry.at >= this.#ttl) {
      this.#functions.delete(ref)
      stale = entry
      entry = undefined
    }
    if (entry === undefined) {
      try {
        entry = this.#lookup(ref, caller, now)
      } catch (err) {
        // lookups are full: a function already verified is served a while longer rather than refused
        if (stale === undefined) throw err
        this.#functions.set(ref, stale)
        return await stale.fn
      }
    }
    if (entry.settled) return await entry.fn
    entry.waiters++
    try {
      return await untilAborted(entry.fn, signal)
    } finally {
      entry.waiters--
      if (entry.waiters === 0 && !entry.settled) {
        // nobody waits for it: it is abandoned, and frees its place among the lookups now
        entry.abort.abort(ShadwError.ABORTED('every call waiting on this lookup left'))
        entry.release()
        if (this.#functions.get(ref) === entry) this.#functions.delete(ref)
      }
    }
  }

  #lookup (ref: string, caller: string, now: number): FunctionEntry {
    const mine = this.#lookupsBy.get(caller) ?? 0
    if (this.#lookups >= this.#maxLookups) throw new ShadwError('BUSY', `executor busy: ${this.#lookups} function lookups already in flight`, { details: { lookups: this.#lookups } })
    // this node's own calls not naming a client (its page) answer to the global bound only;
    // its gateway's calls are charged to each HTTP client
    if (caller !== this.#opts.self && mine >= this.#maxLookupsPerCaller) throw new ShadwError('BUSY', `executor busy: this caller has ${mine} function lookups in flight`, { details: { lookups: mine, perCaller: this.#maxLookupsPerCaller } })
    if (this.#functions.size >= FUNCTION_CACHE_ENTRIES) {
      for (const [k, v] of this.#functions) if (v.settled && (now - v.at >= this.#ttl || this.#functions.size >= FUNCTION_CACHE_ENTRIES)) this.#functions.delete(k)
    }
    this.#lookups++
    this.#lookupsBy.set(caller, mine + 1)
    mark('exec.lookup')
    const abort = new AbortController()
    const fn = this.#opts.functions.load(ref, { signal: abort.signal })
    let released = false
    const release = (): void => {
      if (released) return
      released = true
      this.#lookups--
      const n = (this.#lookupsBy.get(caller) ?? 1) - 1
      if (n <= 0) this.#lookupsBy.delete(caller)
      else this.#lookupsBy.set(caller, n)
    }
    const entry: FunctionEntry = { fn, at: now, waiters: 0, settled: false, abort, release }
    this.#functions.set(ref, entry)
    fn.then(f => {
      if (tracing()) mark('exec.loaded', { source: f.source })
      entry.settled = true
      entry.value = f
      release()
      entry.publisher = f.manifest.publisher
      if (f.registryLength !== undefined) entry.length = f.registryLength
      if (entry.minLength !== undefined && (f.registryLength ?? 0) < entry.minLength && this.#functions.get(ref) === entry) this.#functions.delete(ref)
    }, () => {
      entry.settled = true
      release()
      if (this.#functions.get(ref) === entry) this.#functions.delete(ref)
    })
    return entry
  }
}

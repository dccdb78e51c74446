/**
 * Remembers which auth nonces a node has accepted, until the auth they came with expires.
 *
 * An auth signature is good for one invocation on a node. Because every auth has a bounded
 * lifetime (see `MAX_AUTH_LIFETIME_MS`), a nonce only needs remembering until its auth's
 * expiry, so the set stays bounded: expired entries are swept when it fills, and if it is
 * still full of live nonces new auth is refused with `BUSY` rather than forgetting a live
 * nonce (which would let it be replayed).
 */
import { ShadwError } from '../errors.ts'

/** Default capacity: 100k live nonces is a few MB, far above one node's invocation rate times the auth lifetime. */
export const DEFAULT_MAX_NONCES = 100_000
/**
 * Most scopes (requesting nodes) one auth is used by on this node: the executors of one call
 * (redundancy and retries) each fetch the call's keys once; more than this many nodes
 * presenting the same auth is a leak, not a call.
 */
export const MAX_SCOPES_PER_AUTH = 8

/** Options of {@link ReplayGuard}. */
export interface ReplayGuardOptions {
  /** most live nonces remembered (default {@link DEFAULT_MAX_NONCES}) */
  maxEntries?: number
  /** clock in ms since the epoch (default `Date.now`) */
  now?: () => number
}

/** A bounded set of used nonces, each forgotten once its auth has expired. */
export class ReplayGuard {
  readonly maxEntries: number
  // A Map keyed by "address:nonce" with the expiry as value: O(1) lookup and insert; the
  // occasional full sweep when the map fills costs O(n) but runs at most once per
  // `maxEntries` inserts in steady state.
  private readonly seen = new Map<string, number>()
  private readonly now: () => number
  /** per auth used with scopes: how many scopes so far, until it expires */
  readonly #scopes = new Map<string, { count: number, until: number }>()

  constructor (options: ReplayGuardOptions = {}) {
    this.maxEntries = options.maxEntries ?? DEFAULT_MAX_NONCES
    if (!Number.isSafeInteger(this.maxEntries) || this.maxEntries < 1) throw ShadwError.INVALID_ARGUMENT('maxEntries must be a positive integer')
    this.now = options.now ?? Date.now
  }

  /** Number of nonces currently remembered. */
  get size (): number {
    return this.seen.size
  }

  /**
   * Records `nonce` of `address` as used until `expiresAt`; with `scope` (a requesting node),
   * as used in that scope only, at most {@link MAX_SCOPES_PER_AUTH} scopes per auth.
   *
   * @throws ShadwError `AUTH_REPLAYED` when it is already recorded and not yet expired;
   *   `BUSY` when the set is full of live nonces.
   */
  use (address: string, nonce: string, expiresAt: number, scope?: string): void {
    const auth = address.toLowerCase() + ':' + nonce
    const key = scope === undefined ? auth : `${auth}@${scope}`
    const now = this.now()
    const until = this.seen.get(key)
    if (until !== undefined && until > now) throw ShadwError.AUTH_REPLAYED(nonce)
    if (scope !== undefined) {
      // the scopes an auth was used in so far: counted, so a leaked auth opens a bounded number of doors
      const counter = `${auth}#`
      const used = this.#scopes.get(counter)
      const count = used !== undefined && used.until > now ? used.count : 0
      if (count >= MAX_SCOPES_PER_AUTH) throw ShadwError.AUTH_REPLAYED(nonce)
      this.#scopes.set(counter, { count: count + 1, until: expiresAt })
    }
    if (until === undefined && this.seen.size >= this.maxEntries) this.sweep(now)
    if (until === undefined && this.seen.size >= this.maxEntries) throw ShadwError.BUSY(this.seen.size)
    this.seen.set(key, expiresAt)
  }

  /** Forgets every expired nonce. */
  sweep (now = this.now()): void {
    for (const [key, until] of this.seen) {
      if (until <= now) this.seen.delete(key)
    }
    for (const [key, s] of this.#scopes) {
      if (s.until <= now) this.#scopes.delete(key)
    }
  }
}

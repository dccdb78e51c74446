/**
 * The executor's replay defence: every request nonce it accepted, remembered until the
 * request's deadline. A request is only ever run before its deadline, so a nonce needs no
 * remembering after it, and deadlines are capped ({@link MAX_DEADLINE_AHEAD_MS}) so the
 * set stays bounded. When it is full of live nonces new requests get `BUSY` rather than
 * forgetting a live nonce (which would let it be replayed).
 */
import b4a from 'b4a'
import { ShadwError } from '../errors.ts'

/** Longest a request's deadline may lie ahead: bounds how long a nonce is remembered. */
export const MAX_DEADLINE_AHEAD_MS = 5 * 60_000
/** Default capacity: 100k nonces of 64 hex characters is ~10 MB, far above a node's rate × 5 min. */
export const DEFAULT_MAX_SEEN = 100_000

/** A bounded set of request nonces, each forgotten after its deadline. */
export class NonceSet {
  readonly maxEntries: number
  // insertion-ordered Map nonce -> deadline: O(1) lookups; a full sweep runs only when full
  readonly #seen = new Map<string, number>()
  readonly #now: () => number

  constructor (opts: { maxEntries?: number, now?: () => number } = {}) {
    this.maxEntries = opts.maxEntries ?? DEFAULT_MAX_SEEN
    if (!Number.isSafeInteger(this.maxEntries) || this.maxEntries < 1) throw ShadwError.INVALID_ARGUMENT('maxEntries must be a positive integer')
    this.#now = opts.now ?? Date.now
  }

  get size (): number {
    return this.#seen.size
  }

  /**
   * Records a request's nonce until its deadline.
   *
   * @throws ShadwError `DEADLINE_EXCEEDED` (deadline passed), `INVALID_ARGUMENT` (deadline
   *   too far ahead), `REQUEST_REPLAYED`, `BUSY` (set full of live nonces).
   */
  use (nonce: Uint8Array, deadline: number): void {
    const now = this.#now()
    if (deadline <= now) throw new ShadwError('DEADLINE_EXCEEDED', 'the request deadline has passed', { details: { deadline, now } })
    if (deadline > now + MAX_DEADLINE_AHEAD_MS) throw ShadwError.INVALID_ARGUMENT(`deadline may lie at most ${MAX_DEADLINE_AHEAD_MS} ms ahead`)
    const key = b4a.toString(nonce, 'hex')
    const until = this.#seen.get(key)
    if (until !== undefined && until > now) throw ShadwError.REQUEST_REPLAYED(key)
    if (this.#seen.size >= this.maxEntries) this.sweep(now)
    if (this.#seen.size >= this.maxEntries) throw ShadwError.BUSY(this.#seen.size)
    this.#seen.set(key, deadline)
  }

  /** Forgets every nonce whose deadline has passed. */
  sweep (now = this.#now()): void {
    for (const [key, until] of this.#seen) if (until <= now) this.#seen.delete(key)
  }
}

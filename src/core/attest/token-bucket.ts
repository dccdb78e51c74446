/**
 * A token bucket: what limits how fast one peer can make a light node work. Tokens refill
 * continuously up to the burst; taking one that is not there is refused, never queued (a
 * queue would only move the flood into memory).
 */

/** Options of {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** tokens held at most, and at the start */
  burst: number
  /** tokens added per second */
  perSecond: number
  now?: () => number
}

/**
 * @example
 * ```ts
 * const bucket = new TokenBucket({ burst: 16, perSecond: 4 })
 * if (!bucket.take()) return // over the rate: drop and count
 * ```
 */
export class TokenBucket {
  readonly #burst: number
  readonly #perMs: number
  readonly #now: () => number
  #tokens: number
  #at: number

  constructor (opts: TokenBucketOptions) {
    this.#burst = opts.burst
    this.#perMs = opts.perSecond / 1000
    this.#now = opts.now ?? Date.now
    this.#tokens = opts.burst
    this.#at = this.#now()
  }

  /** Takes one token; false when the bucket is empty. */
  take (): boolean {
    const now = this.#now()
    // a clock that steps back refills nothing rather than draining the bucket
    this.#tokens = Math.min(this.#burst, this.#tokens + Math.max(0, now - this.#at) * this.#perMs)
    this.#at = now
    if (this.#tokens < 1) return false
    this.#tokens -= 1
    return true
  }
}

/**
 * A tenant's spending limits. Before a call is sent, its worst case — the function's fuel
 * limit and its input plus the largest output it may return, at the executor's quoted price —
 * is held against the per-call cap and what is left of the session's; over either, the call
 * fails with `SPENDING_CAP_EXCEEDED` and nothing runs. After the call, the totals its signed
 * receipts carry are booked against the session.
 */
import { ShadwError } from '../errors.ts'
import { charge, type PriceQuote } from './price-curve.ts'

/** The limits, µcredits; absent = no limit. */
export interface SpendingLimits {
  perCall?: number
  perSession?: number
}

/** The most a call can cost: every fuel unit of its limit and every byte it may move. */
export function worstCase (q: PriceQuote, limits: { fuel: number, maxOutputBytes: number }, inputBytes: number): number {
  return charge(q, limits.fuel, inputBytes + limits.maxOutputBytes)
}

/**
 * @example
 * ```ts
 * const cap = new SpendingCap({ perCall: 5_000, perSession: 100_000 })
 * const reserved = cap.reserve(worstCase(quote, manifest.limits, input.byteLength)) // throws before any work
 * try { const r = await invoke(...); cap.settle(reserved, r.receipts[0].total) } catch (e) { cap.settle(reserved, 0); throw e }
 * ```
 */
export class SpendingCap {
  readonly perCall: number
  readonly perSession: number
  #spent = 0
  #reserved = 0

  constructor (limits: SpendingLimits = {}) {
    this.perCall = limits.perCall ?? Number.MAX_SAFE_INTEGER
    this.perSession = limits.perSession ?? Number.MAX_SAFE_INTEGER
    for (const v of [this.perCall, this.perSession]) if (!Number.isSafeInteger(v) || v < 0) throw ShadwError.INVALID_ARGUMENT('spending caps must be non-negative integers (µcredits)')
  }

  /** µcredits booked in this session. */
  get spent (): number {
    return this.#spent
  }

  /** What the session may still commit (spent and reserved are both held). */
  get remaining (): number {
    return Math.max(0, this.perSession - this.#spent - this.#reserved)
  }

  /**
   * Holds `worst` µcredits for one call; returns the amount held.
   *
   * @throws ShadwError `SPENDING_CAP_EXCEEDED` (details: `cap` 'call' | 'session', `worst`, `limit`)
   */
  reserve (worst: number): number {
    if (worst > this.perCall) throw ShadwError.SPENDING_CAP_EXCEEDED(`the call may cost ${worst} µcredits, over the per-call cap of ${this.perCall}`, { cap: 'call', worst, limit: this.perCall })
    if (worst > this.remaining) throw ShadwError.SPENDING_CAP_EXCEEDED(`the call may cost ${worst} µcredits, over the ${this.remaining} left of the session cap`, { cap: 'session', worst, limit: this.perSession, spent: this.#spent })
    this.#reserved += worst
    return worst
  }

  /** Releases a reservation and books what the call actually cost (the totals of its signed receipts). */
  settle (reserved: number, actual: number): void {
    this.#reserved = Math.max(0, this.#reserved - reserved)
    this.#spent += actual
  }
}

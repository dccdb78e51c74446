/**
 * One budget of bytes that hostile clients could make the super node buffer: unfinished
 * `/fn` request bodies and relay messages from clients that have not finished their
 * handshake. Each connection is bounded on its own already; this bounds their sum, so many
 * connections cannot add up to an unbounded resident size.
 */
import { ShadwError } from '../core/errors.ts'

/**
 * Default budget: 256 MiB. A `/fn` body is at most 4 MiB (MAX_INPUT_BYTES), so 64 bodies
 * being received at once fit; an honest relay handshake is a few hundred bytes.
 */
export const DEFAULT_MEMORY_BUDGET_BYTES = 256 * 1024 * 1024

/** @example `if (!budget.take(chunk.byteLength)) refuse(); ... budget.give(taken)` */
export class MemoryBudget {
  readonly limit: number
  #used = 0
  /** refusals since start (for status) */
  refused = 0

  constructor (limit = DEFAULT_MEMORY_BUDGET_BYTES) {
    if (!Number.isSafeInteger(limit) || limit <= 0) throw ShadwError.INVALID_ARGUMENT(`the memory budget must be a positive number of bytes, got ${limit}`)
    this.limit = limit
  }

  /** Bytes held now. */
  get used (): number {
    return this.#used
  }

  /** Reserves `bytes`; false (nothing reserved) when they do not fit. */
  take (bytes: number): boolean {
    if (this.#used + bytes > this.limit) {
      this.refused++
      return false
    }
    this.#used += bytes
    return true
  }

  /** Returns bytes reserved with {@link take}. */
  give (bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes)
  }

  /** The typed refusal of a request the budget cannot hold (503: the node is loaded, not the request wrong). */
  refusal (what: string): ShadwError {
    return ShadwError.MEMORY_BUDGET_EXCEEDED(what, this.limit)
  }

  /** For `/api/status`. */
  stats (): { limit: number, used: number, refused: number } {
    return { limit: this.limit, used: this.#used, refused: this.refused }
  }
}

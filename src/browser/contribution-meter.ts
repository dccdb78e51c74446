import { decodeReceipt } from '../core/ledger/index.ts'
import type { ExecuteCall, ExecuteOptions, ExecuteResult, Executor } from '../core/sandbox/index.ts'
import type { ContributedCall, ContributionTotals } from './bridge-protocol.ts'

/** Calls kept for the dashboard's charts: about ten minutes at one call a second. */
export const MAX_RECENT_CALLS = 600

/**
 * Counts what the contributor's executors did. Wraps the executor pool, so it sees every call
 * the service runs (receipts go to the ledger; this is the live view of the same work).
 * Kept across budget changes: the totals are the tab's, not one pool's.
 */
export class ContributionMeter {
  readonly totals: ContributionTotals = { calls: 0, ok: 0, failed: 0, fuel: 0, cpuMs: 0, earned: 0 }
  // a ring would save a copy per call; at one entry per execution a shift is noise
  readonly recent: ContributedCall[] = []

  /** Wraps `inner` so that every call it runs is counted here. */
  wrap (inner: Executor): Executor {
    return new MeteredExecutor(inner, this)
  }

  /** Counts the totals of the receipts just appended to the node's `ledger` (blocks it signed itself, so not verified again). */
  receipted (blocks: Uint8Array[]): void {
    for (const b of blocks) {
      try { this.totals.earned += decodeReceipt(b).total } catch {}
    }
  }

  /** Adds what earlier runs of this node earned (read once from its logs at start). */
  earnedBefore (microcredits: number): void {
    this.totals.earned += microcredits
  }

  record (call: ContributedCall): void {
    this.totals.calls++
    if (call.ok) this.totals.ok++
    else this.totals.failed++
    this.totals.fuel += call.fuel
    this.totals.cpuMs += call.ms
    this.recent.push(call)
    if (this.recent.length > MAX_RECENT_CALLS) this.recent.shift()
  }
}

class MeteredExecutor implements Executor {
  readonly #inner: Executor
  readonly #meter: ContributionMeter
  constructor (inner: Executor, meter: ContributionMeter) { this.#inner = inner; this.#meter = meter }
  get size (): number { return this.#inner.size }

  async execute (call: ExecuteCall, options?: ExecuteOptions): Promise<ExecuteResult> {
    const started = performance.now()
    try {
      const result = await this.#inner.execute(call, options)
      this.#meter.record({ at: Date.now(), ok: true, fuel: result.fuelUsed, ms: result.durationMs })
      return result
    } catch (err) {
      const e = err as { code?: unknown, details?: { fuel?: unknown } }
      // a call that ran out of fuel burned its whole limit: that work was done, paid or not
      const fuel = e.code === 'FUEL_EXHAUSTED' && typeof e.details?.fuel === 'number' ? e.details.fuel : 0
      this.#meter.record({ at: Date.now(), ok: false, fuel, ms: performance.now() - started, ...(typeof e.code === 'string' ? { code: e.code } : {}) })
      throw err
    }
  }

  async close (): Promise<void> { await this.#inner.close() }
}

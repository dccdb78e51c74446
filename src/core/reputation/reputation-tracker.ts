/**
 * Keeps a node's router fed with reputation: it replicates the logs that executors (ledgers:
 * their receipts, and the miss records they signed as callers) and light nodes (attestation
 * logs) announce on `shadw/ledgers/v1`, and recomputes
 * {@link computeReputation} shortly after they grow. The signing set is every node whose
 * announced log holds attestations — open to anyone who runs a light node; weighting signers
 * by their own history is future work (docs/pricing.md).
 */
import { AnnouncedLogs, type AnnouncedLogsHost } from '../ledger/index.ts'
import type { LedgerEntry } from '../ledger/index.ts'
import { computeReputation, NEUTRAL_REPUTATION, type Reputation } from './reputation.ts'

/** Wait after a log grows before recomputing: appends come in bursts. */
export const RECOMPUTE_DELAY_MS = 250
/** Most logs one node follows for reputation. */
export const MAX_TRACKED_LOGS = 1024
/** Default co-signatures that make a verdict. */
export const DEFAULT_M = 2

/** The parts of a node the tracker uses (ShadwNode implements them). */
export type TrackerHost = AnnouncedLogsHost

/** Options of {@link ReputationTracker}. */
export interface ReputationTrackerOptions {
  host: TrackerHost
  /** logs this node announces itself (its own ledger), so peers can track it too */
  announce?: () => string[]
  /** co-signatures needed for a verdict (default {@link DEFAULT_M}) */
  m?: number
  /** called with the new scores after each recompute */
  onupdate?: (scores: ReadonlyMap<string, Reputation>) => void
}

/**
 * @example
 * ```ts
 * const tracker = new ReputationTracker({ host: node, announce: () => [ledgerKey] })
 * tracker.start()
 * endpoint.setReputation(key => tracker.score(key))
 * ```
 */
export class ReputationTracker {
  readonly #opts: ReputationTrackerOptions
  readonly #logs: AnnouncedLogs
  /** every entry read so far, per log */
  readonly #entries = new Map<string, LedgerEntry[]>()
  #scores: ReadonlyMap<string, Reputation> = new Map()
  #timer: ReturnType<typeof setTimeout> | null = null
  #stopped = false

  constructor (opts: ReputationTrackerOptions) {
    this.#opts = opts
    this.#logs = new AnnouncedLogs({
      host: opts.host,
      announce: opts.announce ?? (() => []),
      max: MAX_TRACKED_LOGS,
      onentry: (key, entry) => {
        let list = this.#entries.get(key)
        if (list === undefined) this.#entries.set(key, list = [])
        list.push(entry)
      },
      oncaughtup: () => { this.#schedule() }
    })
  }

  start (): void {
    if (this.#stopped) return
    this.#logs.start()
  }

  stop (): void {
    this.#stopped = true
    this.#logs.stop()
    if (this.#timer !== null) clearTimeout(this.#timer)
  }

  /** The score of `key`, (0, 1); {@link NEUTRAL_REPUTATION} for a node without records. */
  score (key: string): number {
    return this.#scores.get(key)?.score ?? NEUTRAL_REPUTATION
  }

  /** The latest scores. */
  get scores (): ReadonlyMap<string, Reputation> {
    return this.#scores
  }

  /** Follows a ledger or attestation log and counts it. */
  async track (key: string): Promise<void> {
    await this.#logs.follow(key)
  }

  #schedule (): void {
    if (this.#timer !== null || this.#stopped) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      const all = [...this.#entries.values()].flat()
      const signers = new Set(all.flatMap(e => e.kind === 'attestation' ? [e.attestation.signer] : []))
      this.#scores = computeReputation(all, { policy: { m: this.#opts.m ?? DEFAULT_M, signers } })
      this.#opts.onupdate?.(this.#scores)
    }, RECOMPUTE_DELAY_MS)
  }
}

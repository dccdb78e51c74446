/**
 * Keeps a node's router fed with reputation: it replicates the logs that executors (receipt
 * ledgers) and light nodes (attestation logs) announce on `shadw/ledgers/v1`, and recomputes
 * {@link computeReputation} shortly after they grow. The signing set is every node whose
 * announced log holds attestations — open to anyone who runs a light node; weighting signers
 * by their own history is future work (docs/pricing.md).
 */
import { LedgerAnnouncer, type AnnounceHost } from '../attest/ledger-announce.ts'
import { log } from '../core/log.ts'
import type { LogInfo } from '../core/node/types.ts'
import { readLedgerEntry, type LedgerEntry } from '../pricing/ledger-entry.ts'
import { computeReputation, NEUTRAL_REPUTATION, type Reputation } from './reputation.ts'

const debug = log('reputation')

/** Wait after a log grows before recomputing: appends come in bursts. */
export const RECOMPUTE_DELAY_MS = 250
/** Most logs one node follows for reputation. */
export const MAX_TRACKED_LOGS = 1024
/** Default co-signatures that make a verdict. */
export const DEFAULT_M = 2

/** The parts of a node the tracker uses (ShadwNode implements them). */
export interface TrackerHost extends AnnounceHost {
  on (event: 'connection', listener: Parameters<AnnounceHost['on']>[1]): () => void
  on (event: 'append', listener: (log: { key: string, length: number }) => void): () => void
  follow (key: string): Promise<LogInfo>
  get (key: string, index: number, opts?: { timeout?: number }): Promise<Uint8Array | null>
  logInfo (key: string): LogInfo
}

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
  readonly #announcer: LedgerAnnouncer
  readonly #logs = new Map<string, LedgerEntry[]>()
  readonly #reading = new Set<string>()
  #scores: ReadonlyMap<string, Reputation> = new Map()
  #timer: ReturnType<typeof setTimeout> | null = null
  #offAppend: (() => void) | null = null
  #stopped = false

  constructor (opts: ReputationTrackerOptions) {
    this.#opts = opts
    this.#announcer = new LedgerAnnouncer({ host: opts.host, ledgers: opts.announce ?? (() => []), onledgers: (keys) => { for (const k of keys) void this.track(k) } })
  }

  start (): void {
    if (this.#offAppend !== null || this.#stopped) return
    this.#offAppend = this.#opts.host.on('append', ({ key }) => { if (this.#logs.has(key)) void this.#read(key) })
    this.#announcer.start()
  }

  stop (): void {
    this.#stopped = true
    this.#announcer.stop()
    this.#offAppend?.()
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
    if (this.#stopped || this.#logs.has(key) || this.#logs.size >= MAX_TRACKED_LOGS) return
    this.#logs.set(key, [])
    try {
      await this.#opts.host.follow(key)
    } catch (err) {
      // announcements arrive on their own schedule, also while the node is stopping: a log
      // that cannot be followed now is forgotten, so a later announcement tries again
      this.#logs.delete(key)
      debug('cannot follow', key.slice(0, 8), (err as Error).message)
      return
    }
    await this.#read(key)
  }

  async #read (key: string): Promise<void> {
    if (this.#reading.has(key) || this.#stopped) return
    this.#reading.add(key)
    try {
      const entries = this.#logs.get(key) ?? []
      while (entries.length < this.#opts.host.logInfo(key).length) {
        const block = await this.#opts.host.get(key, entries.length, { timeout: 10_000 })
        entries.push(block === null ? { kind: 'invalid', code: 'LOG_NOT_FOUND', message: 'block unavailable' } : readLedgerEntry(block))
      }
      this.#schedule()
    } catch (err) {
      debug('reading', key.slice(0, 8), 'failed:', (err as Error).message)
    } finally {
      this.#reading.delete(key)
    }
  }

  #schedule (): void {
    if (this.#timer !== null || this.#stopped) return
    this.#timer = setTimeout(() => {
      this.#timer = null
      const all = [...this.#logs.values()].flat()
      const signers = new Set(all.flatMap(e => e.kind === 'attestation' ? [e.attestation.signer] : []))
      this.#scores = computeReputation(all, { policy: { m: this.#opts.m ?? DEFAULT_M, signers } })
      this.#opts.onupdate?.(this.#scores)
    }, RECOMPUTE_DELAY_MS)
  }
}

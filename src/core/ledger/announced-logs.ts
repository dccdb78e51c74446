/**
 * Follows the logs peers announce on `shadw/ledgers/v1` and reads each one as it grows, in
 * order, one reader per log: what both the light signing service (judging receipts) and the
 * reputation tracker (counting receipts and attestations) need from the swarm.
 */
import { log } from '../log.ts'
import type { LogInfo } from '../node/index.ts'
import { readLedgerEntry, type LedgerEntry } from './ledger-entry.ts'
import { LedgerAnnouncer, type AnnounceHost } from './ledger-announce.ts'

const debug = log('announced-logs')

/** Wait for one block of an announced log; an absent block is recorded as invalid. */
const BLOCK_TIMEOUT_MS = 10_000

/** The parts of a node the follower uses (ShadwNode implements them). */
export interface AnnouncedLogsHost extends AnnounceHost {
  on (event: 'connection', listener: Parameters<AnnounceHost['on']>[1]): () => void
  on (event: 'append', listener: (log: { key: string, length: number }) => void): () => void
  follow (key: string): Promise<LogInfo>
  get (key: string, index: number, opts?: { timeout?: number }): Promise<Uint8Array | null>
  logInfo (key: string): LogInfo
}

/** Options of {@link AnnouncedLogs}. */
export interface AnnouncedLogsOptions {
  host: AnnouncedLogsHost
  /** the logs this node announces itself */
  announce: () => string[]
  /** most logs followed: bounds what a swarm of fake announcers can make a node replicate */
  max: number
  /** each entry of a followed log, in order, exactly once */
  onentry: (key: string, entry: LedgerEntry) => void
  /** a read pass over `key` reached the length known when it started */
  oncaughtup?: (key: string) => void
}

export class AnnouncedLogs {
  readonly #opts: AnnouncedLogsOptions
  readonly #announcer: LedgerAnnouncer
  /** log key -> entries already handed on */
  readonly #cursors = new Map<string, number>()
  readonly #reading = new Set<string>()
  #offAppend: (() => void) | null = null
  #stopped = false

  constructor (opts: AnnouncedLogsOptions) {
    this.#opts = opts
    this.#announcer = new LedgerAnnouncer({ host: opts.host, ledgers: opts.announce, onledgers: (keys) => { for (const k of keys) void this.follow(k) } })
  }

  /** Starts announcing and listening. Safe to call twice. */
  start (): void {
    if (this.#offAppend !== null || this.#stopped) return
    this.#offAppend = this.#opts.host.on('append', ({ key }) => { if (this.#cursors.has(key)) void this.#read(key) })
    this.#announcer.start()
  }

  /** Stops for good. Safe to call twice. */
  stop (): void {
    this.#stopped = true
    this.#announcer.stop()
    this.#offAppend?.()
  }

  /** Follows a log (announced, or given by hand) and reads what it holds. */
  async follow (key: string): Promise<void> {
    if (this.#stopped || this.#cursors.has(key) || this.#cursors.size >= this.#opts.max) return
    this.#cursors.set(key, 0)
    try {
      await this.#opts.host.follow(key)
    } catch (err) {
      // announcements arrive on their own schedule, also while the node is stopping: a log
      // that cannot be followed now is forgotten, so a later announcement tries again, rather
      // than leave a rejection nobody awaits
      this.#cursors.delete(key)
      debug('cannot follow', key.slice(0, 8), (err as Error).message)
      return
    }
    await this.#read(key)
  }

  async #read (key: string): Promise<void> {
    if (this.#reading.has(key) || this.#stopped) return
    this.#reading.add(key)
    try {
      for (let at = this.#cursors.get(key) ?? 0; at < this.#opts.host.logInfo(key).length; at = this.#cursors.get(key) ?? 0) {
        const block = await this.#opts.host.get(key, at, { timeout: BLOCK_TIMEOUT_MS })
        this.#cursors.set(key, at + 1)
        this.#opts.onentry(key, block === null ? { kind: 'invalid', code: 'LOG_NOT_FOUND', message: 'block unavailable' } : readLedgerEntry(block))
      }
      this.#opts.oncaughtup?.(key)
    } catch (err) {
      debug('reading', key.slice(0, 8), 'failed:', (err as Error).message)
    } finally {
      this.#reading.delete(key)
    }
  }
}

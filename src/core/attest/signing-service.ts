/**
 * A light node's signing service: it learns executors' ledgers from their announcements (on
 * the signing topic, see ShadwNode), replicates them (sparsely; Hypercore verifies every
 * block), and for each new receipt waits a moment for the other receipts of the same call to
 * arrive from other executors' ledgers, then has its {@link LightSigner} check it (quorum
 * evidence, or re-execution) and appends the signed attestation to its own `attestations`
 * log — which anyone can replicate and count. With a sandbox (`reexec`) it also takes audits
 * on `shadw/audit/v1`: tenants reveal a call's input so it can run the call again.
 *
 * The evidence rule: only receipts read from an executor's announced ledger are judged or
 * count as evidence. An audit's receipt is signed by a key anyone can make, so an audit only
 * supplies an input ({@link HeldAudits}), held until the call's receipts show up in ledgers.
 */
import type { SwarmConnection } from 'hyperswarm'
import { log } from '../log.ts'
import type { LogInfo, PeerStatus } from '../node/index.ts'
import type { SignedReceipt } from '../ledger/index.ts'
import { receiptHash } from '../ledger/index.ts'
import { encodeAttestation, type SignedAttestation } from '../ledger/index.ts'
import { AnnouncedLogs, ATTESTATIONS_LOG_NAME } from '../ledger/index.ts'
import { LightSigner, type LightSignerOptions } from './light-signer.ts'
import { decodeAttestation } from '../ledger/index.ts'
import { AuditChannels } from './audit-channel.ts'
import type { Audit } from './audit-message.ts'
import { callKey, HeldAudits, type HoldResult } from './held-audits.ts'
import { Rerunner, type ReexecOptions } from './reexec.ts'

const debug = log('signing')

export { ATTESTATIONS_LOG_NAME }
/**
 * How long a receipt waits for the call's other receipts before it is judged: redundant
 * executors finish within milliseconds of each other, and their ledgers replicate in a round trip.
 */
export const DEFAULT_SETTLE_MS = 500
/** Most ledgers one light node watches: bounds what a swarm of fake executors can make it replicate. */
export const MAX_WATCHED_LEDGERS = 1024
/** Receipts kept per call as evidence (redundancy is at most 16). */
const MAX_EVIDENCE_PER_CALL = 16
/**
 * Calls whose ledger receipts are kept (oldest forgotten first). A call's receipts arrive
 * within a settle window; older ones are kept only so that an audit arriving late finds the
 * receipts it brings the input for.
 */
export const MAX_TRACKED_CALLS = 1024
/**
 * Receipt hashes remembered as judged (oldest forgotten first), ~100 bytes each. Ledgers are
 * read once per session, so this only stops a receipt read again after a restart (or copied
 * into a second ledger) being judged twice; one beyond it may be, and a signer counts once.
 */
export const MAX_JUDGED = 65_536
/**
 * Blocks of the attestations log read at once on start. The log is this node's own, so every
 * block is local: a batch is one round of storage reads, not a network wait per block.
 */
export const START_READ_BATCH = 256
/** Attestations of this session kept in {@link LightSigningService.signed} (the stats are counters). */
export const MAX_RECENT_ATTESTATIONS = 256

/** The parts of a node the service uses (ShadwNode implements them). */
export interface SigningHost {
  on (event: 'connection', listener: (conn: SwarmConnection, peer: PeerStatus) => void): () => void
  on (event: 'append', listener: (log: { key: string, length: number }) => void): () => void
  connections (): Array<[SwarmConnection, PeerStatus]>
  createLog (name: string): Promise<LogInfo>
  follow (key: string): Promise<LogInfo>
  get (key: string, index: number, opts?: { wait?: boolean, timeout?: number }): Promise<Uint8Array | null>
  append (key: string, blocks: Uint8Array[]): Promise<number>
  logInfo (key: string): LogInfo
}

/** Options of {@link LightSigningService}. */
export interface SigningServiceOptions extends Omit<LightSignerOptions, 'keyPair' | 'rerun'> {
  host: SigningHost
  keyPair: LightSignerOptions['keyPair']
  settleMs?: number
  /** this node's loader and sandbox: with them it takes audits and re-executes audited calls */
  reexec?: ReexecOptions
}

/** What the service did since it started (the dashboard shows it). */
export interface SigningStats {
  /** attestations in this node's log, earlier sessions included */
  attestations: number
  agree: number
  disagree: number
  /** verdicts from re-execution */
  reexec: number
  /**
   * audits taken, dropped because too many were waiting, refused as malformed (channel
   * closed), and dropped because their sender was over its rate
   */
  audits: number
  auditsDropped: number
  auditsRefused: number
  auditsRateLimited: number
}

/**
 * @example
 * ```ts
 * const signing = new LightSigningService({ host: node, keyPair })
 * await signing.start()           // announces nothing, listens for executors' ledgers
 * signing.attestationsKey         // replicate this log to count its co-signatures
 * ```
 */
export class LightSigningService {
  readonly #opts: SigningServiceOptions
  readonly #signer: LightSigner
  readonly #ledgers: AnnouncedLogs
  /** call -> its receipts read from ledgers (one per executor): the quorum evidence */
  readonly #calls = new Map<string, SignedReceipt[]>()
  readonly #judged = new Set<string>()
  /** receipts waiting out their settle window */
  readonly #pending = new Set<string>()
  readonly #timers = new Set<ReturnType<typeof setTimeout>>()
  readonly #held = new HeldAudits()
  readonly #audits: AuditChannels | null
  #stopped = false
  #audited = 0
  #auditsDropped = 0
  readonly #counts = { agree: 0, disagree: 0, reexec: 0 }
  attestationsKey: string | null = null
  /** the latest attestations appended this session, at most {@link MAX_RECENT_ATTESTATIONS} (tests and the dashboard read it) */
  readonly signed: SignedAttestation[] = []

  constructor (opts: SigningServiceOptions) {
    this.#opts = opts
    const rerunner = opts.reexec === undefined ? null : new Rerunner(opts.reexec)
    this.#signer = new LightSigner({
      ...opts,
      ...(rerunner === null ? {} : { rerun: async (receipt: SignedReceipt) => await this.#held.rerun(receipt, async (input) => await rerunner.run(receipt, input)) })
    })
    this.#audits = rerunner === null ? null : new AuditChannels({ host: opts.host, onaudit: (audit, peer) => { this.audit(audit, peer) } })
    this.#ledgers = new AnnouncedLogs({
      host: opts.host,
      // its attestations log: any node can replicate and count its co-signatures
      announce: () => this.attestationsKey === null ? [] : [this.attestationsKey],
      max: MAX_WATCHED_LEDGERS,
      onentry: (_key, entry) => { if (entry.kind === 'receipt') this.#receive(entry.receipt) }
    })
  }

  /**
   * Creates (or reopens) the attestations log and starts listening. Receipts this node
   * attested in an earlier session are not judged again. Safe to call twice.
   */
  async start (): Promise<void> {
    if (this.attestationsKey !== null || this.#stopped) return
    const log = await this.#opts.host.createLog(ATTESTATIONS_LOG_NAME)
    await this.#rememberJudged(log.key, log.length)
    if (this.#stopped) return
    this.attestationsKey = log.key
    this.#ledgers.start()
    this.#audits?.start()
  }

  /**
   * Loads the receipts this node attested in earlier sessions into the judged set: only the
   * last {@link MAX_JUDGED} attestations (the set forgets older ones anyway), read from local
   * storage in batches of {@link START_READ_BATCH}, so a tier switch does not wait on a long log.
   */
  async #rememberJudged (key: string, length: number): Promise<void> {
    for (let start = Math.max(0, length - MAX_JUDGED); start < length && !this.#stopped; start += START_READ_BATCH) {
      const end = Math.min(length, start + START_READ_BATCH)
      const reads: Array<Promise<Uint8Array | null>> = []
      // wait: false answers from local storage: a block this node wrote and no longer has stays unread
      for (let i = start; i < end; i++) reads.push(this.#opts.host.get(key, i, { wait: false }).catch(() => null))
      for (const block of await Promise.all(reads)) {
        try { if (block !== null) remember(this.#judged, decodeAttestation(block).receiptHash, MAX_JUDGED) } catch {}
      }
    }
  }

  /** Stops judging; pending timers and held inputs are dropped. Safe to call twice. */
  stop (): void {
    this.#stopped = true
    this.#ledgers.stop()
    this.#audits?.stop()
    this.#held.clear()
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
    this.#pending.clear()
  }

  /** Starts replicating and judging an executor's ledger (announced, or given by hand). */
  async watch (key: string): Promise<void> {
    await this.#ledgers.follow(key)
  }

  /**
   * Takes an audit (checked already: the receipt's signature and the input's hash) from
   * `peer`: its input is held for the call the receipt names, and every receipt of that call
   * read from an executor's ledger — already, or while the input is held — is re-run on
   * it. The audit's own receipt is never judged nor counted as evidence. Audits beyond the
   * bounds of {@link HeldAudits} are dropped and counted; the same call's input again is ignored.
   */
  audit (audit: Audit, peer = ''): HoldResult | null {
    if (this.#stopped || this.#audits === null) return null
    const key = callKey(audit.receipt)
    const held = this.#held.hold(key, audit.input, peer)
    if (held === 'full') this.#auditsDropped++
    if (held !== 'held') return held
    this.#audited++
    // receipts of the call judged without it abstained for want of the input: judge them now
    for (const r of this.#calls.get(key) ?? []) this.#schedule(r, 0)
    return held
  }

  /** Counts for the dashboard. */
  stats (): SigningStats {
    const key = this.attestationsKey
    let attestations = this.#counts.agree + this.#counts.disagree
    try { if (key !== null) attestations = this.#opts.host.logInfo(key).length } catch {}
    return {
      attestations,
      ...this.#counts,
      audits: this.#audited,
      auditsDropped: this.#auditsDropped,
      auditsRefused: this.#audits?.refused ?? 0,
      auditsRateLimited: this.#audits?.rateLimited ?? 0
    }
  }

  /** A receipt read from an executor's ledger (Hypercore verified the block): evidence, and judged. */
  #receive (receipt: SignedReceipt): void {
    const key = callKey(receipt)
    let calls = this.#calls.get(key)
    if (calls === undefined) {
      calls = []
      this.#calls.set(key, calls)
      if (this.#calls.size > MAX_TRACKED_CALLS) this.#calls.delete(this.#calls.keys().next().value as string)
    }
    if (calls.length < MAX_EVIDENCE_PER_CALL && !calls.some(r => r.executor === receipt.executor)) calls.push(receipt)
    this.#schedule(receipt, this.#opts.settleMs ?? DEFAULT_SETTLE_MS)
  }

  #schedule (receipt: SignedReceipt, ms: number): void {
    const hash = receiptHash(receipt)
    if (this.#stopped || this.#judged.has(hash) || this.#pending.has(hash)) return
    this.#pending.add(hash)
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      this.#pending.delete(hash)
      void this.#judge(receipt, hash)
    }, ms)
    this.#timers.add(timer)
  }

  async #judge (receipt: SignedReceipt, hash: string): Promise<void> {
    if (this.#stopped || this.#judged.has(hash) || this.attestationsKey === null) return
    remember(this.#judged, hash, MAX_JUDGED)
    const key = callKey(receipt)
    const evidence = (this.#calls.get(key) ?? []).filter(r => r.executor !== receipt.executor)
    let signed = false
    try {
      const a = await this.#signer.attest(receipt, evidence, this.#held.has(key))
      if (a === null || this.#stopped) return
      await this.#opts.host.append(this.attestationsKey, [encodeAttestation(a)])
      this.#record(a)
      signed = true
      debug(a.verdict, 'receipt', hash.slice(0, 8), 'of', receipt.executor.slice(0, 8), 'by', a.method)
    } catch (err) {
      // the node closing under a pending judgement, or a re-execution failing: nothing signed
      debug('judging receipt', hash.slice(0, 8), 'failed:', (err as Error).message)
    } finally {
      // an abstention is not final: an audit arriving later brings the input to re-run it
      if (!signed) this.#judged.delete(hash)
    }
  }

  #record (a: SignedAttestation): void {
    this.#counts[a.verdict]++
    if (a.method === 'reexec') this.#counts.reexec++
    this.signed.push(a)
    if (this.signed.length > MAX_RECENT_ATTESTATIONS) this.signed.splice(0, this.signed.length - MAX_RECENT_ATTESTATIONS)
  }
}

/** Adds `value` to an insertion-ordered set, forgetting the oldest beyond `max`. */
function remember (set: Set<string>, value: string, max: number): void {
  set.delete(value)
  set.add(value)
  if (set.size > max) set.delete(set.values().next().value as string)
}

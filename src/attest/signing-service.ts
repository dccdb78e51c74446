/**
 * A light node's signing service: it learns executors' ledgers from their announcements (on
 * the signing topic, see ShadwNode), replicates them (sparsely; Hypercore verifies every
 * block), and for each new receipt waits a moment for the other receipts of the same call to
 * arrive from other executors' ledgers, then has its {@link LightSigner} check it (quorum
 * evidence, or re-execution) and appends the signed attestation to its own `attestations`
 * log — which anyone can replicate and count. With a sandbox (`reexec`) it also takes audits
 * on `shadw/audit/v1`: tenants reveal a call's input so it can run the call again.
 */
import type { SwarmConnection } from 'hyperswarm'
import { log } from '../core/log.ts'
import type { LogInfo, PeerStatus } from '../core/node/types.ts'
import type { SignedReceipt } from '../invoke/receipt.ts'
import { receiptHash } from '../invoke/receipt.ts'
import { encodeAttestation, type SignedAttestation } from './attestation.ts'
import { AnnouncedLogs } from './announced-logs.ts'
import { LightSigner, type LightSignerOptions } from './light-signer.ts'
import { decodeAttestation } from './attestation.ts'
import { AuditChannels } from './audit-channel.ts'
import type { Audit } from './audit-message.ts'
import { rerunCall, type ReexecOptions } from './reexec.ts'

const debug = log('signing')

/** Name of the log a light node appends its attestations to. */
export const ATTESTATIONS_LOG_NAME = 'attestations'
/**
 * How long a receipt waits for the call's other receipts before it is judged: redundant
 * executors finish within milliseconds of each other, and their ledgers replicate in a round trip.
 */
export const DEFAULT_SETTLE_MS = 500
/** Most ledgers one light node watches: bounds what a swarm of fake executors can make it replicate. */
export const MAX_WATCHED_LEDGERS = 1024
/** Receipts kept per call nonce as evidence (redundancy is at most 16). */
const MAX_EVIDENCE_PER_CALL = 16
/** Audited inputs held until their call is judged: a flood of audits is dropped, not buffered. */
export const MAX_HELD_AUDITS = 64
/** Bytes of audited input held at once (a call's input is at most 1 MiB). */
export const MAX_HELD_AUDIT_BYTES = 16 * 1024 * 1024

/** The parts of a node the service uses (ShadwNode implements them). */
export interface SigningHost {
  on (event: 'connection', listener: (conn: SwarmConnection, peer: PeerStatus) => void): () => void
  on (event: 'append', listener: (log: { key: string, length: number }) => void): () => void
  connections (): Array<[SwarmConnection, PeerStatus]>
  createLog (name: string): Promise<LogInfo>
  follow (key: string): Promise<LogInfo>
  get (key: string, index: number, opts?: { timeout?: number }): Promise<Uint8Array | null>
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
  /** audits taken, dropped because too many were waiting, and refused as malformed (channel closed) */
  audits: number
  auditsDropped: number
  auditsRefused: number
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
  readonly #byNonce = new Map<string, SignedReceipt[]>()
  readonly #judged = new Set<string>()
  readonly #timers = new Set<ReturnType<typeof setTimeout>>()
  /** receipt hash -> the input a tenant revealed for it, until the call is judged */
  readonly #inputs = new Map<string, Uint8Array>()
  #inputBytes = 0
  readonly #audits: AuditChannels | null
  #stopped = false
  #audited = 0
  #auditsDropped = 0
  attestationsKey: string | null = null
  /** attestations appended (tests and the dashboard read it) */
  readonly signed: SignedAttestation[] = []

  constructor (opts: SigningServiceOptions) {
    this.#opts = opts
    const reexec = opts.reexec
    this.#signer = new LightSigner({
      ...opts,
      ...(reexec === undefined
        ? {}
        : {
            rerun: async (receipt: SignedReceipt) => {
              const input = this.#inputs.get(receiptHash(receipt))
              return input === undefined ? null : await rerunCall(reexec, receipt, input)
            }
          })
    })
    this.#audits = reexec === undefined ? null : new AuditChannels({ host: opts.host, onaudit: (audit) => { this.audit(audit) } })
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
    for (let i = 0; i < log.length; i++) {
      const block = await this.#opts.host.get(log.key, i, { timeout: 1_000 })
      try { if (block !== null) this.#judged.add(decodeAttestation(block).receiptHash) } catch {}
    }
    this.attestationsKey = log.key
    this.#ledgers.start()
    this.#audits?.start()
  }

  /** Stops judging; pending timers are dropped. Safe to call twice. */
  stop (): void {
    this.#stopped = true
    this.#ledgers.stop()
    this.#audits?.stop()
    this.#inputs.clear()
    this.#inputBytes = 0
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
  }

  /** Starts replicating and judging an executor's ledger (announced, or given by hand). */
  async watch (key: string): Promise<void> {
    await this.#ledgers.follow(key)
  }

  /**
   * Takes an audit (checked already: the executor's signature and the input's hash): the
   * call is re-executed and judged with whatever quorum evidence arrives meanwhile. Audits
   * beyond {@link MAX_HELD_AUDITS} or {@link MAX_HELD_AUDIT_BYTES} waiting are dropped.
   */
  audit (audit: Audit): void {
    if (this.#stopped || this.#audits === null) return
    const hash = receiptHash(audit.receipt)
    if (this.#judged.has(hash) || this.#inputs.has(hash)) return
    if (this.#inputs.size >= MAX_HELD_AUDITS || this.#inputBytes + audit.input.byteLength > MAX_HELD_AUDIT_BYTES) { this.#auditsDropped++; return }
    this.#inputs.set(hash, audit.input)
    this.#inputBytes += audit.input.byteLength
    this.#audited++
    this.#receive(audit.receipt)
  }

  /** Counts for the dashboard. */
  stats (): SigningStats {
    const key = this.attestationsKey
    let attestations = this.signed.length
    try { if (key !== null) attestations = this.#opts.host.logInfo(key).length } catch {}
    return {
      attestations,
      agree: this.signed.filter(a => a.verdict === 'agree').length,
      disagree: this.signed.filter(a => a.verdict === 'disagree').length,
      reexec: this.signed.filter(a => a.method === 'reexec').length,
      audits: this.#audited,
      auditsDropped: this.#auditsDropped,
      auditsRefused: this.#audits?.refused ?? 0
    }
  }

  #receive (receipt: SignedReceipt): void {
    const calls = this.#byNonce.get(receipt.nonce) ?? []
    if (calls.length < MAX_EVIDENCE_PER_CALL && !calls.some(r => r.executor === receipt.executor)) calls.push(receipt)
    this.#byNonce.set(receipt.nonce, calls)
    const timer = setTimeout(() => {
      this.#timers.delete(timer)
      void this.#judge(receipt)
    }, this.#opts.settleMs ?? DEFAULT_SETTLE_MS)
    this.#timers.add(timer)
  }

  async #judge (receipt: SignedReceipt): Promise<void> {
    const hash = receiptHash(receipt)
    if (this.#stopped || this.#judged.has(hash) || this.attestationsKey === null) return
    this.#judged.add(hash)
    const evidence = (this.#byNonce.get(receipt.nonce) ?? []).filter(r => r.executor !== receipt.executor)
    const input = this.#inputs.get(hash)
    let signed = false
    try {
      const a = await this.#signer.attest(receipt, evidence, input !== undefined)
      if (a === null || this.#stopped) return
      await this.#opts.host.append(this.attestationsKey, [encodeAttestation(a)])
      this.signed.push(a)
      signed = true
      debug(a.verdict, 'receipt', hash.slice(0, 8), 'of', receipt.executor.slice(0, 8), 'by', a.method)
    } catch (err) {
      // the node closing under a pending judgement, or a re-execution failing: nothing signed
      debug('judging receipt', hash.slice(0, 8), 'failed:', (err as Error).message)
    } finally {
      if (input !== undefined) { this.#inputs.delete(hash); this.#inputBytes -= input.byteLength }
      // an abstention is not final: an audit arriving later brings the input to re-run it
      if (!signed) this.#judged.delete(hash)
    }
  }
}

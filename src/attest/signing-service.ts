/**
 * A light node's signing service: it learns executors' ledgers from their announcements,
 * replicates them (sparsely; Hypercore verifies every block), and for each new receipt waits a
 * moment for the other receipts of the same call to arrive from other executors' ledgers, then
 * has its {@link LightSigner} check it (quorum evidence, or re-execution) and appends the
 * signed attestation to its own `attestations` log — which anyone can replicate and count.
 */
import type { SwarmConnection } from 'hyperswarm'
import { log } from '../core/log.ts'
import type { LogInfo, PeerStatus } from '../core/node/types.ts'
import type { SignedReceipt } from '../invoke/receipt.ts'
import { receiptHash } from '../pricing/charge.ts'
import { readLedgerEntry } from '../pricing/ledger-entry.ts'
import { encodeAttestation, type SignedAttestation } from './attestation.ts'
import { LedgerAnnouncer } from './ledger-announce.ts'
import { LightSigner, type LightSignerOptions } from './light-signer.ts'

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
export interface SigningServiceOptions extends Omit<LightSignerOptions, 'keyPair'> {
  host: SigningHost
  keyPair: LightSignerOptions['keyPair']
  settleMs?: number
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
  readonly #announcer: LedgerAnnouncer
  /** ledger key -> blocks already read */
  readonly #watched = new Map<string, number>()
  readonly #reading = new Set<string>()
  readonly #byNonce = new Map<string, SignedReceipt[]>()
  readonly #judged = new Set<string>()
  readonly #timers = new Set<ReturnType<typeof setTimeout>>()
  #offAppend: (() => void) | null = null
  #stopped = false
  attestationsKey: string | null = null
  /** attestations appended (tests and the dashboard read it) */
  readonly signed: SignedAttestation[] = []

  constructor (opts: SigningServiceOptions) {
    this.#opts = opts
    this.#signer = new LightSigner(opts)
    this.#announcer = new LedgerAnnouncer({
      host: opts.host,
      // its attestations log: any node can replicate and count its co-signatures
      ledgers: () => this.attestationsKey === null ? [] : [this.attestationsKey],
      onledgers: (keys) => { for (const k of keys) void this.watch(k) }
    })
  }

  /** Creates the attestations log and starts listening. Safe to call twice. */
  async start (): Promise<void> {
    if (this.attestationsKey !== null || this.#stopped) return
    this.attestationsKey = (await this.#opts.host.createLog(ATTESTATIONS_LOG_NAME)).key
    this.#offAppend = this.#opts.host.on('append', ({ key }) => { if (this.#watched.has(key)) void this.#read(key) })
    this.#announcer.start()
  }

  /** Stops judging; pending timers are dropped. Safe to call twice. */
  stop (): void {
    this.#stopped = true
    this.#announcer.stop()
    this.#offAppend?.()
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
  }

  /** Starts replicating and judging an executor's ledger (announced, or given by hand). */
  async watch (key: string): Promise<void> {
    if (this.#stopped || this.#watched.has(key) || this.#watched.size >= MAX_WATCHED_LEDGERS) return
    this.#watched.set(key, 0)
    try {
      await this.#opts.host.follow(key)
    } catch (err) {
      // announced while the node stops, or a key it cannot follow: forget it, so a later
      // announcement tries again, rather than leave a rejection nobody awaits
      this.#watched.delete(key)
      debug('cannot follow', key.slice(0, 8), (err as Error).message)
      return
    }
    await this.#read(key)
  }

  async #read (key: string): Promise<void> {
    if (this.#reading.has(key) || this.#stopped) return
    this.#reading.add(key)
    try {
      for (;;) {
        const from = this.#watched.get(key) ?? 0
        const length = this.#opts.host.logInfo(key).length
        if (from >= length) break
        for (let i = from; i < length; i++) {
          const block = await this.#opts.host.get(key, i, { timeout: 10_000 })
          this.#watched.set(key, i + 1)
          if (block === null) continue
          const entry = readLedgerEntry(block)
          if (entry.kind === 'receipt') this.#receive(entry.receipt)
        }
      }
    } catch (err) {
      debug('reading ledger', key.slice(0, 8), 'failed:', (err as Error).message)
    } finally {
      this.#reading.delete(key)
    }
  }

  #receive (receipt: SignedReceipt): void {
    const calls = this.#byNonce.get(receipt.nonce) ?? []
    if (calls.length < MAX_EVIDENCE_PER_CALL) calls.push(receipt)
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
    const evidence = (this.#byNonce.get(receipt.nonce) ?? []).filter(r => r !== receipt)
    try {
      const a = await this.#signer.attest(receipt, evidence)
      if (a === null || this.#stopped) return
      await this.#opts.host.append(this.attestationsKey, [encodeAttestation(a)])
      this.signed.push(a)
      debug(a.verdict, 'receipt', hash.slice(0, 8), 'of', receipt.executor.slice(0, 8))
    } catch (err) {
      // the node closing under a pending judgement, or a re-execution failing: nothing signed
      debug('judging receipt', hash.slice(0, 8), 'failed:', (err as Error).message)
    }
  }
}

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
import { receiptHash } from '../invoke/receipt.ts'
import { encodeAttestation, type SignedAttestation } from './attestation.ts'
import { AnnouncedLogs } from './announced-logs.ts'
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
  readonly #ledgers: AnnouncedLogs
  readonly #byNonce = new Map<string, SignedReceipt[]>()
  readonly #judged = new Set<string>()
  readonly #timers = new Set<ReturnType<typeof setTimeout>>()
  #stopped = false
  attestationsKey: string | null = null
  /** attestations appended (tests and the dashboard read it) */
  readonly signed: SignedAttestation[] = []

  constructor (opts: SigningServiceOptions) {
    this.#opts = opts
    this.#signer = new LightSigner(opts)
    this.#ledgers = new AnnouncedLogs({
      host: opts.host,
      // its attestations log: any node can replicate and count its co-signatures
      announce: () => this.attestationsKey === null ? [] : [this.attestationsKey],
      max: MAX_WATCHED_LEDGERS,
      onentry: (_key, entry) => { if (entry.kind === 'receipt') this.#receive(entry.receipt) }
    })
  }

  /** Creates the attestations log and starts listening. Safe to call twice. */
  async start (): Promise<void> {
    if (this.attestationsKey !== null || this.#stopped) return
    this.attestationsKey = (await this.#opts.host.createLog(ATTESTATIONS_LOG_NAME)).key
    this.#ledgers.start()
  }

  /** Stops judging; pending timers are dropped. Safe to call twice. */
  stop (): void {
    this.#stopped = true
    this.#ledgers.stop()
    for (const t of this.#timers) clearTimeout(t)
    this.#timers.clear()
  }

  /** Starts replicating and judging an executor's ledger (announced, or given by hand). */
  async watch (key: string): Promise<void> {
    await this.#ledgers.follow(key)
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

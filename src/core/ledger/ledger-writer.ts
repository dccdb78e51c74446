/**
 * The executor's receipt ledger writer: signs receipts in groups and appends each group to
 * the node's ledger log (group commit), answering each receipt with its block index once its
 * append completed. One writer per log at a time: it counts indexes itself, so it must be the
 * log's only writer until {@link LedgerWriter.close} resolves.
 */
import { afterBurst } from '../after-burst.ts'
import { ShadwError } from '../errors.ts'
import { log } from '../log.ts'
import { MAX_RECEIPT_BATCH, type SignedReceipt, type VerifiedRoots } from './receipt.ts'
import { signReceiptBatch, type PendingReceipt } from './receipt-batch.ts'

const debug = log('ledger-writer')

/**
 * Where receipts go: the node's ledger log. The writer must be its only writer while it runs
 * (see {@link LedgerWriter.close}): it checks each append lands where it counted.
 */
export interface Ledger {
  /** the ledger log's public key */
  readonly key: Uint8Array
  /**
   * appends blocks in order; resolves to the log's new length. Rejects with a typed storage
   * error where the host can tell (`STORAGE_FULL`, …); anything else counts as `STORAGE_UNAVAILABLE`.
   */
  append (blocks: Uint8Array[]): Promise<number>
}

/** Options of {@link LedgerWriter}. */
export interface LedgerWriterOptions {
  ledger: Ledger
  /** signs every batch of receipts: the executor's node secret key */
  secretKey: Uint8Array
  /** the root of every batch signed here goes in: this node never verifies its own receipts */
  verifiedRoots?: VerifiedRoots
  /** told once, when an append fails (the writer refuses every receipt from then on) */
  onfail?: (failure: ShadwError) => void
}

/** A receipt signed and given its place in the ledger. */
export interface RecordedReceipt {
  receipt: SignedReceipt
  /** its encoding: the ledger block */
  bytes: Uint8Array
  /** the index of its ledger block */
  index: number
}

interface Queued {
  pending: PendingReceipt
  resolve (r: RecordedReceipt): void
  reject (err: unknown): void
}

/**
 * @example
 * ```ts
 * const writer = new LedgerWriter({ ledger, secretKey: keyPair.secretKey })
 * const { receipt, bytes, index } = await writer.record(prepareReceipt(body))
 * await writer.close() // every receipt recorded is in the ledger (or its append failed)
 * ```
 */
export class LedgerWriter {
  readonly #opts: LedgerWriterOptions
  /** receipts waiting for the append in flight to finish */
  #queued: Queued[] = []
  /** the group commit running now: signs and appends until the queue is empty */
  #flushing: Promise<void> | null = null
  /** index the next receipt's block gets; null until the first append told the ledger's length */
  #nextIndex: number | null = null
  #failure: ShadwError | null = null
  #closed = false

  constructor (opts: LedgerWriterOptions) {
    this.#opts = opts
  }

  /** The failure of the append that stopped this writer (`STORAGE_FULL`, …); null while none failed. */
  get failure (): ShadwError | null {
    return this.#failure
  }

  /**
   * Signs a receipt and queues it for the ledger; resolves to it, its encoding and the index
   * of its ledger block. While one append runs, receipts queue and go in the next append
   * together (group commit): one receipt signature over the batch's Merkle root, one ledger
   * Merkle tree update and signature per batch instead of per receipt, and no added wait when
   * receipts come one by one. The first receipt of a burst waits for the rest of it
   * ({@link afterBurst}).
   *
   * A receipt resolves only once its append completed: it is in the ledger's storage (the
   * Hypercore oplog, which survives a killed process) before its result is acknowledged, so
   * nothing a tenant holds is ever missing from the ledger, and no index is given out twice.
   * Group commit keeps the cost: while one append runs, the next batch gathers. If an append
   * fails, the receipts it carried are refused, and so is every later one ({@link failure}).
   *
   * @throws the append's failure ({@link failure}: `STORAGE_FULL`, `STORAGE_UNAVAILABLE`, …)
   *   once an append failed; `EXECUTOR_CLOSED` after {@link close}; a signing error for the
   *   receipts of its batch.
   */
  record (pending: PendingReceipt): Promise<RecordedReceipt> {
    if (this.#failure !== null) return Promise.reject(this.#failure)
    if (this.#closed) return Promise.reject(ShadwError.EXECUTOR_CLOSED('this ledger writer is closed: another may write the log'))
    return new Promise((resolve, reject) => {
      this.#queued.push({ pending, resolve, reject })
      if (this.#flushing === null) {
        this.#flushing = new Promise<void>(resolve => { afterBurst(() => { void this.#flush().then(resolve) }) })
      }
    })
  }

  /**
   * Refuses further receipts and resolves once every receipt recorded before is in the
   * ledger (or its append failed). Nothing of this writer touches the log after that, so
   * another writer (a contributor's switch) or a closing node may take it over. Safe to call
   * twice.
   */
  async close (): Promise<void> {
    this.#closed = true
    while (this.#flushing !== null) await this.#flushing
  }

  async #flush (): Promise<void> {
    while (this.#queued.length > 0) {
      const batch = this.#queued.splice(0, MAX_RECEIPT_BATCH)
      let signed: Array<{ receipt: SignedReceipt, bytes: Uint8Array }>
      try {
        if (this.#failure !== null) throw this.#failure
        signed = signReceiptBatch(batch.map(b => b.pending), this.#opts.secretKey, this.#opts.verifiedRoots)
      } catch (err) {
        for (const b of batch) b.reject(err)
        continue
      }
      try {
        const length = await this.#opts.ledger.append(signed.map(s => s.bytes))
        // a bug: every other writer of this log is refused (the bridge) or waits for close()
        if (this.#nextIndex !== null && length !== this.#nextIndex + batch.length) throw ShadwError.INTERNAL(`the ledger is ${length} blocks long, ${this.#nextIndex + batch.length} expected: something else appends to it`)
        this.#nextIndex = length
        // durable first, acknowledged after: a receipt a tenant holds is in the ledger's
        // storage, and its index is never given out twice
        const base = length - batch.length
        batch.forEach((b, i) => { b.resolve({ ...(signed[i] as { receipt: SignedReceipt, bytes: Uint8Array }), index: base + i }) })
      } catch (err) {
        // signed, never given out: these receipts are refused, as every later one is
        this.#fail(err)
        for (const b of batch) b.reject(this.#failure)
      }
    }
    this.#flushing = null
  }

  #fail (err: unknown): void {
    if (this.#failure !== null) return
    const failure = ledgerWriteError(err)
    this.#failure = failure
    debug('ledger append failed; refusing receipts from now on:', failure.message)
    try {
      this.#opts.onfail?.(failure)
    } catch (e) {
      // the writer must go on refusing and draining whatever its listener does
      debug('onfail listener failed', e)
    }
  }
}

/** A failed ledger append as a typed error: the host's own (`STORAGE_FULL`, …) kept, anything else `STORAGE_UNAVAILABLE`. */
function ledgerWriteError (err: unknown): ShadwError {
  return err instanceof ShadwError ? err : ShadwError.STORAGE_UNAVAILABLE(`the ledger cannot be written: ${err instanceof Error ? err.message : String(err)}`, err)
}

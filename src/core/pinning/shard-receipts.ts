/**
 * Storage receipts of a shard holder, as a replica holder signs them (storage-receipt.ts):
 * the pinner's signed order for one slot (the drive, this holder, the slot's bytes, the
 * prices) is checked when the slot opens, countersigned into the storage ledger once every
 * stripe is in (the co-signed pin record that backs the receipts), with a `pin` receipt;
 * then a `hold` receipt for the slot's bytes over each period since the last, every
 * heartbeat. Credits count them like a replica's (storage-credits.ts); a slot whose holder a
 * quorum of proofs fails is unpaid for the failed stretch, as for replicas.
 */
import { ShadwError } from '../errors.ts'
import { log } from '../log.ts'
import { CLOCK_SKEW_MS, cosignStorageOrder, encodeCosignedPin, encodeStorageReceipt, signStorageReceipt, verifyStorageOrder, type Ledger, type StorageKind, type StorageOrder } from '../ledger/index.ts'

const debug = log('pinning')

/** A slot held under an order: what its receipts name. */
interface Paid { order: StorageOrder, bytes: number, since: number }

/** See the module comment. */
export class ShardReceipts {
  readonly #keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }
  readonly #ledger: Pick<Ledger, 'append'>
  readonly #me: string
  readonly #price: number
  readonly #servePrice: number
  /** slot (root/shard) → its order and the end of the last period billed */
  readonly #paid = new Map<string, Paid>()
  #appending: Promise<void> = Promise.resolve()

  constructor (o: { keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }, ledger: Pick<Ledger, 'append'>, me: string, price: number, servePrice: number }) {
    this.#keyPair = o.keyPair
    this.#ledger = o.ledger
    this.#me = o.me
    this.#price = o.price
    this.#servePrice = o.servePrice
  }

  /**
   * The pinner's order for a slot of `bytes` of `drive`, checked: signed, naming this
   * holder, the drive and the slot's bytes, at prices not below this holder's, from now.
   * @throws ShadwError `PIN_PROTOCOL`
   */
  check (v: unknown, drive: string, bytes: number): StorageOrder {
    let o: StorageOrder
    try { o = verifyStorageOrder(v as StorageOrder) } catch (err) { throw ShadwError.PIN_PROTOCOL(`shard order: ${(err as Error).message}`) }
    const why = o.holder !== this.#me
      ? 'the order names another holder'
      : o.drive !== drive || o.bytes !== bytes
        ? 'the order names another drive or slot size'
        : o.price < this.#price || o.servePrice < this.#servePrice
          ? `the order's prices (${o.price}, ${o.servePrice}) are below those asked (${this.#price}, ${this.#servePrice})`
          : Math.abs(o.time - Date.now()) > CLOCK_SKEW_MS ? 'the order is not from now' : null
    if (why !== null) throw ShadwError.PIN_PROTOCOL(why)
    return o
  }

  /** The slot is held whole: countersigns its order into the ledger, with a `pin` receipt. */
  held (slot: string, order: StorageOrder, bytes: number): void {
    if (this.#paid.has(slot)) return
    const now = Date.now()
    this.#paid.set(slot, { order, bytes, since: now })
    const record = encodeCosignedPin(cosignStorageOrder(order, this.#keyPair))
    this.#append([record, this.#receipt(order, 'pin', bytes, now, now)], order.drive)
  }

  /**
   * An order this holder checked and countersigned before a restart, read back from its own
   * slot index: signed, naming this holder, the drive and the slot's bytes (its time is past).
   * Null when it is not.
   */
  resumable (v: unknown, drive: string, bytes: number): StorageOrder | null {
    try {
      const o = verifyStorageOrder(v as StorageOrder)
      return o.holder === this.#me && o.drive === drive && o.bytes === bytes ? o : null
    } catch {
      return null
    }
  }

  /** Bills a slot countersigned before a restart again, from now on (nothing is signed twice). */
  resume (slot: string, order: StorageOrder, bytes: number): void {
    if (!this.#paid.has(slot)) this.#paid.set(slot, { order, bytes, since: Date.now() })
  }

  /** A `hold` receipt per slot held under an order, for the time since the last one. */
  heartbeat (): void {
    const now = Date.now()
    const out: Uint8Array[] = []
    for (const p of this.#paid.values()) {
      if (now <= p.since) continue
      out.push(this.#receipt(p.order, 'hold', p.bytes, p.since, now))
      p.since = now
    }
    if (out.length > 0) this.#append(out, 'slots')
  }

  /** Stops billing a slot (given up or moved by a repair). */
  drop (slot: string): void {
    this.#paid.delete(slot)
  }

  /** Resolves once every record signed so far is in the ledger (or failed). */
  async recorded (): Promise<void> {
    await this.#appending
  }

  #receipt (o: StorageOrder, kind: StorageKind, bytes: number, from: number, to: number): Uint8Array {
    return encodeStorageReceipt(signStorageReceipt({ kind, drive: o.drive, pinner: o.pinner, bytes, from, to, price: o.price }, this.#keyPair))
  }

  #append (blocks: Uint8Array[], what: string): void {
    this.#appending = this.#appending.then(async () => { await this.#ledger.append(blocks) }).catch((err: unknown) => { debug('shard receipts not recorded', what.slice(0, 8), err) })
  }
}

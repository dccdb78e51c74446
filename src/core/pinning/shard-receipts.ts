/**
 * Storage receipts of a shard holder, as a replica holder signs them (storage-receipt.ts):
 * the pinner's signed order for one slot (the drive, this holder, the slot's bytes, the
 * prices) is checked when the slot opens, countersigned into the storage ledger once every
 * stripe is in (the co-signed pin record that backs the receipts), with a `pin` receipt;
 * then a `hold` receipt for the slot's bytes over each period since the last, every
 * heartbeat. Credits count them like a replica's (storage-credits.ts); a slot whose holder a
 * quorum of proofs fails is unpaid for the failed stretch, as for replicas.
 *
 * A slot placed by a repair is paid the same way under the pinner's **slot order** (a
 * standing order naming the erasure pin's root and its K+M slots, standing-order.ts), which
 * every first holder gets with its order and keeps: the repairer offers the new holder the
 * lost holder's slot in a replacement record under it (signed by the repairer), and the new
 * holder checks it, countersigns it once it holds the slot whole and appends it instead of a
 * pin record; its receipts then name the order's pinner at the replacement's price. An offer
 * it cannot accept (another holder or slot, a price below its own, not from now) leaves the
 * slot held unpaid: redundancy first.
 */
import { ShadwError } from '../errors.ts'
import { log } from '../log.ts'
import {
  CLOCK_SKEW_MS, cosignReplacement, cosignStorageOrder, encodeCosignedPin, encodeReplacement, encodeStorageReceipt, signReplacement, signStorageReceipt, verifyReplacement,
  verifyReplacementOffer, verifyStandingOrder, verifyStorageOrder, type Ledger, type Replacement, type ReplacementOffer, type StandingOrder, type StorageKind, type StorageOrder
} from '../ledger/index.ts'
import type { ErasurePin } from './erasure-pin.ts'

const debug = log('pinning')

/** What pays for a slot: the pinner's order (and its slot order, for repairs), or a replacement under a slot order. */
export type SlotTerms = { order: StorageOrder, standing: StandingOrder | null } | { replacement: Replacement }

/** A slot held under terms: what its receipts name. */
interface Paid { drive: string, pinner: string, price: number, bytes: number, since: number }

function paidBy (t: SlotTerms): { drive: string, pinner: string, price: number } {
  return 'order' in t ? t.order : { drive: t.replacement.order.drive, pinner: t.replacement.order.pinner, price: t.replacement.price }
}

/** The slot order a slot's terms carry, if any. */
export function slotOrderOf (t: SlotTerms | null): StandingOrder | null {
  return t === null ? null : 'order' in t ? t.standing : t.replacement.order
}

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

  /**
   * The pinner's slot order sent with its order for a slot: signed by the same pinner, for
   * this pin (drive, root, K+M slots of the slot's bytes).
   * @throws ShadwError `PIN_PROTOCOL`
   */
  checkStanding (v: unknown, pin: ErasurePin, order: StorageOrder): StandingOrder {
    let s: StandingOrder
    try { s = verifyStandingOrder(v as StandingOrder) } catch (err) { throw ShadwError.PIN_PROTOCOL(`slot order: ${(err as Error).message}`) }
    if (s.pinner !== order.pinner || s.drive !== pin.drive || s.root !== pin.root || s.bytes !== order.bytes || s.replicas !== pin.layout.k + pin.layout.m) {
      throw ShadwError.PIN_PROTOCOL('the slot order names another pinner, pin, slot size or slot count')
    }
    return s
  }

  /**
   * A repairer's offer of slot `shard` of `pin`, checked and countersigned: under a slot order
   * of this pin, naming this holder and the slot, at prices not below this holder's, from now.
   * Null when it is not one this holder can take (the slot is then held unpaid).
   */
  accept (v: unknown, pin: ErasurePin, shard: number, bytes: number): Replacement | null {
    try {
      const o = verifyReplacementOffer(v as ReplacementOffer)
      const why = o.holder !== this.#me
        ? 'another holder'
        : o.order.root !== pin.root || o.order.drive !== pin.drive || o.slot !== shard || o.order.bytes !== bytes
          ? 'another pin, slot or slot size'
          : o.price < this.#price ? 'a price below ours' : Math.abs(o.time - Date.now()) > CLOCK_SKEW_MS ? 'not from now' : null
      if (why !== null) { debug('repair offer not taken:', why); return null }
      return cosignReplacement(o, this.#keyPair)
    } catch (err) {
      debug('repair offer not taken', err)
      return null
    }
  }

  /**
   * The offer of `shard` of a pin to `holder`, replacing `lost` (its newest hold at `lastSeen`),
   * signed by this holder under the slot order its own slot's terms carry, at the price the
   * pinner pays this holder (within the order's cap). Null when there is no slot order, or the
   * loss is not yet a grace of the order old: the repair then places the slot unpaid.
   */
  offer (mine: SlotTerms | null, shard: number, lost: string, lastSeen: number, holder: string): ReplacementOffer | null {
    const order = slotOrderOf(mine)
    if (mine === null || order === null) return null
    if (Date.now() - lastSeen < order.graceMs) { debug('repair within the slot order\'s grace: placed unpaid'); return null }
    try {
      return signReplacement({ order, holder, replaces: lost, slot: shard, lastSeen, time: Date.now(), price: Math.min(order.price, paidBy(mine).price), servePrice: 0 }, this.#keyPair)
    } catch (err) {
      debug('no repair offer', err)
      return null
    }
  }

  /**
   * When an offer for a loss last seen at `lastSeen` is payable: a grace of the slot order
   * after it, and `lagMs` more (the lost holder's last sign of life, such as a proof it passed,
   * may be that much newer than the hold it was last seen by). Null without a slot order.
   */
  payableAt (mine: SlotTerms | null, lastSeen: number, lagMs: number): number | null {
    const order = slotOrderOf(mine)
    return order === null ? null : lastSeen + order.graceMs + lagMs
  }

  /** The slot is held whole: countersigns its order (or appends its replacement) into the ledger, with a `pin` receipt. */
  held (slot: string, terms: SlotTerms, bytes: number): void {
    if (this.#paid.has(slot)) return
    const now = Date.now()
    const p = paidBy(terms)
    this.#paid.set(slot, { ...p, bytes, since: now })
    const record = 'order' in terms ? encodeCosignedPin(cosignStorageOrder(terms.order, this.#keyPair)) : encodeReplacement(terms.replacement)
    this.#append([record, this.#receipt(p, 'pin', bytes, now, now)], p.drive)
  }

  /**
   * Terms this holder checked and countersigned before a restart, read back from its own slot
   * index: signed, naming this holder, the drive and the slot's bytes (their time is past).
   * Null when they are not.
   */
  resumable (kept: { order?: unknown, standing?: unknown, replacement?: unknown }, pin: ErasurePin, bytes: number): SlotTerms | null {
    try {
      if (kept.replacement !== undefined) {
        const r = verifyReplacement(kept.replacement as Replacement)
        return r.holder === this.#me && r.order.root === pin.root && r.order.bytes === bytes ? { replacement: r } : null
      }
      if (kept.order === undefined) return null
      const o = verifyStorageOrder(kept.order as StorageOrder)
      if (o.holder !== this.#me || o.drive !== pin.drive || o.bytes !== bytes) return null
      let standing: StandingOrder | null = null
      try { standing = kept.standing === undefined ? null : this.checkStanding(kept.standing, pin, o) } catch {}
      return { order: o, standing }
    } catch {
      return null
    }
  }

  /** Bills a slot countersigned before a restart again, from now on (nothing is signed twice). */
  resume (slot: string, terms: SlotTerms, bytes: number): void {
    if (!this.#paid.has(slot)) this.#paid.set(slot, { ...paidBy(terms), bytes, since: Date.now() })
  }

  /** A `hold` receipt per slot held under an order, for the time since the last one. */
  heartbeat (): void {
    const now = Date.now()
    const out: Uint8Array[] = []
    for (const p of this.#paid.values()) {
      if (now <= p.since) continue
      out.push(this.#receipt(p, 'hold', p.bytes, p.since, now))
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

  #receipt (o: { drive: string, pinner: string, price: number }, kind: StorageKind, bytes: number, from: number, to: number): Uint8Array {
    return encodeStorageReceipt(signStorageReceipt({ kind, drive: o.drive, pinner: o.pinner, bytes, from, to, price: o.price }, this.#keyPair))
  }

  #append (blocks: Uint8Array[], what: string): void {
    this.#appending = this.#appending.then(async () => { await this.#ledger.append(blocks) }).catch((err: unknown) => { debug('shard receipts not recorded', what.slice(0, 8), err) })
  }
}

/**
 * Storage credits: what each holder earned and each pinner owes for storage, derived only
 * from signed storage receipts in ledgers (storage-receipt.ts), like compute credits from
 * compute receipts (credits.ts). Any node that reads the same ledgers gets the same figures,
 * in whatever order it reads them.
 *
 * A receipt is paid once however many copies are read. One holder's `hold` (or `serve`)
 * periods for one seat must not overlap (seat-series.ts: a seat is what the pinner ordered
 * of it, a replica or an erasure slot of the drive, so a node asked for both bills two
 * series): a receipt no seat backing it is free to take bills time already billed, and is
 * refused. Between two consecutive `hold` periods of a seat, a gap (the next starts after the last
 * ended) is time the holder did not confirm: counted as a missed confirmation.
 *
 * Only storage someone asked for counts. A `hold` or `serve` receipt is the holder's word
 * alone; it counts (for credits, confirmations and bytes served) only under a co-signed pin
 * record (storage-pin.ts) read from the same ledgers: same holder, drive and pinner, the
 * record's price (`hold`) or serving price (`serve`), bytes within the record's bytes
 * (`hold`), and a period that does not start before the record's time (less
 * {@link CLOCK_SKEW_MS}). A receipt without one is `unbacked`: listed, never paid. A `pin`
 * receipt signed by the holder alone counts nothing; the co-signed record is the pin.
 *
 * A re-pinned holder is backed instead by a replacement record under the pinner's standing
 * order (standing-order.ts), accepted only while the order's seats allow (standing-holders.ts):
 * the record's price, bytes within the order's, a period from the replacement's time until
 * the order ends or the holder is replaced in turn. A holder replaced under a standing order
 * is no longer backed by its pin records from before the replacement, for periods ending
 * after it: the order never pays more than its `replicas` holders at once. An erasure pin's
 * slot order works the same way with its K+M slots as seats.
 *
 * Proof verdicts in the same ledgers (proof-verdict.ts) stop payment: the part of a `hold`
 * period that falls in a stretch where a quorum of challengers failed the holder for that
 * drive earns nothing (the rest is paid pro rata, rounded down), and each such stretch
 * counts once as a proof failed. Only the drive's holders judge: a verdict counts when its
 * challenger has a co-signed pin of its own for the same drive among
 * the entries read (a key pair costs nothing; a quorum of strangers could frame anyone).
 *
 * A served-wrong record (served-wrong.ts) stops payment alone, from its time on, for the
 * holder and drive it names: unlike a verdict it is no one's opinion but the holder's own
 * signed answer against the pin's commitment, so any reader may bring it and one is enough.
 * It counts once as a proof failed (what lowers reputation); the earliest record per holder
 * and drive opens the stretch, which never closes.
 */
import { ShadwError } from '../errors.ts'
import type { LedgerEntry } from './ledger-entry.ts'
import { cosignedPinHash, type CosignedPin } from './storage-pin.ts'
import { seatKey, standingHolders, type StandingHolders } from './standing-holders.ts'
import { SeatSeries } from './seat-series.ts'
import { replacementHash, type Replacement } from './standing-order.ts'
import { DEFAULT_PROOF_QUORUM, proofFailures, type FailedPeriod, type ProofVerdict } from './proof-verdict.ts'
import { servedWrongKey, type ServedWrong } from './served-wrong.ts'
import { storageCharge, storageReceiptHash, type SignedStorageReceipt } from './storage-receipt.ts'

/** How far a holder's clock may run behind its pinner's: a period may start this much before the order. */
export const CLOCK_SKEW_MS = 5 * 60_000

/** One holder's confirmations: `hold` periods kept, and gaps between them; stretches failed by proofs. */
export interface HolderRecord { kept: number, missed: number, pins: number, bytesServed: number, failed: number }

/** Storage credit totals in µcredits, keyed by hex holder key and by hex pinner key. */
export interface StorageCredits {
  earned: Map<string, number>
  owed: Map<string, number>
  /** per holder: confirmations kept and missed, pins taken, bytes served */
  holders: Map<string, HolderRecord>
  /** records counted: co-signed pins, and receipts valid, distinct, backed and not overlapping */
  counted: number
  /** storage receipts refused (overlapping periods) */
  rejected: Array<{ code: string, message: string }>
  /** receipts no co-signed pin record backs (and holder-only `pin` receipts): not paid */
  unbacked: number
  /** per holder: µcredits its receipts claimed for time it stood failed by proofs, not paid */
  withheld: Map<string, number>
  /** the stretches each holder stood failed by proofs, per drive */
  failures: FailedPeriod[]
  /** per holder and drive, from when a served-wrong record stops its payment */
  servedWrong: FailedPeriod[]
  /** replacement records under standing orders: how many were accepted, and those refused with why */
  replacements: { accepted: number, refused: StandingHolders['refused'] }
}

/**
 * @example
 * ```ts
 * const credits = computeStorageCredits(await readLedger(node.session(storageLedgerKey)))
 * credits.earned.get(holderKey) // µcredits
 * ```
 */
export function computeStorageCredits (entries: Iterable<LedgerEntry>, quorum = DEFAULT_PROOF_QUORUM): StorageCredits {
  const unique = new Map<string, SignedStorageReceipt>()
  const pins = new Map<string, CosignedPin>()
  const verdicts = new Map<string, ProofVerdict>()
  const replacements = new Map<string, Replacement>()
  const wrong = new Map<string, ServedWrong>()
  for (const e of entries) {
    if (e.kind === 'storage') unique.set(storageReceiptHash(e.receipt), e.receipt)
    else if (e.kind === 'storage-pin') pins.set(cosignedPinHash(e.pin), e.pin)
    else if (e.kind === 'verdict') verdicts.set(e.verdict.signature, e.verdict)
    else if (e.kind === 'replacement') replacements.set(replacementHash(e.replacement), e.replacement)
    else if (e.kind === 'served-wrong') wrong.set(servedWrongKey(e.record), e.record)
  }
  const standing = standingHolders(pins.values(), replacements.values(), verdicts.values(), CLOCK_SKEW_MS)
  const agreements = new Map<string, CosignedPin[]>()
  for (const p of pins.values()) {
    const k = `${p.holder}/${p.drive}/${p.pinner}`
    agreements.set(k, [...(agreements.get(k) ?? []), p])
  }
  const terms = (r: SignedStorageReceipt, price: number, servePrice: number, bytes: number): boolean =>
    r.kind === 'serve' ? r.price === servePrice : r.price === price && r.bytes <= bytes
  /** the seats (key, bytes) whose pin record or accepted replacement backs `r` */
  const backers = (r: SignedStorageReceipt): Array<{ key: string, bytes: number }> => {
    const out = new Map<string, number>()
    for (const p of agreements.get(`${r.holder}/${r.drive}/${r.pinner}`) ?? []) {
      const key = seatKey(r.holder, r.drive, r.pinner, p.bytes)
      const cut = standing.cutoffs.get(key) ?? []
      if (r.from + CLOCK_SKEW_MS >= p.time && terms(r, p.price, p.servePrice, p.bytes) && !cut.some(t => t + CLOCK_SKEW_MS >= p.time && t < r.to)) out.set(key, p.bytes)
    }
    for (const { replacement: x, end } of standing.seats) {
      if (x.holder === r.holder && x.order.drive === r.drive && x.order.pinner === r.pinner &&
        r.from + CLOCK_SKEW_MS >= x.time && r.to <= x.order.until && (end === null || r.to <= end) && terms(r, x.price, x.servePrice, x.order.bytes)) {
        out.set(seatKey(r.holder, r.drive, r.pinner, x.order.bytes), x.order.bytes)
      }
    }
    return [...out].map(([key, bytes]) => ({ key, bytes }))
  }
  // a receipt counts only where a co-signed pin or an accepted replacement backs it: they name the drive's holders
  const judges = new Set([...pins.values()].map(p => `${p.holder}/${p.drive}`))
  for (const { replacement: x } of standing.seats) judges.add(`${x.holder}/${x.order.drive}`)
  const failures = proofFailures([...verdicts.values()].filter(v => judges.has(`${v.challenger}/${v.drive}`)), quorum)
  const servedWrong = servedWrongPeriods(wrong.values())
  const failedOf = new Map<string, FailedPeriod[]>()
  for (const f of [...failures, ...servedWrong]) failedOf.set(`${f.holder}/${f.drive}`, [...(failedOf.get(`${f.holder}/${f.drive}`) ?? []), f].sort((a, b) => a.from - b.from))
  // one order whatever the reading order: by holder, drive, kind, start, then hash
  const sorted = [...unique].sort(([ha, a], [hb, b]) => cmp(a.holder, b.holder) || cmp(a.drive, b.drive) || cmp(a.kind, b.kind) || a.from - b.from || a.to - b.to || cmp(ha, hb)).map(([, r]) => r)
  const earned = new Map<string, number>()
  const owed = new Map<string, number>()
  const holders = new Map<string, HolderRecord>()
  const rejected: StorageCredits['rejected'] = []
  const withheld = new Map<string, number>()
  const record = (holder: string): HolderRecord => {
    const rec = holders.get(holder) ?? { kept: 0, missed: 0, pins: 0, bytesServed: 0, failed: 0 }
    holders.set(holder, rec)
    return rec
  }
  for (const f of [...failures, ...servedWrong]) record(f.holder).failed++
  let counted = 0
  let unbacked = 0
  for (const p of pins.values()) {
    record(p.holder).pins++
    counted++
  }
  for (const { replacement: x } of standing.seats) {
    record(x.holder).pins++
    counted++
  }
  const series = new SeatSeries()
  for (const r of sorted) {
    const seats = r.kind === 'pin' ? [] : backers(r)
    if (seats.length === 0) {
      unbacked++
      continue
    }
    const rec = record(r.holder)
    const seat = series.take(r, seats)
    if (seat === null) {
      const e = ShadwError.STORAGE_RECEIPT_INVALID(`${r.kind} period of ${r.holder.slice(0, 8)} for drive ${r.drive.slice(0, 8)} overlaps one already billed`)
      rejected.push({ code: e.code, message: e.message })
      continue
    }
    if (r.kind === 'hold') {
      rec.kept++
      if (seat.previous !== null && r.from > seat.previous.to) rec.missed++
    } else rec.bytesServed += r.bytes
    counted++
    const paid = r.kind === 'hold' ? paidOutside(r, failedOf.get(`${r.holder}/${r.drive}`) ?? []) : r.total
    if (paid < r.total) withheld.set(r.holder, (withheld.get(r.holder) ?? 0) + r.total - paid)
    if (paid === 0) continue
    earned.set(r.holder, (earned.get(r.holder) ?? 0) + paid)
    owed.set(r.pinner, (owed.get(r.pinner) ?? 0) + paid)
  }
  return { earned, owed, holders, counted, rejected, unbacked, withheld, failures, servedWrong, replacements: { accepted: standing.seats.length, refused: standing.refused } }
}

/** One open stretch per holder and drive, from its earliest served-wrong record (records must already be verified). */
function servedWrongPeriods (records: Iterable<ServedWrong>): FailedPeriod[] {
  const first = new Map<string, FailedPeriod>()
  for (const r of records) {
    const k = `${r.answer.holder}/${r.answer.drive}`
    const p = first.get(k)
    if (p === undefined || r.time < p.from) first.set(k, { holder: r.answer.holder, drive: r.answer.drive, from: r.time, to: null })
  }
  return [...first.values()].sort((a, b) => cmp(a.holder, b.holder) || cmp(a.drive, b.drive))
}

/** What a `hold` receipt earns for the parts of its period outside the holder's failed stretches. */
function paidOutside (r: SignedStorageReceipt, failed: FailedPeriod[]): number {
  if (failed.length === 0) return r.total
  let paid = 0
  let at = r.from
  for (const f of failed) {
    const end = f.to ?? Number.MAX_SAFE_INTEGER
    if (end <= at || f.from >= r.to) continue
    if (f.from > at) paid += storageCharge('hold', r.bytes, at, f.from, r.price)
    at = Math.min(r.to, end)
    if (at >= r.to) break
  }
  if (at < r.to) paid += storageCharge('hold', r.bytes, at, r.to, r.price)
  return Math.min(paid, r.total)
}

function cmp (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

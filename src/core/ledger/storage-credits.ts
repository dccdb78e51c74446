/**
 * Storage credits: what each holder earned and each pinner owes for storage, derived only
 * from signed storage receipts in ledgers (storage-receipt.ts), like compute credits from
 * compute receipts (credits.ts). Any node that reads the same ledgers gets the same figures,
 * in whatever order it reads them.
 *
 * A receipt is paid once however many copies are read. One holder's `hold` (or `serve`)
 * periods for one drive must not overlap: a receipt whose period starts before the end of
 * an earlier one by the same holder for the same drive bills time already billed, and is
 * refused. Between two consecutive `hold` periods, a gap (the next starts after the last
 * ended) is time the holder did not confirm: counted as a missed confirmation.
 */
import { ShadwError } from '../errors.ts'
import type { LedgerEntry } from './ledger-entry.ts'
import { storageReceiptHash, type SignedStorageReceipt } from './storage-receipt.ts'

/** One holder's confirmations: `hold` periods kept, and gaps between them. */
export interface HolderRecord { kept: number, missed: number, pins: number, bytesServed: number }

/** Storage credit totals in µcredits, keyed by hex holder key and by hex pinner key. */
export interface StorageCredits {
  earned: Map<string, number>
  owed: Map<string, number>
  /** per holder: confirmations kept and missed, pins taken, bytes served */
  holders: Map<string, HolderRecord>
  /** receipts counted (valid, distinct, not overlapping) */
  counted: number
  /** storage receipts refused (overlapping periods) */
  rejected: Array<{ code: string, message: string }>
}

/**
 * @example
 * ```ts
 * const credits = computeStorageCredits(await readLedger(node.session(storageLedgerKey)))
 * credits.earned.get(holderKey) // µcredits
 * ```
 */
export function computeStorageCredits (entries: Iterable<LedgerEntry>): StorageCredits {
  const unique = new Map<string, SignedStorageReceipt>()
  for (const e of entries) if (e.kind === 'storage') unique.set(storageReceiptHash(e.receipt), e.receipt)
  // one order whatever the reading order: by holder, drive, kind, start, then hash
  const sorted = [...unique].sort(([ha, a], [hb, b]) => cmp(a.holder, b.holder) || cmp(a.drive, b.drive) || cmp(a.kind, b.kind) || a.from - b.from || a.to - b.to || cmp(ha, hb)).map(([, r]) => r)
  const earned = new Map<string, number>()
  const owed = new Map<string, number>()
  const holders = new Map<string, HolderRecord>()
  const rejected: StorageCredits['rejected'] = []
  let counted = 0
  let last: SignedStorageReceipt | null = null
  for (const r of sorted) {
    const rec = holders.get(r.holder) ?? { kept: 0, missed: 0, pins: 0, bytesServed: 0 }
    holders.set(r.holder, rec)
    const same = last !== null && last.holder === r.holder && last.drive === r.drive && last.kind === r.kind
    if (r.kind !== 'pin' && same && last !== null && r.from < last.to) {
      const e = ShadwError.STORAGE_RECEIPT_INVALID(`${r.kind} period of ${r.holder.slice(0, 8)} for drive ${r.drive.slice(0, 8)} overlaps one already billed`)
      rejected.push({ code: e.code, message: e.message })
      continue
    }
    if (r.kind === 'hold') {
      rec.kept++
      if (same && last !== null && r.from > last.to) rec.missed++
    } else if (r.kind === 'pin') rec.pins++
    else rec.bytesServed += r.bytes
    last = r
    counted++
    if (r.total === 0) continue
    earned.set(r.holder, (earned.get(r.holder) ?? 0) + r.total)
    owed.set(r.pinner, (owed.get(r.pinner) ?? 0) + r.total)
  }
  return { earned, owed, holders, counted, rejected }
}

function cmp (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

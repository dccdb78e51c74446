/**
 * Credits: what each node earned and each tenant spent, derived only from signed records in
 * ledgers — never from a balance anyone could write. A charge counts when its receipt is in
 * the ledgers read, both signatures verify under the executor's key, and its total is what its
 * quote gives; each receipt is paid once however many copies or charges appear. Any node that
 * replicates the same ledgers computes the same figures.
 */
import { ShadwError } from '../core/errors.ts'
import { receiptHash, verifyCharge, type SignedCharge } from './charge.ts'
import { readLedger, type LedgerEntry, type LedgerSource } from './ledger-entry.ts'
import type { SignedReceipt } from '../invoke/receipt.ts'

/** Credit totals in µcredits, keyed by hex executor key and by tenant id. */
export interface Credits {
  earned: Map<string, number>
  spent: Map<string, number>
  /** charges that counted */
  counted: number
  /** valid receipts with no valid charge: service done, nothing billed */
  unpriced: number
  /** blocks or charges refused (bad signature, no receipt, total not explained, a second charge) */
  rejected: Array<{ code: string, message: string }>
}

/**
 * Computes credits from decoded ledger entries (of one ledger or several).
 *
 * @example
 * ```ts
 * const credits = computeCredits(await readLedger(node.session(ledgerKey)))
 * credits.earned.get(executorKey) // µcredits
 * ```
 */
export function computeCredits (entries: Iterable<LedgerEntry>): Credits {
  const receipts = new Map<string, SignedReceipt>()
  const charges: SignedCharge[] = []
  const rejected: Credits['rejected'] = []
  for (const e of entries) {
    if (e.kind === 'receipt') receipts.set(receiptHash(e.receipt), e.receipt)
    else if (e.kind === 'charge') charges.push(e.charge)
    else if (e.kind === 'invalid') rejected.push({ code: e.code, message: e.message })
  }
  const earned = new Map<string, number>()
  const spent = new Map<string, number>()
  const paid = new Set<string>()
  for (const ch of charges) {
    const r = receipts.get(ch.receiptHash)
    try {
      if (r === undefined) throw ShadwError.CHARGE_INVALID('names a receipt that is not in the ledger')
      if (paid.has(ch.receiptHash)) throw ShadwError.CHARGE_INVALID('receipt is already charged')
      verifyCharge(ch, r)
    } catch (err) {
      const e = err as ShadwError
      rejected.push({ code: e.code, message: e.message })
      continue
    }
    paid.add(ch.receiptHash)
    earned.set(ch.executor, (earned.get(ch.executor) ?? 0) + ch.total)
    spent.set(ch.tenant, (spent.get(ch.tenant) ?? 0) + ch.total)
  }
  return { earned, spent, counted: paid.size, unpriced: receipts.size - paid.size, rejected }
}

/** Reads every ledger (Hypercore sessions: blocks are Merkle-verified as they arrive) and computes credits. */
export async function creditsFromLedgers (ledgers: LedgerSource[]): Promise<Credits> {
  const entries: LedgerEntry[] = []
  for (const l of ledgers) entries.push(...await readLedger(l))
  return computeCredits(entries)
}

/**
 * Credits: what each node earned and each tenant spent, derived only from signed receipts in
 * ledgers — never from a balance anyone could write. Each receipt carries the price applied
 * and its total, and does not verify unless the total is what that price gives for its fuel
 * and bytes (receipt.ts); a receipt that does not verify counts for nothing. Any node that
 * replicates the same ledgers computes the same figures, whatever order it reads them in.
 */
import { ShadwError } from '../errors.ts'
import { receiptHash, type SignedReceipt } from './receipt.ts'
import { readLedger, type LedgerEntry, type LedgerSource } from './ledger-entry.ts'

/** Credit totals in µcredits, keyed by hex executor key and by tenant id. */
export interface Credits {
  earned: Map<string, number>
  spent: Map<string, number>
  /** receipts billed: valid, distinct, total above 0 */
  counted: number
  /** valid receipts at price 0: service done, nothing billed */
  unpriced: number
  /** blocks refused (undecodable, bad signature, total not explained, conflicting receipts for one call) */
  rejected: Array<{ code: string, message: string }>
}

/**
 * Computes credits from decoded ledger entries (of one ledger or several). A receipt is paid
 * once however many copies of it are read. An executor signs one receipt per call (its nonce
 * set refuses a nonce twice), so two different receipts by one executor for one nonce are a
 * lie and neither is paid — which also keeps the result independent of reading order.
 *
 * @example
 * ```ts
 * const credits = computeCredits(await readLedger(node.session(ledgerKey)))
 * credits.earned.get(executorKey) // µcredits
 * ```
 */
export function computeCredits (entries: Iterable<LedgerEntry>): Credits {
  const rejected: Credits['rejected'] = []
  // per call (executor, nonce): the distinct receipts read for it, by hash
  const calls = new Map<string, Map<string, SignedReceipt>>()
  for (const e of entries) {
    if (e.kind === 'invalid') rejected.push({ code: e.code, message: e.message })
    if (e.kind !== 'receipt') continue
    const call = `${e.receipt.executor}/${e.receipt.nonce}`
    let copies = calls.get(call)
    if (copies === undefined) calls.set(call, copies = new Map())
    copies.set(receiptHash(e.receipt), e.receipt)
  }
  const earned = new Map<string, number>()
  const spent = new Map<string, number>()
  let counted = 0
  let unpriced = 0
  for (const [call, copies] of calls) {
    if (copies.size > 1) {
      const e = ShadwError.RECEIPT_INVALID(`${copies.size} different receipts by one executor for one call (${call.slice(0, 16)}…)`)
      for (let i = 0; i < copies.size; i++) rejected.push({ code: e.code, message: e.message })
      continue
    }
    const r = copies.values().next().value as SignedReceipt
    if (r.total === 0) { unpriced++; continue }
    counted++
    earned.set(r.executor, (earned.get(r.executor) ?? 0) + r.total)
    spent.set(r.tenant, (spent.get(r.tenant) ?? 0) + r.total)
  }
  return { earned, spent, counted, unpriced, rejected }
}

/** Reads every ledger (Hypercore sessions: blocks are Merkle-verified as they arrive) and computes credits. */
export async function creditsFromLedgers (ledgers: LedgerSource[]): Promise<Credits> {
  const entries: LedgerEntry[] = []
  for (const l of ledgers) entries.push(...await readLedger(l))
  return computeCredits(entries)
}

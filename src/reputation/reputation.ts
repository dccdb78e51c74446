/**
 * Reputation: how far a node's past service can be trusted, computed from ledgers only, so
 * every node that replicates the same ledgers gets the same figures. Evidence per executor:
 *
 * - quorum outcomes: for each of its receipts, the eligible light nodes' attestations — a
 *   receipt more of them agree with than disagree with is *upheld*, the reverse *refuted*;
 * - availability: receipts it served (work it took and finished);
 * - deadline hits: receipts signed after the deadline the caller gave are *late* (the caller
 *   states deadlines; `deadlines` maps a receipt's nonce to its deadline when the reader knows it).
 *
 * The score is the mean of a Beta posterior with a neutral prior: (good + 1) / (good + bad + 2),
 * where a refuted receipt weighs {@link LIE_WEIGHT} and a late one {@link LATE_WEIGHT}: one
 * caught lie undoes many honest answers, which is what makes lying unprofitable.
 */
import { attestStatus, type AttestPolicy } from '../attest/attested.ts'
import type { SignedAttestation } from '../attest/attestation.ts'
import type { SignedReceipt } from '../invoke/receipt.ts'
import { receiptHash } from '../pricing/charge.ts'
import type { LedgerEntry } from '../pricing/ledger-entry.ts'

/** Weight of a refuted receipt against upheld ones. */
export const LIE_WEIGHT = 10
/** Weight of a receipt signed after its deadline. */
export const LATE_WEIGHT = 1
/** Weight of a receipt served without attestation (availability counts, but less than a check). */
export const SERVED_WEIGHT = 0.1
/** The score of a node nobody has evidence on. */
export const NEUTRAL_REPUTATION = 0.5

/** One executor's record. */
export interface Reputation {
  executor: string
  served: number
  upheld: number
  refuted: number
  late: number
  /** (0, 1); {@link NEUTRAL_REPUTATION} with no evidence */
  score: number
}

/** Options of {@link computeReputation}. */
export interface ReputationOptions {
  /** whose attestations count, and how many make a verdict (the m-of-n policy) */
  policy: AttestPolicy
  /** deadlines by receipt nonce (hex), when known */
  deadlines?: ReadonlyMap<string, number>
}

/**
 * @example
 * ```ts
 * const rep = computeReputation(await readLedgers(...), { policy: { m: 2, signers: lightKeys } })
 * endpoint.setReputation(key => rep.get(key)?.score ?? NEUTRAL_REPUTATION)
 * ```
 */
export function computeReputation (entries: Iterable<LedgerEntry>, opts: ReputationOptions): Map<string, Reputation> {
  const receipts = new Map<string, SignedReceipt>()
  const byReceipt = new Map<string, SignedAttestation[]>()
  for (const e of entries) {
    if (e.kind === 'receipt') receipts.set(receiptHash(e.receipt), e.receipt)
    else if (e.kind === 'attestation') {
      const list = byReceipt.get(e.attestation.receiptHash) ?? []
      list.push(e.attestation)
      byReceipt.set(e.attestation.receiptHash, list)
    }
  }
  const out = new Map<string, Reputation>()
  for (const [hash, r] of receipts) {
    const rep = out.get(r.executor) ?? { executor: r.executor, served: 0, upheld: 0, refuted: 0, late: 0, score: NEUTRAL_REPUTATION }
    rep.served++
    const status = attestStatus(r, byReceipt.get(hash) ?? [], opts.policy)
    if (status.agree.length > status.disagree.length && status.agree.length >= opts.policy.m) rep.upheld++
    else if (status.disagree.length > status.agree.length && status.disagree.length >= opts.policy.m) rep.refuted++
    const deadline = opts.deadlines?.get(r.nonce)
    if (deadline !== undefined && r.time > deadline) rep.late++
    out.set(r.executor, rep)
  }
  for (const rep of out.values()) rep.score = reputationScore(rep)
  return out
}

/** The Beta-mean score of a record. */
export function reputationScore (r: Pick<Reputation, 'served' | 'upheld' | 'refuted' | 'late'>): number {
  const unchecked = Math.max(0, r.served - r.upheld - r.refuted)
  const good = r.upheld + SERVED_WEIGHT * unchecked
  const bad = LIE_WEIGHT * r.refuted + LATE_WEIGHT * r.late
  return (good + 1) / (good + bad + 2)
}

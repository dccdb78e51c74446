/**
 * Reputation: how far a node's past service can be trusted, computed from ledgers only, so
 * every node that replicates the same ledgers gets the same figures, in whatever order it
 * reads them. Evidence per executor:
 *
 * - quorum outcomes: for each of its receipts, the eligible light nodes' attestations — a
 *   receipt more of them agree with than disagree with is *upheld*, the reverse *refuted*;
 * - deadline hits: a receipt signed after the deadline the caller gave (both are in the
 *   receipt) is *late*;
 * - availability: receipts it served (work it took and finished), and callers' signed miss
 *   records (miss.ts: it took a call and never answered). A miss is one caller's word, so it
 *   weighs little ({@link MISS_WEIGHT}), one caller's misses count at most
 *   {@link MAX_MISSES_PER_CALLER} times against one executor, and a miss is void when the
 *   executor's receipt for the same call is among the records read.
 *
 * The score is the mean of a Beta posterior with a neutral prior: (good + 1) / (good + bad + 2),
 * where a refuted receipt weighs {@link LIE_WEIGHT}, a late one {@link LATE_WEIGHT} and a
 * counted miss {@link MISS_WEIGHT}: one caught lie undoes many honest answers, which is what
 * makes lying unprofitable, while one slanderous caller cannot sink even a new node.
 */
import { attestStatus, type AttestPolicy } from '../attest/index.ts'
import type { SignedAttestation } from '../ledger/index.ts'
import { receiptHash, type SignedReceipt } from '../ledger/index.ts'
import type { LedgerEntry } from '../ledger/index.ts'

/** Weight of a refuted receipt against upheld ones. */
export const LIE_WEIGHT = 10
/** Weight of a receipt signed after its deadline. */
export const LATE_WEIGHT = 1
/** Weight of a receipt served without attestation (availability counts, but less than a check). */
export const SERVED_WEIGHT = 0.1
/** Weight of a counted miss: half a late answer (a late answer is proven, a miss only claimed). */
export const MISS_WEIGHT = 0.5
/**
 * Misses one caller can count against one executor. With {@link MISS_WEIGHT} a single caller
 * moves a node without any record from 0.5 to 1 / 3.5 ≈ 0.29 at most: above the router's
 * avoid line (0.25), so one slanderer alone never gets a node avoided.
 */
export const MAX_MISSES_PER_CALLER = 3
/** The score of a node nobody has evidence on. */
export const NEUTRAL_REPUTATION = 0.5

/** One executor's record. */
export interface Reputation {
  executor: string
  served: number
  upheld: number
  refuted: number
  late: number
  /** callers' misses that count (after the per-caller cap, without those its receipts refute) */
  missed: number
  /** (0, 1); {@link NEUTRAL_REPUTATION} with no evidence */
  score: number
}

/** Options of {@link computeReputation}. */
export interface ReputationOptions {
  /** whose attestations count, and how many make a verdict (the m-of-n policy) */
  policy: AttestPolicy
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
  /** executor → caller → nonces it says were missed */
  const misses = new Map<string, Map<string, Set<string>>>()
  for (const e of entries) {
    if (e.kind === 'receipt') receipts.set(receiptHash(e.receipt), e.receipt)
    else if (e.kind === 'attestation') {
      const list = byReceipt.get(e.attestation.receiptHash) ?? []
      list.push(e.attestation)
      byReceipt.set(e.attestation.receiptHash, list)
    } else if (e.kind === 'miss') {
      let callers = misses.get(e.miss.executor)
      if (callers === undefined) misses.set(e.miss.executor, callers = new Map())
      let nonces = callers.get(e.miss.caller)
      if (nonces === undefined) callers.set(e.miss.caller, nonces = new Set())
      nonces.add(e.miss.nonce)
    }
  }
  const out = new Map<string, Reputation>()
  const record = (executor: string): Reputation => {
    let rep = out.get(executor)
    if (rep === undefined) out.set(executor, rep = { executor, served: 0, upheld: 0, refuted: 0, late: 0, missed: 0, score: NEUTRAL_REPUTATION })
    return rep
  }
  const answered = new Set<string>()
  for (const [hash, r] of receipts) {
    const rep = record(r.executor)
    rep.served++
    answered.add(`${r.executor}/${r.nonce}`)
    const status = attestStatus(r, byReceipt.get(hash) ?? [], opts.policy)
    if (status.agree.length > status.disagree.length && status.agree.length >= opts.policy.m) rep.upheld++
    else if (status.disagree.length > status.agree.length && status.disagree.length >= opts.policy.m) rep.refuted++
    if (r.time > r.deadline) rep.late++
  }
  for (const [executor, callers] of misses) {
    let missed = 0
    for (const nonces of callers.values()) {
      let standing = 0
      for (const n of nonces) if (!answered.has(`${executor}/${n}`)) standing++
      missed += Math.min(standing, MAX_MISSES_PER_CALLER)
    }
    if (missed > 0) record(executor).missed = missed
  }
  // sorted by key: the same records give the same map, whatever order they were read in
  const sorted = new Map([...out].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0))
  for (const rep of sorted.values()) rep.score = reputationScore(rep)
  return sorted
}

/** The Beta-mean score of a record. */
export function reputationScore (r: Pick<Reputation, 'served' | 'upheld' | 'refuted' | 'late' | 'missed'>): number {
  const unchecked = Math.max(0, r.served - r.upheld - r.refuted)
  const good = r.upheld + SERVED_WEIGHT * unchecked
  const bad = LIE_WEIGHT * r.refuted + LATE_WEIGHT * r.late + MISS_WEIGHT * r.missed
  return (good + 1) / (good + bad + 2)
}

/**
 * A holder's reputation from its storage receipts, like an executor's from its compute
 * receipts (reputation.ts): each `hold` period it signed is a confirmation kept, each gap
 * between two of its periods for one drive a confirmation missed (storage-credits.ts). A
 * kept confirmation is the holder's own claim, not a proof of storage, so it weighs little
 * ({@link KEPT_WEIGHT}); a gap is the holder's own record of being away, so it weighs fully.
 * A stretch in which a quorum of challengers failed the holder's storage proofs for a drive
 * (proof-verdict.ts) is the strongest evidence there is that it lost or never kept what it
 * was paid for: it weighs {@link FAILED_WEIGHT}.
 */
import { computeStorageCredits, type LedgerEntry } from '../ledger/index.ts'
import { NEUTRAL_REPUTATION } from './reputation.ts'

/** Weight of one kept confirmation: like a compute receipt served without attestation. */
export const KEPT_WEIGHT = 0.1
/** Weight of one missed confirmation (a gap in a holder's periods). */
export const GAP_WEIGHT = 1
/** Weight of one stretch failed by a quorum of proofs: several independent challengers agree, and it is checked data, not a claim. */
export const FAILED_WEIGHT = 5

/** One holder's storage record. */
export interface StorageReputation { holder: string, kept: number, missed: number, failed: number, score: number }

/**
 * @example
 * ```ts
 * const rep = computeStorageReputation(await readLedger(holderStorageLedger))
 * rep.get(holderKey)?.score ?? NEUTRAL_REPUTATION
 * ```
 */
export function computeStorageReputation (entries: Iterable<LedgerEntry>): Map<string, StorageReputation> {
  const out = new Map<string, StorageReputation>()
  for (const [holder, r] of computeStorageCredits(entries).holders) {
    const good = KEPT_WEIGHT * r.kept
    const bad = GAP_WEIGHT * r.missed + FAILED_WEIGHT * r.failed
    out.set(holder, { holder, kept: r.kept, missed: r.missed, failed: r.failed, score: r.kept + r.missed + r.failed === 0 ? NEUTRAL_REPUTATION : (good + 1) / (good + bad + 2) })
  }
  return out
}

/** Reputation from ledgers (isomorphic). See docs/pricing.md, "Reputation". */
export {
  computeReputation, reputationScore, LIE_WEIGHT, LATE_WEIGHT, SERVED_WEIGHT, MISS_WEIGHT, MAX_MISSES_PER_CALLER, NEUTRAL_REPUTATION,
  type Reputation, type ReputationOptions
} from './reputation.ts'
export { MISS_TAG, MISS_DOMAIN, MAX_MISS_BYTES, signMiss, encodeMiss, decodeMiss, verifyMiss, type MissBody, type MissReason, type SignedMiss } from './miss.ts'
export { ReputationTracker, RECOMPUTE_DELAY_MS, MAX_TRACKED_LOGS, DEFAULT_M, type ReputationTrackerOptions, type TrackerHost } from './reputation-tracker.ts'

/** Reputation from ledgers (isomorphic). See docs/pricing.md, "Reputation". */
export {
  computeReputation, reputationScore, LIE_WEIGHT, LATE_WEIGHT, SERVED_WEIGHT, MISS_WEIGHT, MAX_MISSES_PER_CALLER, NEUTRAL_REPUTATION,
  type Reputation, type ReputationOptions
} from './reputation.ts'
export { ReputationTracker, RECOMPUTE_DELAY_MS, MAX_TRACKED_LOGS, DEFAULT_M, type ReputationTrackerOptions, type TrackerHost } from './reputation-tracker.ts'

/** Reputation from ledgers (isomorphic). See docs/pricing.md, "Reputation". */
export { computeReputation, reputationScore, NEUTRAL_REPUTATION, type Reputation, type ReputationOptions } from './reputation.ts'
export { ReputationTracker, type ReputationTrackerOptions, type TrackerHost } from './reputation-tracker.ts'
export { computeStorageReputation, FAILED_WEIGHT, type StorageReputation } from './storage-reputation.ts'

/** Reputation from ledgers (isomorphic). See docs/pricing.md, "Reputation". */
export { computeReputation, reputationScore, LIE_WEIGHT, LATE_WEIGHT, SERVED_WEIGHT, NEUTRAL_REPUTATION, type Reputation, type ReputationOptions } from './reputation.ts'

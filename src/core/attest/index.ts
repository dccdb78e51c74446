/** Light-node attestation: signed verdicts on receipts and the m-of-n rule (isomorphic). See docs/pricing.md. */
export { attestStatus, type AttestPolicy, type AttestStatus } from './attested.ts'
export { LightSigner, DEFAULT_SAMPLE_RATE, type LightSignerOptions, type Rerun } from './light-signer.ts'
export { LightSigningService, ATTESTATIONS_LOG_NAME, DEFAULT_SETTLE_MS, MAX_WATCHED_LEDGERS, MAX_TRACKED_CALLS, MAX_JUDGED, MAX_RECENT_ATTESTATIONS, START_READ_BATCH, type SigningHost, type SigningServiceOptions, type SigningStats } from './signing-service.ts'
export { HeldAudits, callKey, AUDIT_TTL_MS, MAX_HELD_AUDITS, MAX_HELD_AUDIT_BYTES, MAX_HELD_AUDITS_PER_PEER, type HeldAuditsOptions, type HoldResult } from './held-audits.ts'
export { TokenBucket, type TokenBucketOptions } from './token-bucket.ts'
export { AuditChannels, AUDIT_PROTOCOL, DEFAULT_AUDITORS, AUDIT_BURST, AUDIT_RATE_PER_S, type AuditChannelsOptions } from './audit-channel.ts'
export { encodeAudit, decodeAudit, AUDIT_VERSION, MAX_AUDIT_BYTES, type Audit } from './audit-message.ts'
export { rerunCall, seedOf, Rerunner, MAX_RERUN_PUBLISHERS, type ReexecOptions } from './reexec.ts'

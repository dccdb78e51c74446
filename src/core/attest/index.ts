/** Light-node attestation: signed verdicts on receipts and the m-of-n rule (isomorphic). See docs/pricing.md. */
export { attestStatus, type AttestPolicy, type AttestStatus } from './attested.ts'
export { LightSigner, type LightSignerOptions, type Rerun } from './light-signer.ts'
export {
  LightSigningService, ATTESTATIONS_LOG_NAME, type SigningHost, type SigningServiceOptions, type SigningStats
} from './signing-service.ts'
export { HeldAudits, callKey, type HeldAuditsOptions, type HoldResult } from './held-audits.ts'
export { TokenBucket, type TokenBucketOptions } from './token-bucket.ts'
export { AuditChannels, AUDIT_PROTOCOL, type AuditChannelsOptions } from './audit-channel.ts'
export { encodeAudit, decodeAudit, AUDIT_VERSION, type Audit } from './audit-message.ts'
export { rerunCall, seedOf, Rerunner, type ReexecOptions } from './reexec.ts'

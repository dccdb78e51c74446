/** Public surface of invocation: wire protocol, routing, quorum, receipts (isomorphic). See docs/protocol.md. */
export {
  INVOKE_PROTOCOL, MAX_INPUT_BYTES, MAX_OUTPUT_BYTES, MAX_AUTH_CHARS, MAX_RECEIPT_BYTES, MAX_REDUNDANCY, MAX_PINNED_CHAINS,
  NONCE_BYTES, encodeMessage, decodeMessage, type InvokeMessage, type CapacityMessage, type CapacityQueryMessage,
  type RequestMessage, type ResultMessage, type ErrorMessage, type CancelMessage
} from './protocol.ts'
export { decideQuorum, majority, type QuorumDecision, type SlotOutcome, type VerifiedResult } from './quorum.ts'
export { NonceSet } from './nonce-set.ts'
export { pickPeer, score, hasRoom, isExecutor, missingBytes, FETCH_BYTES_PER_MS, MAX_FETCH_PENALTY_MS, type PeerState } from './router.ts'
export { boundHoldings, MAX_ADVERTISED_DRIVES, type HeldDrive } from './holdings.ts'
export { InvokeChannel, type InvokeChannelHandlers } from './invoke-channel.ts'
export { runCall, DEFAULT_INVOKE_DEADLINE_MS, RETRYABLE, type InvokeOptions, type InvokeResult, type CallTransport } from './invoke-call.ts'
export { InvokeService, MAX_LOOKUPS, MAX_LOOKUPS_PER_CALLER, type InvokeServiceOptions, type FunctionSource, type ServiceResult } from './invoke-service.ts'
export { InvokeEndpoint, HOLDINGS_REFRESH_MS, type InvokeEndpointOptions } from './invoke-endpoint.ts'
export { requestBytes, REQUEST_OVERHEAD_BYTES, type ByteBudget } from './invoke-server.ts'
export { type MissedCall } from './invoke-caller.ts'
export type { AuditSink } from './call-audits.ts'
export type { InvokeHost } from './peer-table.ts'
export { needsKeys, type CallKeys, type CallKeyRequest, type GatedKeyRef } from './call-keys.ts'

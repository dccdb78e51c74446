/** Public surface of invocation: wire protocol, routing, quorum, receipts (isomorphic). See docs/protocol.md. */
export {
  INVOKE_PROTOCOL, MAX_INPUT_BYTES, MAX_OUTPUT_BYTES, MAX_REF_CHARS, MAX_AUTH_CHARS, MAX_RECEIPT_BYTES, MAX_FRAME_BYTES,
  MAX_REDUNDANCY, NONCE_BYTES, encodeMessage, decodeMessage,
  type InvokeMessage, type CapacityMessage, type CapacityQueryMessage, type RequestMessage, type ResultMessage, type ErrorMessage, type CancelMessage
} from './protocol.ts'
export {
  RECEIPT_VERSION, RECEIPT_DOMAIN, RECEIPT_BATCH_VERSION, RECEIPT_BATCH_DOMAIN, MAX_RECEIPT_BATCH, MAX_RECEIPT_BYTES_MOVED, UNPRICED, VERIFIED_ROOTS,
  signReceipt, verifyReceipt, openReceipt, encodeReceipt, decodeReceipt, encodeReceiptBody, parseReceiptJson, batchMessage, receiptHash, VerifiedRoots,
  type ReceiptBody, type SignedReceipt, type ReceiptBatchProof
} from './receipt.ts'
export { prepareReceipt, signReceiptBatch, type PendingReceipt } from './receipt-batch.ts'
export { merkleLeaf, merkleTree, merkleRootFromPath, MERKLE_HASH_BYTES } from './merkle.ts'
export { decideQuorum, majority, type QuorumDecision, type SlotOutcome, type VerifiedResult } from './quorum.ts'
export { NonceSet, MAX_DEADLINE_AHEAD_MS, DEFAULT_MAX_SEEN } from './nonce-set.ts'
export { pickPeer, score, hasRoom, isExecutor, UNMEASURED_RTT_MS, AVOID_REPUTATION, type PeerState } from './router.ts'
export { InvokeChannel, type InvokeChannelHandlers } from './invoke-channel.ts'
export { runCall, DEFAULT_INVOKE_DEADLINE_MS, ATTEMPT_SHARE, RETRYABLE, type InvokeOptions, type InvokeResult, type CallTransport } from './invoke-call.ts'
export { InvokeService, FUNCTION_CACHE_TTL_MS, type InvokeServiceOptions, type FunctionSource, type Ledger, type ServiceResult } from './invoke-service.ts'
export { InvokeEndpoint, LIVENESS_PROBE_MS, MAX_SERVING_PER_PEER, SILENCE_MS, type AuditSink, type InvokeEndpointOptions, type InvokeHost, type MissedCall } from './invoke-endpoint.ts'
export { handleFnRequest, refFromPath, corsHeaders, FN_PREFIX, FN_REQUEST_HEADERS, FN_RESPONSE_HEADERS, type GatewayInvoke } from './fn-gateway.ts'
export { connect, type ConnectOptions, type ClientInvokeOptions, type ClientResult, type ShadwClient } from './client.ts'
export { sha256 } from './sha256.ts'

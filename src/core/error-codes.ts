/**
 * The list of stable error codes, apart from errors.ts so the factories there have room:
 * adding a code means a line here and a factory there (errors.ts checks they match).
 */

/** Every stable error code, grouped by the subsystem that raises it. */
export const ERROR_CODES = [
  // configuration and input
  'INVALID_ARGUMENT',
  'INVALID_RELAY_URL',
  'INVALID_BOOTSTRAP',
  'METHOD_NOT_ALLOWED',
  // network
  'BOOTSTRAP_UNREACHABLE',
  'RELAY_UNREACHABLE',
  'RELAY_CLOSED',
  'NODE_CLOSED',
  'TIMEOUT',
  'ABORTED',
  'MEMORY_BUDGET_EXCEEDED',
  'RELAY_BACKLOG_EXCEEDED',
  'NODE_UNREACHABLE',
  // storage
  'STORAGE_FULL',
  'STORAGE_CORRUPT',
  'STORAGE_UNAVAILABLE',
  'STORAGE_LOCKED',
  // logs
  'LOG_NOT_FOUND',
  'INVALID_LOG_KEY',
  // host / page bridge
  'NOT_LEADER',
  'BRIDGE_PROTOCOL',
  // direct WebRTC links
  'SIGNAL_INVALID',
  'LINK_FAILED',
  // sandbox
  'INVALID_MODULE',
  'ABI_MISMATCH',
  'FUEL_EXHAUSTED',
  'MEMORY_LIMIT',
  'DEADLINE_EXCEEDED',
  'TRAP',
  'INPUT_TOO_LARGE',
  'OUTPUT_TOO_LARGE',
  'BUSY',
  'EXECUTOR_CLOSED',
  // signed functions and registries
  'MANIFEST_INVALID',
  'MANIFEST_MISMATCH',
  'SIGNATURE_INVALID',
  'PUBLISHER_MISMATCH',
  'MODULE_HASH_MISMATCH',
  'MODULE_TOO_LARGE',
  'LIMITS_EXCEEDED',
  'FUNCTION_YANKED',
  'FUNCTION_NOT_FOUND',
  'VERSION_NOT_FOUND',
  'VERSION_EXISTS',
  'INVALID_FUNCTION_REF',
  'KEYS_NOT_FOUND',
  'KEYS_EXIST',
  // access gating
  'ACCESS_CONDITIONS_INVALID',
  'ACCESS_DENIED',
  'AUTH_MALFORMED',
  'AUTH_FORGED',
  'AUTH_EXPIRED',
  'AUTH_WRONG_DOMAIN',
  'AUTH_WRONG_FUNCTION',
  'AUTH_REPLAYED',
  'LIT_UNAVAILABLE',
  'CHAIN_UNCONFIGURED',
  'CHAIN_RPC_FAILED',
  'CHAIN_RPC_DISAGREE',
  'CHAIN_BLOCK_INVALID',
  'CHAIN_RATE_LIMITED',
  'CONDITION_CALL_FAILED',
  'CONDITION_UNSUPPORTED',
  'SOLANA_UNCONFIGURED',
  'KEY_NOT_HELD',
  'KEY_SHARES_SHORT',
  // invocation
  'INVOKE_PROTOCOL',
  'REQUEST_REPLAYED',
  'QUORUM_FAILED',
  'RECEIPT_INVALID',
  'NO_EXECUTORS',
  // pricing, credits, attestation
  'SPENDING_CAP_EXCEEDED',
  'MISS_INVALID',
  'ATTESTATION_INVALID',
  'AUDIT_INVALID',
  // pinning (holders, placement, hold confirmations)
  'DISK_BUDGET_EXCEEDED',
  'NOT_ENOUGH_HOLDERS',
  'PIN_PROTOCOL',
  'HOLD_INVALID',
  'STORAGE_RECEIPT_INVALID',
  'ERASURE_INVALID',
  'STRIPE_LOST',
  'PROOF_FAILED',
  'SHARD_NOT_HELD',
  // drives
  'INVALID_DRIVE_REF', 'DRIVE_PATH_INVALID', 'DRIVE_NOT_FOUND', 'DRIVE_LOCKED', 'DRIVE_RANGE_INVALID',
  'MOUNT_INVALID', 'MOUNT_TOO_LARGE',
  // anything that escaped classification: a bug, reported as such
  'INTERNAL'
] as const

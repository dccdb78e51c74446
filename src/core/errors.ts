/**
 * Every error shadw raises on purpose is a {@link ShadwError} with a stable `code`.
 *
 * Callers match on `code`, never on message text. The code is also prefixed to the
 * message so logs read well, and {@link serializeError}/{@link deserializeError} carry it
 * across worker and wire boundaries (structured clone and comlink keep only name, message
 * and stack of a plain Error).
 */
import { ERROR_CODES } from './error-codes.ts'
export { ERROR_CODES }

/** A stable error code. */
export type ErrorCode = (typeof ERROR_CODES)[number]

const CODE_SET: ReadonlySet<string> = new Set(ERROR_CODES)

/** True when `value` is one of shadw's error codes. */
export function isErrorCode (value: unknown): value is ErrorCode {
  return typeof value === 'string' && CODE_SET.has(value)
}

/**
 * The base of every shadw error.
 *
 * @example
 * ```ts
 * try { await node.join(topic) } catch (err) {
 *   if (err instanceof ShadwError && err.code === 'RELAY_UNREACHABLE') retryLater()
 * }
 * ```
 */
export class ShadwError extends Error {
  readonly code: ErrorCode
  /** Extra machine-readable facts (limits hit, evidence); must be structured-cloneable. */
  readonly details: Record<string, unknown> | undefined

  constructor (code: ErrorCode, message: string, options: { cause?: unknown, details?: Record<string, unknown> } = {}) {
    super(`${code}: ${message}`, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = 'ShadwError'
    this.code = code
    this.details = options.details
  }

  /** Thrown when a caller passes a value outside what an API accepts. */
  static INVALID_ARGUMENT (msg = 'invalid argument', details?: Record<string, unknown>): ShadwError { return new ShadwError('INVALID_ARGUMENT', msg, { details }) }

  /** An HTTP method a path does not answer (the 405 of the app server and the gateway). */
  static METHOD_NOT_ALLOWED (method: string, path: string, allow: readonly string[]): ShadwError {
    return new ShadwError('METHOD_NOT_ALLOWED', `${method} is not answered on ${path} (allowed: ${allow.join(', ')})`, { details: { method, allow: [...allow] } })
  }

  /** Thrown when a relay URL is not a ws:// or wss:// URL. */
  static INVALID_RELAY_URL (url: string): ShadwError {
    return new ShadwError('INVALID_RELAY_URL', `relay URL must be ws:// or wss://, got ${JSON.stringify(url)}`, { details: { url } })
  }

  /** Thrown when a bootstrap entry is not `host:port`. */
  static INVALID_BOOTSTRAP (entry: string): ShadwError {
    return new ShadwError('INVALID_BOOTSTRAP', `bootstrap must be host:port, got ${JSON.stringify(entry)}`, { details: { entry } })
  }

  /** Thrown when none of the DHT bootstrap nodes answered. */
  static BOOTSTRAP_UNREACHABLE (bootstrap: string[], cause?: unknown): ShadwError {
    return new ShadwError('BOOTSTRAP_UNREACHABLE', `no DHT bootstrap node answered (${bootstrap.join(', ')})`, { cause, details: { bootstrap } })
  }

  /** Thrown when the WebSocket relay could not be reached. */
  static RELAY_UNREACHABLE (url: string, cause?: unknown): ShadwError {
    return new ShadwError('RELAY_UNREACHABLE', `cannot reach relay ${url}`, { cause, details: { url } })
  }

  /** Thrown when the relay connection closed while in use. */
  static RELAY_CLOSED (msg = 'relay connection closed'): ShadwError { return new ShadwError('RELAY_CLOSED', msg) }

  /** Thrown when a node is used after `stop()`. */
  static NODE_CLOSED (msg = 'node is closed'): ShadwError { return new ShadwError('NODE_CLOSED', msg) }

  /** Thrown when a bounded wait ran out. */
  static TIMEOUT (what: string, ms: number): ShadwError { return new ShadwError('TIMEOUT', `${what} timed out after ${ms} ms`, { details: { ms } }) }

  /** Thrown when the caller's AbortSignal fired. */
  static ABORTED (msg = 'aborted'): ShadwError { return new ShadwError('ABORTED', msg) }

  /** A node refusing to buffer more (request bodies, relay messages): its memory budget is spent; retry later. */
  static MEMORY_BUDGET_EXCEEDED (what: string, limit: number): ShadwError {
    return new ShadwError('MEMORY_BUDGET_EXCEEDED', `this node buffers at most ${limit} bytes of ${what} at once; try again later`, { details: { limit } })
  }

  /** A relay client's backlog (a relayed stream whose remote end does not read, or a client that does not read its socket) passed its bound. */
  static RELAY_BACKLOG_EXCEEDED (what: string, bytes: number, limit: number): ShadwError {
    return new ShadwError('RELAY_BACKLOG_EXCEEDED', `${what}: ${bytes} bytes queued, at most ${limit} allowed`, { details: { bytes, limit } })
  }

  /** Thrown when a node's HTTP API (`--node URL`) did not answer. */
  static NODE_UNREACHABLE (url: string, cause?: unknown): ShadwError {
    return new ShadwError('NODE_UNREACHABLE', `cannot reach the node at ${url}; is \`shadw start\` running there?`, { cause, details: { url } })
  }

  /** Thrown when a write failed because the storage quota or disk is full. */
  static STORAGE_FULL (path: string, cause?: unknown): ShadwError { return new ShadwError('STORAGE_FULL', `no space left writing ${path}`, { cause, details: { path } }) }

  /** Thrown when stored bytes fail verification or cannot be parsed. */
  static STORAGE_CORRUPT (path: string, cause?: unknown): ShadwError {
    return new ShadwError('STORAGE_CORRUPT', `stored data is corrupt: ${path}`, { cause, details: { path } })
  }

  /** Thrown when persistent storage is not available in this context. */
  static STORAGE_UNAVAILABLE (msg = 'persistent storage is not available here', cause?: unknown): ShadwError {
    return new ShadwError('STORAGE_UNAVAILABLE', msg, { cause })
  }

  /** Thrown when another context holds the storage (e.g. an OPFS access handle). */
  static STORAGE_LOCKED (path: string, cause?: unknown): ShadwError {
    return new ShadwError('STORAGE_LOCKED', `storage is in use by another context: ${path}`, { cause, details: { path } })
  }

  /** Thrown when a requested log is not held by this node. */
  static LOG_NOT_FOUND (key: string): ShadwError { return new ShadwError('LOG_NOT_FOUND', `no log ${key}`, { details: { key } }) }

  /** Thrown when a log key is not 32 bytes of hex or z-base-32. */
  static INVALID_LOG_KEY (key: string): ShadwError {
    return new ShadwError('INVALID_LOG_KEY', `log key must be 64 hex characters, got ${JSON.stringify(key.slice(0, 80))}`)
  }

  /** Thrown when a tab asks the node for something only the leader tab can do. */
  static NOT_LEADER (msg = 'this tab does not host the node'): ShadwError { return new ShadwError('NOT_LEADER', msg) }

  /** Thrown when a message between page, node worker and service worker is malformed. */
  static BRIDGE_PROTOCOL (msg = 'malformed bridge message'): ShadwError { return new ShadwError('BRIDGE_PROTOCOL', msg) }

  /** Thrown when a WebRTC signalling message from a peer (or the page) is malformed or too large. */
  static SIGNAL_INVALID (msg = 'malformed signalling message'): ShadwError { return new ShadwError('SIGNAL_INVALID', msg) }

  /** Thrown when a direct WebRTC link failed to open or broke (the relay stays the fallback). */
  static LINK_FAILED (msg = 'direct link failed', cause?: unknown): ShadwError { return new ShadwError('LINK_FAILED', msg, { cause }) }

  /** Thrown when module bytes are not valid WebAssembly or use a feature the sandbox refuses. */
  static INVALID_MODULE (msg = 'invalid WebAssembly module', details?: Record<string, unknown>): ShadwError { return new ShadwError('INVALID_MODULE', msg, { details }) }

  /** Thrown when a module's imports or exports do not fit the ABI it is run with. */
  static ABI_MISMATCH (msg = 'module does not match the ABI', details?: Record<string, unknown>): ShadwError { return new ShadwError('ABI_MISMATCH', msg, { details }) }

  /** Thrown when a call used up its fuel budget. */
  static FUEL_EXHAUSTED (fuel: number): ShadwError { return new ShadwError('FUEL_EXHAUSTED', `fuel exhausted (limit ${fuel})`, { details: { fuel } }) }

  /** Thrown when a module needs more linear memory than its cap allows. */
  static MEMORY_LIMIT (msg = 'memory limit exceeded', details?: Record<string, unknown>): ShadwError { return new ShadwError('MEMORY_LIMIT', msg, { details }) }

  /** Thrown when a call ran past its wall-clock deadline (its worker was terminated). */
  static DEADLINE_EXCEEDED (ms: number): ShadwError { return new ShadwError('DEADLINE_EXCEEDED', `deadline of ${ms} ms exceeded`, { details: { ms } }) }

  /** Thrown when the module trapped; the message carries the engine's trap message. */
  static TRAP (trap: string): ShadwError { return new ShadwError('TRAP', `wasm trap: ${trap}`, { details: { trap } }) }

  /** Thrown when a call's input is larger than its limit. */
  static INPUT_TOO_LARGE (size: number, limit: number): ShadwError {
    return new ShadwError('INPUT_TOO_LARGE', `input of ${size} bytes exceeds the limit of ${limit}`, { details: { size, limit } })
  }

  /** Thrown when a call's output grew larger than its limit. */
  static OUTPUT_TOO_LARGE (size: number, limit: number): ShadwError {
    return new ShadwError('OUTPUT_TOO_LARGE', `output of ${size} bytes exceeds the limit of ${limit}`, { details: { size, limit } })
  }

  /** Thrown when every worker is busy and the queue is full (backpressure: retry later). */
  static BUSY (queued: number): ShadwError { return new ShadwError('BUSY', `executor busy: ${queued} calls already queued`, { details: { queued } }) }

  /** Thrown when an executor is used after `close()`, or closed with calls pending. */
  static EXECUTOR_CLOSED (msg = 'executor is closed'): ShadwError { return new ShadwError('EXECUTOR_CLOSED', msg) }

  /** Thrown when a function manifest (or yank tombstone) is malformed, not canonical, or out of bounds. */
  static MANIFEST_INVALID (msg = 'malformed function manifest', details?: Record<string, unknown>): ShadwError {
    return new ShadwError('MANIFEST_INVALID', msg, { details })
  }

  /** Thrown when a validly signed manifest is not the one asked for (another name or version: replayed or downgraded). */
  static MANIFEST_MISMATCH (msg = 'manifest is not the requested function', details?: Record<string, unknown>): ShadwError {
    return new ShadwError('MANIFEST_MISMATCH', msg, { details })
  }

  /** Thrown when a manifest's or tombstone's ed25519 signature does not verify under its publisher key. */
  static SIGNATURE_INVALID (msg = 'signature does not verify', details?: Record<string, unknown>): ShadwError {
    return new ShadwError('SIGNATURE_INVALID', msg, { details })
  }

  /** Thrown when a manifest's publisher is not the key of the registry it was read from. */
  static PUBLISHER_MISMATCH (publisher: string, registry: string): ShadwError {
    return new ShadwError('PUBLISHER_MISMATCH', `manifest publisher ${publisher} is not registry ${registry}`, { details: { publisher, registry } })
  }

  /** Thrown when module bytes do not hash (or size) to what the manifest says. */
  static MODULE_HASH_MISMATCH (expected: string, actual: string, details?: Record<string, unknown>): ShadwError {
    return new ShadwError('MODULE_HASH_MISMATCH', `module hash ${actual} is not the manifest's ${expected}`, { details: { expected, actual, ...details } })
  }

  /** Thrown when a module is larger than this node accepts. */
  static MODULE_TOO_LARGE (size: number, limit: number): ShadwError {
    return new ShadwError('MODULE_TOO_LARGE', `module of ${size} bytes exceeds the limit of ${limit}`, { details: { size, limit } })
  }

  /** Thrown when a manifest asks for more (fuel, memory, time, I/O) than this node's ceilings allow. */
  static LIMITS_EXCEEDED (field: string, requested: number, ceiling: number): ShadwError {
    return new ShadwError('LIMITS_EXCEEDED', `limits.${field} of ${requested} exceeds this node's ceiling of ${ceiling}`, { details: { field, requested, ceiling } })
  }

  /** Thrown when a function version was yanked by its publisher. */
  static FUNCTION_YANKED (ref: string, reason = ''): ShadwError {
    return new ShadwError('FUNCTION_YANKED', `${ref} was yanked by its publisher${reason === '' ? '' : ': ' + reason}`, { details: { ref, reason } })
  }

  /** Thrown when a registry has no function of that name (or it could not be read in time). */
  static FUNCTION_NOT_FOUND (ref: string, msg = 'no such function', cause?: unknown): ShadwError { return new ShadwError('FUNCTION_NOT_FOUND', `${msg}: ${ref}`, { cause, details: { ref } }) }

  /** Thrown when no published, unyanked version matches a range. */
  static VERSION_NOT_FOUND (ref: string): ShadwError { return new ShadwError('VERSION_NOT_FOUND', `no version matches ${ref}`, { details: { ref } }) }

  /** Thrown when publishing a name@version that already exists (versions are immutable). */
  static VERSION_EXISTS (ref: string): ShadwError { return new ShadwError('VERSION_EXISTS', `${ref} is already published; versions are immutable`, { details: { ref } }) }

  /** Thrown when a function reference is not `<publisher-key>/<name>@<range>`. */
  static INVALID_FUNCTION_REF (ref: string, why = 'expected <publisher-key>/<name>@<range>'): ShadwError {
    return new ShadwError('INVALID_FUNCTION_REF', `${why}, got ${JSON.stringify(ref.slice(0, 200))}`, { details: { ref: ref.slice(0, 200) } })
  }

  /** Thrown when no publisher key pair exists yet (run `shadw keys create`). */
  static KEYS_NOT_FOUND (path: string): ShadwError {
    return new ShadwError('KEYS_NOT_FOUND', `no publisher keys at ${path}; run \`shadw keys create\``, { details: { path } })
  }

  /** Thrown when creating keys would overwrite existing ones. */
  static KEYS_EXIST (path: string): ShadwError {
    return new ShadwError('KEYS_EXIST', `publisher keys already exist at ${path}; refusing to overwrite`, { details: { path } })
  }

  /** Thrown when access control conditions fail Lit's schema or shadw's structural limits; the message carries the reason. */
  static ACCESS_CONDITIONS_INVALID (reason: string, details?: Record<string, unknown>): ShadwError {
    return new ShadwError('ACCESS_CONDITIONS_INVALID', `invalid access control conditions: ${reason}`, { details })
  }

  /** Thrown when a tenant's verified identity does not meet a function's access conditions. */
  static ACCESS_DENIED (msg = 'access conditions not met', details?: Record<string, unknown>): ShadwError { return new ShadwError('ACCESS_DENIED', msg, { details }) }

  /** Thrown when an auth signature is not a well-formed SIWE (EIP-4361) auth signature. */
  static AUTH_MALFORMED (msg = 'malformed auth signature', details?: Record<string, unknown>): ShadwError { return new ShadwError('AUTH_MALFORMED', msg, { details }) }

  /** Thrown when an auth signature does not recover to the address it claims. */
  static AUTH_FORGED (msg = 'auth signature does not match its address', details?: Record<string, unknown>): ShadwError {
    return new ShadwError('AUTH_FORGED', msg, { details })
  }

  /** Thrown when an auth signature is outside its validity window (expired, not yet valid, or too long-lived). */
  static AUTH_EXPIRED (msg = 'auth signature expired', details?: Record<string, unknown>): ShadwError { return new ShadwError('AUTH_EXPIRED', msg, { details }) }

  /** Thrown when an auth signature was made for an app domain the function's executors do not accept (`expected`: theirs, or the publisher's list). */
  static AUTH_WRONG_DOMAIN (domain: string, expected: string | readonly string[]): ShadwError {
    const want = typeof expected === 'string' ? JSON.stringify(expected) : `one of ${expected.map(d => JSON.stringify(d)).join(', ')}`
    return new ShadwError('AUTH_WRONG_DOMAIN', `auth signature is for ${JSON.stringify(domain)}, not ${want}`, { details: { domain, expected: typeof expected === 'string' ? expected : [...expected] } })
  }

  /** Thrown when an auth signature was made for another function. */
  static AUTH_WRONG_FUNCTION (msg = 'auth signature is for another function', details?: Record<string, unknown>): ShadwError {
    return new ShadwError('AUTH_WRONG_FUNCTION', msg, { details })
  }

  /** Thrown when an auth signature's nonce was already used. */
  static AUTH_REPLAYED (nonce: string): ShadwError {
    return new ShadwError('AUTH_REPLAYED', `auth nonce ${JSON.stringify(nonce)} was already used`, { details: { nonce } })
  }

  /** Thrown when the Lit network could not be reached or did not answer within its deadline. */
  static LIT_UNAVAILABLE (msg = 'Lit network unavailable', cause?: unknown, details?: Record<string, unknown>): ShadwError {
    return new ShadwError('LIT_UNAVAILABLE', msg, { cause, details })
  }

  /** Thrown when conditions name a chain this node has no JSON-RPC endpoint for (`shadw start --rpc CHAIN=URL`): never a silent pass. */
  static CHAIN_UNCONFIGURED (chain: string): ShadwError { return new ShadwError('CHAIN_UNCONFIGURED', `this node has no RPC endpoint for chain ${JSON.stringify(chain)}`, { details: { chain } }) }

  /** Thrown when a chain's JSON-RPC endpoint fails, times out, answers too much, or serves another chain. */
  static CHAIN_RPC_FAILED (msg: string, cause?: unknown, details?: Record<string, unknown>): ShadwError { return new ShadwError('CHAIN_RPC_FAILED', msg, { cause, details }) }

  /** Thrown when the endpoints configured for one chain give different answers to the same read at the same block. */
  static CHAIN_RPC_DISAGREE (chain: string, what: string, details?: Record<string, unknown>): ShadwError { return new ShadwError('CHAIN_RPC_DISAGREE', `the RPC endpoints of ${JSON.stringify(chain)} disagree on ${what}`, { details: { chain, ...details } }) }

  /** Thrown when a pinned block is unusable: ahead of an endpoint's head, too far behind it, or endpoints too far apart. */
  static CHAIN_BLOCK_INVALID (msg: string, details?: Record<string, unknown>): ShadwError { return new ShadwError('CHAIN_BLOCK_INVALID', msg, { details }) }

  /** Thrown when a tenant's condition checks used up its share of this node's chain reads. */
  static CHAIN_RATE_LIMITED (tenant: string, details?: Record<string, unknown>): ShadwError { return new ShadwError('CHAIN_RATE_LIMITED', `too many chain reads for ${tenant}; try again shortly`, { details: { tenant, ...details } }) }

  /** Thrown by a key holder asked for a share of a key it holds no share of. */
  static KEY_NOT_HELD (keyId: string): ShadwError { return new ShadwError('KEY_NOT_HELD', `no share of key ${keyId.slice(0, 16)}… is held here`, { details: { keyId } }) }

  /** Thrown when fewer key holders released their share than the key's threshold; details list each refusal. */
  static KEY_SHARES_SHORT (got: number, threshold: number, details?: Record<string, unknown>): ShadwError { return new ShadwError('KEY_SHARES_SHORT', `${got} of the ${threshold} shares needed were released`, { details: { got, threshold, ...details } }) }
  /** A released share that is off the committed key's polynomial: its holder lied or its share is corrupt. */
  static KEY_SHARE_INVALID (holder: string): ShadwError { return new ShadwError('KEY_SHARE_INVALID', `key holder ${holder.slice(0, 8)} released a share that does not fit the key`, { details: { holder } }) }
  /** A released share of an older epoch than the key's current one (a holder that missed or ignored a rotation). */
  static KEY_SHARE_STALE (holder: string, epoch: number, current: number): ShadwError { return new ShadwError('KEY_SHARE_STALE', `key holder ${holder.slice(0, 8)} released a share of epoch ${epoch}, the key is at ${current}`, { details: { holder, epoch, current } }) }
  /** Thrown for a key's split that cannot be: a threshold below 2 or above the number of holders, or more holders than a key may have. */
  static KEY_SPLIT_INVALID (msg: string, details?: Record<string, unknown>): ShadwError { return new ShadwError('KEY_SPLIT_INVALID', msg, { details }) }
  /** Thrown for a function secret the publisher gives that cannot be published (its name, its file, its size). */
  static SECRET_INVALID (msg: string, details?: Record<string, unknown>): ShadwError { return new ShadwError('SECRET_INVALID', msg, { details }) }
  /** Thrown when an auth is not bound to the call a key is asked for (`shadw:call:<nonce>`), or does not let the call fetch that key. */
  static AUTH_WRONG_CALL (msg: string, details?: Record<string, unknown>): ShadwError { return new ShadwError('AUTH_WRONG_CALL', msg, { details }) }
  /** Thrown when a condition names the tenant's address on a chain family (EVM, Solana) its auth is not from. */
  static AUTH_WRONG_CHAIN (msg: string, details?: Record<string, unknown>): ShadwError { return new ShadwError('AUTH_WRONG_CHAIN', msg, { details }) }
  /** Thrown by a key holder whose key may go only to the executors its dealer named, and the requester is not one (or asked outside a call). */
  static KEY_REQUESTER_REFUSED (requester: string): ShadwError { return new ShadwError('KEY_REQUESTER_REFUSED', `node ${requester.slice(0, 8)} is not an executor this key may be released to`, { details: { requester } }) }
  /** Thrown by an executor the publisher did not name for a function's secrets: another executor may run the call. */
  static EXECUTOR_NOT_TRUSTED (fn: string): ShadwError { return new ShadwError('EXECUTOR_NOT_TRUSTED', `this executor is not one the publisher of ${fn} trusts with its secrets`, { details: { fn } }) }
  /** A share rotation that could not finish; the old shares stay in force. */
  static KEY_ROTATION_FAILED (msg: string, details?: Record<string, unknown>): ShadwError { return new ShadwError('KEY_ROTATION_FAILED', msg, { details }) }

  /** Thrown when a condition's contract call reverts, runs out of gas, answers too much or answers a type its ABI does not declare. */
  static CONDITION_CALL_FAILED (msg: string, details?: Record<string, unknown>): ShadwError { return new ShadwError('CONDITION_CALL_FAILED', msg, { details }) }

  /** Thrown when a condition is valid in Lit's schema but this node cannot evaluate it (Cosmos, Lit-only parameters, unknown methods). */
  static CONDITION_UNSUPPORTED (msg: string, details?: Record<string, unknown>): ShadwError { return new ShadwError('CONDITION_UNSUPPORTED', msg, { details }) }

  /** Thrown for Solana conditions on a node without a Solana RPC endpoint. */
  static SOLANA_UNCONFIGURED (msg = 'this node has no Solana RPC endpoint, so it cannot evaluate Solana conditions'): ShadwError { return new ShadwError('SOLANA_UNCONFIGURED', msg) }

  /** Thrown when a peer sends a malformed, oversized or unexpected invocation wire message (the channel closes, not the connection). */
  static INVOKE_PROTOCOL (msg = 'malformed invocation message', details?: Record<string, unknown>): ShadwError {
    return new ShadwError('INVOKE_PROTOCOL', msg, { details })
  }

  /** Thrown when an invocation request carries a nonce this executor has already seen before its deadline. */
  static REQUEST_REPLAYED (nonce: string): ShadwError { return new ShadwError('REQUEST_REPLAYED', `request nonce ${nonce} was already used`, { details: { nonce } }) }

  /** Thrown when redundant executions do not reach a quorum of matching signed results; `details` carries the evidence. */
  static QUORUM_FAILED (msg = 'no quorum of matching results', details?: Record<string, unknown>): ShadwError { return new ShadwError('QUORUM_FAILED', msg, { details }) }

  /** Thrown when a receipt is malformed, its signature does not verify, or it does not match its result. */
  static RECEIPT_INVALID (msg = 'receipt does not verify', details?: Record<string, unknown>): ShadwError { return new ShadwError('RECEIPT_INVALID', msg, { details }) }

  /** Thrown when no connected peer offers to execute functions. */
  static NO_EXECUTORS (msg = 'no executor is connected'): ShadwError { return new ShadwError('NO_EXECUTORS', msg) }

  /** Thrown before any work when a call's worst-case price exceeds the tenant's per-call or per-session cap. */
  static SPENDING_CAP_EXCEEDED (msg = 'spending cap exceeded', details?: Record<string, unknown>): ShadwError {
    return new ShadwError('SPENDING_CAP_EXCEEDED', msg, { details })
  }

  /** Thrown when a caller's miss record (an executor that took its call and never answered) is malformed or its signature does not verify. */
  static MISS_INVALID (msg = 'miss record does not verify', details?: Record<string, unknown>): ShadwError { return new ShadwError('MISS_INVALID', msg, { details }) }

  /** Thrown when a light node's attestation over a receipt is malformed or its signature does not verify. */
  static ATTESTATION_INVALID (msg = 'attestation does not verify', details?: Record<string, unknown>): ShadwError {
    return new ShadwError('ATTESTATION_INVALID', msg, { details })
  }

  /** Thrown when an audit message (a tenant's receipt and input sent to a light node for re-execution) is malformed, oversized or its input does not match the receipt. */
  static AUDIT_INVALID (msg = 'malformed audit message', details?: Record<string, unknown>): ShadwError { return new ShadwError('AUDIT_INVALID', msg, { details }) }

  /** Thrown by a holder asked to pin more than its disk budget has free: refused before anything is written. */
  static DISK_BUDGET_EXCEEDED (needed: number, free: number): ShadwError {
    return new ShadwError('DISK_BUDGET_EXCEEDED', `pin needs ${needed} bytes, the disk budget has ${free} free`, { details: { needed, free } })
  }

  /** Thrown when a pin cannot reach its replicas: too few distinct holders are reachable, or too few confirmed. */
  static NOT_ENOUGH_HOLDERS (msg = 'not enough holders', details?: Record<string, unknown>): ShadwError { return new ShadwError('NOT_ENOUGH_HOLDERS', msg, { details }) }

  /** Thrown when a pin message (request, offer, confirmation list) from a peer is malformed or oversized. */
  static PIN_PROTOCOL (msg = 'malformed pin message', details?: Record<string, unknown>): ShadwError { return new ShadwError('PIN_PROTOCOL', msg, { details }) }

  /** Thrown when a hold confirmation does not verify, or a held log does not match the pinned tree hash. */
  static HOLD_INVALID (msg = 'hold confirmation does not verify', details?: Record<string, unknown>): ShadwError {
    return new ShadwError('HOLD_INVALID', msg, { details })
  }

  /** Thrown when a holder's storage receipt (a pin taken, bytes held over time, bytes served) is malformed, its total is not what its price gives, or its signature does not verify. */
  static STORAGE_RECEIPT_INVALID (msg = 'storage receipt does not verify', details?: Record<string, unknown>): ShadwError { return new ShadwError('STORAGE_RECEIPT_INVALID', msg, { details }) }

  /** Erasure pins: a bad scheme (K+M), a malformed or unsigned pin record, or a shard that does not match its committed hash; a stripe with fewer than K good shards (`details.stripe` names it); a storage challenge answered wrongly or not at all; a shard asked of a holder that does not keep it. */
  static ERASURE_INVALID (msg = 'erasure pin invalid', details?: Record<string, unknown>): ShadwError { return new ShadwError('ERASURE_INVALID', msg, { details }) }
  static STRIPE_LOST (msg = 'stripe lost', details?: Record<string, unknown>): ShadwError { return new ShadwError('STRIPE_LOST', msg, { details }) }
  static PROOF_FAILED (msg = 'storage proof failed', details?: Record<string, unknown>): ShadwError { return new ShadwError('PROOF_FAILED', msg, { details }) }
  /** A proof verdict (`VERDICT_INVALID`), or a served-wrong record or signed shard answer (`SERVED_WRONG_INVALID`), that is malformed, not canonical, or whose signatures do not verify; a served-wrong record whose committed hash does not lead to its pin root or equals the hash served. */
  static VERDICT_INVALID (msg = 'proof verdict does not verify', details?: Record<string, unknown>): ShadwError { return new ShadwError('VERDICT_INVALID', msg, { details }) }
  static SERVED_WRONG_INVALID (msg = 'served-wrong record does not verify', details?: Record<string, unknown>): ShadwError { return new ShadwError('SERVED_WRONG_INVALID', msg, { details }) }
  static SHARD_NOT_HELD (msg = 'shard not held here', details?: Record<string, unknown>): ShadwError { return new ShadwError('SHARD_NOT_HELD', msg, { details }) }

  /** Drives: a malformed `<key>[@version][:path]` or key; a path that is empty, too long or climbs (`..`); a drive, version or file not found; blocks that do not decrypt (key missing or wrong); an unsatisfiable byte range. */
  static INVALID_DRIVE_REF (ref: string, why = 'malformed drive reference'): ShadwError { return new ShadwError('INVALID_DRIVE_REF', `${why}: ${JSON.stringify(ref.slice(0, 200))}`, { details: { ref: ref.slice(0, 200) } }) }
  static DRIVE_PATH_INVALID (path: string, why = 'invalid drive path'): ShadwError { return new ShadwError('DRIVE_PATH_INVALID', `${why}: ${JSON.stringify(path.slice(0, 200))}`, { details: { path: path.slice(0, 200) } }) }
  static DRIVE_NOT_FOUND (msg = 'not found in the drive', details?: Record<string, unknown>): ShadwError { return new ShadwError('DRIVE_NOT_FOUND', msg, { details }) }
  static DRIVE_LOCKED (key: string): ShadwError { return new ShadwError('DRIVE_LOCKED', `drive ${key} is encrypted and the encryption key is missing or wrong`, { details: { key } }) }
  static DRIVE_RANGE_INVALID (range: string, size: number): ShadwError { return new ShadwError('DRIVE_RANGE_INVALID', `range ${JSON.stringify(range.slice(0, 100))} is not satisfiable for ${size} bytes`, { details: { range: range.slice(0, 100), size } }) }
  static MOUNT_INVALID (why: string): ShadwError { return new ShadwError('MOUNT_INVALID', `mount: ${why}`) }
  static MOUNT_TOO_LARGE (key: string, limit: string): ShadwError { return new ShadwError('MOUNT_TOO_LARGE', `mount of drive ${key} holds more than ${limit}`, { details: { key, limit } }) }

  /** Thrown for an unclassified failure: a bug. */
  static INTERNAL (msg = 'internal error', cause?: unknown): ShadwError { return new ShadwError('INTERNAL', msg, { cause }) }
}

/**
 * Every code has exactly one factory of the same name, and every factory makes a ShadwError:
 * a code added to ERROR_CODES without one, or a factory of another shape, fails to compile.
 */
export const ERROR_FACTORIES = ShadwError satisfies { [C in ErrorCode]: (...args: never[]) => ShadwError }

/** The structured-cloneable form of an error, as it crosses workers and the wire. */
export interface SerializedError {
  code: ErrorCode
  message: string
  details?: Record<string, unknown>
}

/** Flattens any thrown value into a {@link SerializedError}; unknown errors become `INTERNAL`. */
export function serializeError (err: unknown): SerializedError {
  if (err instanceof ShadwError) {
    const out: SerializedError = { code: err.code, message: err.message }
    if (err.details !== undefined) out.details = err.details
    return out
  }
  const message = err instanceof Error ? err.message : String(err)
  return { code: 'INTERNAL', message: `INTERNAL: ${message}` }
}

/** Rebuilds a {@link ShadwError} from its serialized form, validating untrusted input. */
export function deserializeError (value: unknown): ShadwError {
  if (typeof value !== 'object' || value === null) return ShadwError.INTERNAL('malformed error: ' + typeof value)
  const v = value as { code?: unknown, message?: unknown, details?: unknown }
  const code: ErrorCode = isErrorCode(v.code) ? v.code : 'INTERNAL'
  const raw = typeof v.message === 'string' ? v.message : 'unknown error'
  // the serialized message already carries the "CODE: " prefix that the constructor adds
  const message = raw.startsWith(code + ': ') ? raw.slice(code.length + 2) : raw
  const details = typeof v.details === 'object' && v.details !== null ? v.details as Record<string, unknown> : undefined
  return new ShadwError(code, message, { details })
}

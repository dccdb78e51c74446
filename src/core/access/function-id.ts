/**
 * The exact function an auth signature is for, and its SIWE resource URI
 * `shadw:fn:<publisher>/<name>@<version>`.
 *
 * The binding names one exact version, not a range: a tenant who signed for `1.0.0` has not
 * agreed to run `1.1.0`, whose conditions or behaviour may differ.
 */
import { ShadwError } from '../errors.ts'
import { describeValue } from '../describe.ts'
import { isHexKey } from '../hex.ts'

/** One exact version of one function. */
export interface FunctionId {
  /** publisher ed25519 public key (the registry's Hypercore key), 64 lowercase hex characters */
  readonly publisher: string
  readonly name: string
  /** an exact version, as in the manifest */
  readonly version: string
}

/** The URI scheme prefix of a function binding in a SIWE message's resources. */
export const FUNCTION_RESOURCE_PREFIX = 'shadw:fn:'

// Loose on purpose: the registry owns the naming rules; this only keeps the URI unambiguous
// (no '/', '@' or whitespace inside a part) and short.
const PART = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/

/** Checks a {@link FunctionId}; throws `INVALID_FUNCTION_REF`. */
export function checkFunctionId (fn: FunctionId): FunctionId {
  if (typeof fn !== 'object' || fn === null) throw ShadwError.INVALID_FUNCTION_REF(describeValue(fn), 'expected { publisher, name, version }')
  const text = `${String(fn.publisher)}/${String(fn.name)}@${String(fn.version)}`
  if (!isHexKey(fn.publisher)) throw ShadwError.INVALID_FUNCTION_REF(text, 'publisher must be 64 lowercase hex characters')
  if (typeof fn.name !== 'string' || !PART.test(fn.name)) throw ShadwError.INVALID_FUNCTION_REF(text, `name must match ${String(PART)}`)
  if (typeof fn.version !== 'string' || !PART.test(fn.version)) throw ShadwError.INVALID_FUNCTION_REF(text, `version must match ${String(PART)}`)
  return fn
}

/** The SIWE resource that binds an auth signature to `fn`. */
export function functionResource (fn: FunctionId): string {
  checkFunctionId(fn)
  return `${FUNCTION_RESOURCE_PREFIX}${fn.publisher}/${fn.name}@${fn.version}`
}

/** The cache and log key of `fn` (the resource without its prefix). */
export function functionKey (fn: FunctionId): string {
  return functionResource(fn).slice(FUNCTION_RESOURCE_PREFIX.length)
}

/**
 * The URI scheme prefix binding an auth to one call: `shadw:call:<request nonce, 64 hex>`.
 * Executors and key holders check it when a key is fetched for the call (docs/access.md,
 * "Keys fetched for a call").
 */
export const CALL_RESOURCE_PREFIX = 'shadw:call:'
/** The URI scheme prefix letting a call fetch one more gated key: `shadw:key:<key id, 64 hex>` (e.g. a drive it mounts). */
export const KEY_RESOURCE_PREFIX = 'shadw:key:'

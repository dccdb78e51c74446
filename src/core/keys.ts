import b4a from 'b4a'
import { ShadwError } from './errors.ts'
import { describeValue } from './describe.ts'

/** Public keys and discovery keys are 32 bytes (ed25519 public key / BLAKE2b-256). */
export const KEY_BYTES = 32

const LOWER_HEX = /^[0-9a-f]*$/

/**
 * True when `value` is exactly `bytes` bytes as lowercase hex: the one form in which keys,
 * hashes and signatures travel in our records and messages (what `keyToHex` writes).
 */
export function isHex (value: unknown, bytes: number): value is string {
  return typeof value === 'string' && value.length === bytes * 2 && LOWER_HEX.test(value)
}

/**
 * True when `value` is a key or a hash as 64 lowercase hex ({@link KEY_BYTES} bytes): a public
 * key, a discovery key, a SHA-256 or BLAKE2b-256 digest.
 *
 * @example
 * ```ts
 * if (!isHexKey(body.publicKey)) throw ShadwError.INVALID_ARGUMENT('publicKey must be 64 hex characters')
 * ```
 */
export function isHexKey (value: unknown): value is string {
  return isHex(value, KEY_BYTES)
}

/**
 * The pattern of a key in a larger text (a function reference starts with its publisher's
 * key), for composing regular expressions; a whole value is checked with {@link isHexKey}.
 */
export const HEX_KEY_PATTERN = '[0-9a-f]{64}'

/** Parses a 64-character hex key from a page, a peer or the command line. */
export function parseKey (input: unknown): Uint8Array {
  if (input instanceof Uint8Array) {
    if (input.byteLength !== KEY_BYTES) throw ShadwError.INVALID_LOG_KEY(`<${input.byteLength} bytes>`)
    return input
  }
  if (typeof input !== 'string') throw ShadwError.INVALID_LOG_KEY(describeValue(input))
  const hex = input.trim().toLowerCase()
  if (!isHexKey(hex)) throw ShadwError.INVALID_LOG_KEY(input)
  return b4a.from(hex, 'hex')
}

/** Hex form of a key, as shown in status and URLs. */
export function keyToHex (key: Uint8Array): string {
  return b4a.toString(key, 'hex')
}

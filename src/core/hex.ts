/**
 * Keys, hashes and signatures as lowercase hex: the one form in which they travel in our
 * records, messages and files (what `keyToHex` writes). Checked here, once. No imports: the
 * executor worker validates module hashes with this and loads no byte library for it.
 */

/** Public keys and discovery keys are 32 bytes (ed25519 public key / BLAKE2b-256), as are our hashes (SHA-256). */
export const KEY_BYTES = 32

/**
 * The pattern of a key in a larger text (a function reference starts with its publisher's
 * key), for composing regular expressions; a whole value is checked with {@link isHexKey}.
 */
export const HEX_KEY_PATTERN = '[0-9a-f]{64}'

const LOWER_HEX = /^[0-9a-f]*$/

/** True when `value` is exactly `bytes` bytes as lowercase hex (a 64-byte signature is 128 characters). */
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

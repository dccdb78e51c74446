/**
 * SHA-256 for the invocation path, synchronous: `crypto.subtle.digest` costs ~70 µs per
 * call on Node 20 for a 16-byte input (an async hop to the thread pool), four times per
 * invocation; libsodium's SHA-256 (native in Node, JavaScript in browsers) takes a few µs.
 */
import b4a from 'b4a'
import sodium from 'sodium-universal'

/** SHA-256 of `bytes`, lowercase hex (the same value as the sandbox's `sha256Hex`). */
export function sha256 (bytes: Uint8Array): string {
  const out = b4a.alloc(32)
  sodium.crypto_hash_sha256(out, bytes)
  return b4a.toString(out, 'hex')
}

/** SHA-256 of `bytes` into `out` (32 bytes): for loops that hash many small inputs without allocating. */
export function sha256Into (out: Uint8Array, bytes: Uint8Array): void {
  sodium.crypto_hash_sha256(out, bytes)
}

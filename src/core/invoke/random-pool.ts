/**
 * Random bytes for call nonces, fetched in blocks: libsodium asks the kernel on every call,
 * and a nonce per invocation made that system call a visible cost. Same generator, fewer calls.
 */
import crypto from 'hypercore-crypto'

/** Random bytes fetched at a time: 128 nonces of 32 bytes per system call. */
const RANDOM_POOL_BYTES = 4096
let randomPool: Uint8Array = new Uint8Array(0)
let randomUsed = 0

/** `n` fresh random bytes (a copy: no two callers share memory). */
export function pooledRandomBytes (n: number): Uint8Array {
  if (n > RANDOM_POOL_BYTES) return crypto.randomBytes(n)
  if (randomUsed + n > randomPool.byteLength) {
    randomPool = crypto.randomBytes(RANDOM_POOL_BYTES)
    randomUsed = 0
  }
  // a copy (Buffer#slice would be a view)
  const out = new Uint8Array(randomPool.subarray(randomUsed, randomUsed + n))
  // used bytes are wiped: a nonce handed out is never in memory twice
  randomPool.fill(0, randomUsed, randomUsed + n)
  randomUsed += n
  return out
}

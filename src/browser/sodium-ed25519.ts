/**
 * Ed25519 signing and verification for the browser's sodium. In a browser build
 * sodium-universal is sodium-javascript, whose Ed25519 is TweetNaCl's: 11 ms to sign and
 * 18-33 ms to verify in V8 on this machine under load, where @noble/curves (already a
 * dependency) took 1.4-2.7 and 5.2-9.4 ms. A browser tenant verifies every receipt and a contributor tab signs
 * every receipt it writes, so a warm call from or to a browser paid 10-30 ms in TweetNaCl
 * alone. Chromium's own Ed25519 (WebCrypto) would be faster still, but it is asynchronous and
 * every caller (hypercore-crypto, hyperdht, our signature domains) is synchronous.
 *
 * Written here rather than taking noble's `verify` as it is: libsodium's verification is
 * cofactorless and refuses small-order keys and R, noble's is cofactored. The check below is
 * libsodium's (canonical S, canonical and not small-order A and R, [S]B − [k]A encoded equal
 * to R), so a browser accepts exactly the signatures a Node node (sodium-native) accepts.
 * Signatures are deterministic (RFC 8032): the same key and message sign to the same bytes
 * either way.
 */
import { ed25519 } from '@noble/curves/ed25519'

const Point = ed25519.ExtendedPoint
const L = ed25519.CURVE.n
const SIG_BYTES = 64
const KEY_BYTES = 32
const SECRET_KEY_BYTES = 64

function numberLE (bytes: Uint8Array): bigint {
  let n = 0n
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i] as number)
  return n
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let d = 0
  for (let i = 0; i < a.length; i++) d |= (a[i] as number) ^ (b[i] as number)
  return d === 0
}

/** A point from its encoding, or null when it is not canonical, not on the curve or of small order. */
function strictPoint (bytes: Uint8Array): InstanceType<typeof Point> | null {
  try {
    const p = Point.fromHex(bytes)
    return p.isSmallOrder() ? null : p
  } catch {
    return null
  }
}

/** sodium's `crypto_sign_verify_detached`, with libsodium's rules. */
export function verifyDetached (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.byteLength !== SIG_BYTES || publicKey.byteLength !== KEY_BYTES) return false
  const r = signature.subarray(0, 32)
  const s = numberLE(signature.subarray(32, 64))
  if (s >= L) return false
  const A = strictPoint(publicKey)
  if (A === null || strictPoint(r) === null) return false
  const h = ed25519.CURVE.hash(concat(r, publicKey, message))
  const k = numberLE(h) % L
  const sB = s === 0n ? Point.ZERO : Point.BASE.multiplyUnsafe(s)
  const kA = k === 0n ? Point.ZERO : A.multiplyUnsafe(k)
  return equalBytes(sB.subtract(kA).toRawBytes(), r)
}

/** sodium's `crypto_sign_detached`: writes the signature of `message` by `secretKey` (seed ‖ public key) into `signature`. */
export function signDetached (signature: Uint8Array, message: Uint8Array, secretKey: Uint8Array): void {
  if (signature.byteLength < SIG_BYTES) throw new Error('signature must be at least 64 bytes')
  if (secretKey.byteLength !== SECRET_KEY_BYTES) throw new Error('secretKey must be 64 bytes')
  signature.set(ed25519.sign(message, secretKey.subarray(0, 32)))
}

function concat (a: Uint8Array, b: Uint8Array, c: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength + c.byteLength)
  out.set(a, 0)
  out.set(b, a.byteLength)
  out.set(c, a.byteLength + b.byteLength)
  return out
}

/** The two functions of a sodium module that {@link useFastEd25519} replaces. */
export interface SodiumSign {
  crypto_sign_detached: (signature: Uint8Array, message: Uint8Array, secretKey: Uint8Array) => void
  crypto_sign_verify_detached: (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean
}

/**
 * Puts {@link signDetached} and {@link verifyDetached} into `sodium` (the module object every
 * library looks them up on at each call). For sodium-javascript only: sodium-native is faster
 * than either.
 */
export function useFastEd25519 (sodium: SodiumSign): void {
  sodium.crypto_sign_detached = signDetached
  sodium.crypto_sign_verify_detached = verifyDetached
}

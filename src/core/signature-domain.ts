/**
 * Domain-separated ed25519 signatures: every signed record kind (manifest, yank tombstone,
 * receipt, receipt batch, attestation, miss) signs `domain ‖ 0 ‖ body` under a domain of its
 * own, so a signature made for one kind can never pass for another's.
 */
import b4a from 'b4a'
import crypto from 'hypercore-crypto'

/**
 * One signature domain. The tagged prefix is built once, not on every signature: receipts are
 * signed and checked on every call.
 *
 * @example
 * ```ts
 * const MISS_SIGNATURE = new SignatureDomain('shadw/miss/v1')
 * const signature = MISS_SIGNATURE.sign(body, keyPair.secretKey)
 * MISS_SIGNATURE.verify(body, signature, keyPair.publicKey) // true
 * ```
 */
export class SignatureDomain {
  /** `domain ‖ 0`: what precedes the body in the signed message */
  readonly #prefix: Uint8Array

  /** `domain`: the kind's domain string, e.g. `shadw/receipt/v1`. */
  constructor (readonly domain: string) {
    this.#prefix = b4a.from(domain + '\0')
  }

  /** The bytes a signature covers: `domain ‖ 0 ‖ body`. */
  message (body: Uint8Array): Uint8Array {
    return b4a.concat([this.#prefix, body])
  }

  /** The 64-byte ed25519 signature over {@link message}. */
  sign (body: Uint8Array, secretKey: Uint8Array): Uint8Array {
    return crypto.sign(this.message(body), secretKey)
  }

  /**
   * True when `signature` is `publicKey`'s over {@link message}. A signature or key of the
   * wrong size is false, not an exception: both come from peers and files.
   */
  verify (body: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
    try {
      return crypto.verify(this.message(body), signature, publicKey)
    } catch {
      return false
    }
  }
}

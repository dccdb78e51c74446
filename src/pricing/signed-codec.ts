/**
 * The shared shape of the signed ledger records this folder and `src/attest/` add beside
 * receipts: a tag byte, compact-encoded fields, a 64-byte ed25519 signature over
 * `domain ‖ 0 ‖ body`. A record decodes only in its canonical form (re-encoding gives the same
 * bytes), like receipts and manifests.
 */
import b4a from 'b4a'
import c, { type State } from 'compact-encoding'
import crypto from 'hypercore-crypto'

/** Writes fields in one pass; called twice (preencode, encode). */
export type FieldWriter = (s: State, pre: boolean) => void

/** Encodes a body with `write` (the tag byte is the writer's first field). */
export function encodeBody (write: FieldWriter): Uint8Array {
  const s = c.state()
  write(s, true)
  s.buffer = b4a.alloc(s.end)
  s.start = 0
  write(s, false)
  return s.buffer
}

/** The bytes a record's signature covers. */
export function signedMessage (domain: string, body: Uint8Array): Uint8Array {
  return b4a.concat([b4a.from(domain + '\0'), body])
}

/** ed25519 signature over `domain ‖ 0 ‖ body`. */
export function signBody (domain: string, body: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return crypto.sign(signedMessage(domain, body), secretKey)
}

/** True when `signature` is `publicKey`'s over `domain ‖ 0 ‖ body`. */
export function verifyBody (domain: string, body: Uint8Array, signature: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return crypto.verify(signedMessage(domain, body), signature, publicKey)
  } catch {
    return false
  }
}

/** A field writer helper: `enc(c.uint, v)` in either pass. */
export function encoder (s: State, pre: boolean) {
  return <T>(e: { preencode: (s: State, v: T) => void, encode: (s: State, v: T) => void }, v: T): void => { pre ? e.preencode(s, v) : e.encode(s, v) }
}

/** Lowercase hex of `n` bytes. */
export const HEX = (n: number): RegExp => new RegExp(`^[0-9a-f]{${n * 2}}$`)

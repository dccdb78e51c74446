/**
 * The shared framing of the signed ledger records added beside receipts (attestations,
 * miss records): a tag byte, compact-encoded fields (written with `encodeFields`), then a
 * 64-byte ed25519 signature over `domain ‖ 0 ‖ body` (a `SignatureDomain`). A record decodes
 * only in its canonical form (re-encoding gives the same bytes), like receipts and manifests.
 */
import b4a from 'b4a'
import c, { type State } from 'compact-encoding'
import { ShadwError } from '../errors.ts'
import { isHex } from '../hex.ts'

/** How one kind of record is framed: its tag byte, its largest size, and the error it throws. */
export interface RecordKind {
  tag: number
  /** the record's name in messages ("attestation", "miss") */
  name: string
  maxBytes: number
  /** throws the kind's typed error */
  bad: (why: string) => never
}

/** Encoded form of a signed record: its body then the 64-byte signature (128 hex). */
export function encodeSigned (kind: RecordKind, body: Uint8Array, signature: string): Uint8Array {
  if (!isHex(signature, 64)) kind.bad('signature must be 128 hex characters')
  return b4a.concat([body, b4a.from(signature, 'hex')])
}

/**
 * Decodes a signed record (structure only): size bounds, the tag, `fields` reads what
 * follows it, then the signature; no trailing bytes, and only the canonical form (`encode`
 * of the result must give back the same bytes). Any failure is the kind's typed error.
 */
export function decodeSigned<T extends { signature: string }> (kind: RecordKind, bytes: Uint8Array, fields: (s: State) => Omit<T, 'signature'>, encode: (r: T) => Uint8Array): T {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength < 66 || bytes.byteLength > kind.maxBytes) kind.bad(`${kind.name} must be 66-${kind.maxBytes} bytes`)
  let r: T
  try {
    const s = c.state(0, bytes.byteLength, bytes)
    if (c.uint8.decode(s) !== kind.tag) kind.bad(`not a ${kind.name} record`)
    const body = fields(s)
    r = { ...body, signature: b4a.toString(c.fixed64.decode(s), 'hex') } as T
    if (s.start !== s.end) kind.bad('trailing bytes')
  } catch (err) {
    if (err instanceof ShadwError) throw err
    kind.bad(`undecodable ${kind.name}: ${(err as Error).message}`)
  }
  if (!b4a.equals(encode(r), bytes)) kind.bad(`${kind.name} is not in canonical form`)
  return r
}

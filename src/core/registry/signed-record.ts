/**
 * The envelope of everything a publisher signs (manifests, yank tombstones): a version
 * byte, the canonical body, and an ed25519 signature over a domain tag followed by the body.
 * The domain tag keeps a signature made for one record type from being valid for another.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import { encodeFields, put } from '../encoding.ts'
import { ShadwError } from '../errors.ts'
import { SignatureDomain } from '../signature-domain.ts'

/** Version of the envelope encoding; a reader refuses versions it does not know. */
export const ENVELOPE_VERSION = 1
/** ed25519 signatures are 64 bytes. */
export const SIGNATURE_BYTES = 64

/** A signed body, as stored in a registry. */
export interface SignedRecord {
  body: Uint8Array
  signature: Uint8Array
}

/** Signs `body` under `domain` with an ed25519 secret key. */
export function signRecord (domain: string, body: Uint8Array, secretKey: Uint8Array): SignedRecord {
  return { body, signature: new SignatureDomain(domain).sign(body, secretKey) }
}

/** True when the record's signature verifies under `domain` and `publicKey`. */
export function verifyRecord (domain: string, record: SignedRecord, publicKey: Uint8Array): boolean {
  if (record.signature.byteLength !== SIGNATURE_BYTES || publicKey.byteLength !== 32) return false
  return new SignatureDomain(domain).verify(record.body, record.signature, publicKey)
}

/** Encodes an envelope for storage. */
export function encodeRecord (record: SignedRecord): Uint8Array {
  return encodeFields((s, pre) => {
    put(s, pre, c.uint8, ENVELOPE_VERSION)
    put(s, pre, c.buffer, record.body)
    put(s, pre, c.fixed64, record.signature)
  })
}

/** Decodes an envelope (no signature check), refusing trailing bytes and oversized input. */
export function decodeRecord (bytes: Uint8Array, maxBytes: number): SignedRecord {
  if (!(bytes instanceof Uint8Array)) throw ShadwError.MANIFEST_INVALID('record is not bytes')
  if (bytes.byteLength > maxBytes) throw ShadwError.MANIFEST_INVALID(`record of ${bytes.byteLength} bytes exceeds ${maxBytes}`)
  const state = c.state(0, bytes.byteLength, bytes)
  try {
    const version = c.uint8.decode(state)
    if (version !== ENVELOPE_VERSION) throw ShadwError.MANIFEST_INVALID(`unknown record version ${version}`)
    const body = c.buffer.decode(state)
    const signature = c.fixed64.decode(state)
    if (body === null) throw ShadwError.MANIFEST_INVALID('record has an empty body')
    if (state.start !== state.end) throw ShadwError.MANIFEST_INVALID('record has trailing bytes')
    return { body: b4a.from(body), signature: b4a.from(signature) }
  } catch (err) {
    if (err instanceof ShadwError) throw err
    throw ShadwError.MANIFEST_INVALID('record is truncated')
  }
}

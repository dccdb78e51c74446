/**
 * The envelope of everything a publisher signs (manifests, yank tombstones): a version
 * byte, the canonical body, and an ed25519 signature over a domain tag followed by the body.
 * The domain tag keeps a signature made for one record type from being valid for another.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import crypto from 'hypercore-crypto'
import { ShadwError } from '../errors.ts'

/** Version of the envelope encoding; a reader refuses versions it does not know. */
export const ENVELOPE_VERSION = 1
/** ed25519 signatures are 64 bytes. */
export const SIGNATURE_BYTES = 64

/** A signed body, as stored in a registry. */
export interface SignedRecord {
  body: Uint8Array
  signature: Uint8Array
}

function message (domain: string, body: Uint8Array): Uint8Array {
  return b4a.concat([b4a.from(domain + '\0'), body])
}

/** Signs `body` under `domain` with an ed25519 secret key. */
export function signRecord (domain: string, body: Uint8Array, secretKey: Uint8Array): SignedRecord {
  return { body, signature: crypto.sign(message(domain, body), secretKey) }
}

/** True when the record's signature verifies under `domain` and `publicKey`. */
export function verifyRecord (domain: string, record: SignedRecord, publicKey: Uint8Array): boolean {
  if (record.signature.byteLength !== SIGNATURE_BYTES || publicKey.byteLength !== 32) return false
  try {
    return crypto.verify(message(domain, record.body), record.signature, publicKey)
  } catch {
    return false
  }
}

/** Encodes an envelope for storage. */
export function encodeRecord (record: SignedRecord): Uint8Array {
  const state = c.state()
  c.uint8.preencode(state, ENVELOPE_VERSION)
  c.buffer.preencode(state, record.body)
  c.fixed64.preencode(state, record.signature)
  state.buffer = b4a.alloc(state.end)
  c.uint8.encode(state, ENVELOPE_VERSION)
  c.buffer.encode(state, record.body)
  c.fixed64.encode(state, record.signature)
  return state.buffer
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

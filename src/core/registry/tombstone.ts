/**
 * Yank tombstones: a publisher's signed statement that one version must not be run for new
 * calls. Stored beside the manifest, never replacing it, so what was published stays auditable.
 */
import b4a from 'b4a'
import c, { type State } from 'compact-encoding'
import { encodeFields, put } from '../encoding.ts'
import { ShadwError } from '../errors.ts'
import { isHexKey } from '../hex.ts'
import { NAME_PATTERN, isValidVersion } from './manifest.ts'
import { decodeRecord, encodeRecord, signRecord, verifyRecord, type SignedRecord } from './signed-record.ts'

/** Version of the tombstone body encoding. */
export const TOMBSTONE_VERSION = 1
/** Signature domain of tombstones (distinct from manifests'). */
export const TOMBSTONE_DOMAIN = 'shadw/yank/v1'
/** A reason is a short note for humans. */
export const MAX_REASON_LENGTH = 512
/** Largest stored tombstone. */
export const MAX_TOMBSTONE_BYTES = 2048

/** A yank of `name@version` by `publisher`. */
export interface Tombstone {
  name: string
  version: string
  publisher: string
  yankedAt: number
  reason: string
}

/** A tombstone with its body and signature. */
export interface SignedTombstone extends SignedRecord {
  tombstone: Tombstone
}

function walk (state: State, t: Tombstone, pre: boolean): void {
  put(state, pre, c.uint8, TOMBSTONE_VERSION)
  put(state, pre, c.string, t.name)
  put(state, pre, c.string, t.version)
  put(state, pre, c.fixed32, b4a.from(t.publisher, 'hex'))
  put(state, pre, c.uint, t.yankedAt)
  put(state, pre, c.string, t.reason)
}

function validate (t: Tombstone): Tombstone {
  if (!NAME_PATTERN.test(t.name) || !isValidVersion(t.version) || !isHexKey(t.publisher) ||
    !Number.isSafeInteger(t.yankedAt) || t.yankedAt < 0 || typeof t.reason !== 'string' || t.reason.length > MAX_REASON_LENGTH) {
    throw ShadwError.MANIFEST_INVALID('malformed yank tombstone')
  }
  return { name: t.name, version: t.version, publisher: t.publisher, yankedAt: t.yankedAt, reason: t.reason }
}

/** Canonical body of a tombstone. */
export function encodeTombstone (tombstone: Tombstone): Uint8Array {
  const t = validate(tombstone)
  return encodeFields((s, pre) => { walk(s, t, pre) })
}

/** Signs a tombstone and returns its stored form. */
export function signTombstone (tombstone: Tombstone, secretKey: Uint8Array): Uint8Array {
  return encodeRecord(signRecord(TOMBSTONE_DOMAIN, encodeTombstone(tombstone), secretKey))
}

/**
 * Decodes a stored tombstone and checks its signature against `publisher` (hex). Throws
 * MANIFEST_INVALID when malformed, SIGNATURE_INVALID when the signature does not verify.
 */
export function openTombstone (bytes: Uint8Array, publisher: string): SignedTombstone {
  const record = decodeRecord(bytes, MAX_TOMBSTONE_BYTES)
  const state = c.state(0, record.body.byteLength, record.body)
  let t: Tombstone
  try {
    if (c.uint8.decode(state) !== TOMBSTONE_VERSION) throw ShadwError.MANIFEST_INVALID('unknown tombstone version')
    t = validate({
      name: c.string.decode(state),
      version: c.string.decode(state),
      publisher: b4a.toString(c.fixed32.decode(state), 'hex'),
      yankedAt: c.uint.decode(state),
      reason: c.string.decode(state)
    })
    if (state.start !== state.end) throw ShadwError.MANIFEST_INVALID('tombstone has trailing bytes')
  } catch (err) {
    if (err instanceof ShadwError) throw err
    throw ShadwError.MANIFEST_INVALID('tombstone is truncated')
  }
  if (!b4a.equals(encodeTombstone(t), record.body)) throw ShadwError.MANIFEST_INVALID('tombstone is not in canonical form')
  if (t.publisher !== publisher || !verifyRecord(TOMBSTONE_DOMAIN, record, b4a.from(publisher, 'hex'))) {
    throw ShadwError.SIGNATURE_INVALID(`tombstone for ${t.name}@${t.version} is not signed by ${publisher}`)
  }
  return { tombstone: t, ...record }
}

/**
 * The key holders' wire protocol: one Protomux channel `shadw/keys/v1` per connection, one
 * message type carrying a frame of JSON (binary fields as hex). Every frame is bounded and
 * checked field by field on decode; anything else closes the channel, never the connection.
 *
 * - `deposit`: a dealer gives a holder its share, sealed to the holder's node key (X25519 from
 *   its ed25519 key), with the key's function and conditions. Answered by `stored`.
 * - `request`: a requester asks for the share, with its auth and a one-use X25519 key.
 *   Answered by `release` (the share sealed to that key, and the holder's signed record).
 * - `error`: a typed refusal of one request.
 */
import b4a from 'b4a'
import { ShadwError, isErrorCode, type ErrorCode } from '../errors.ts'
import type { ReleaseRecord } from '../access/index.ts'

/** Protomux protocol name; a new incompatible version gets a new name. */
export const KEYS_PROTOCOL = 'shadw/keys/v1'
/** A frame holds a sealed share, conditions and an auth: 32 KiB is far above any honest one. */
const MAX_FRAME_BYTES = 32 * 1024
const MAX_ID = 0xffffffff
const HEX32 = /^[0-9a-f]{64}$/
/** A sealed share: a 16-64 byte share plus its byte of x, plus the 48 bytes of a sealed box, as hex. */
const SEALED_HEX = /^[0-9a-f]{130,226}$/

export interface DepositMessage {
  type: 'deposit'
  id: number
  /** keyIdOf(dealer, fn): the dealer is the connection's proven node key */
  keyId: string
  /** `publisher/name@version` the auth must be bound to */
  fn: string
  /** the key's conditions (Lit schema) */
  access: unknown
  /** the domains auth may name; absent: the holder's gate's own */
  domains?: string[]
  /** the share sealed to the holder's X25519 key, hex */
  sealed: string
}
export interface StoredMessage { type: 'stored', id: number }
export interface RequestMessage {
  type: 'request'
  id: number
  keyId: string
  /** the requester's SIWE auth, as JSON text */
  auth: string
  /** one-use X25519 key to seal the share to, hex */
  to: string
  /** chain → block (decimal) to read the conditions at */
  blocks?: Record<string, string>
}
export interface ReleaseMessage { type: 'release', id: number, sealed: string, record: ReleaseRecord }
export interface ErrorMessage { type: 'error', id: number, code: ErrorCode, message: string }

export type KeyMessage = DepositMessage | StoredMessage | RequestMessage | ReleaseMessage | ErrorMessage

export function encodeKeyMessage (m: KeyMessage): Uint8Array {
  const bytes = b4a.from(JSON.stringify(m))
  if (bytes.byteLength > MAX_FRAME_BYTES) throw ShadwError.INVALID_ARGUMENT(`a key frame is at most ${MAX_FRAME_BYTES} bytes`)
  return bytes
}

/** Decodes and checks a frame from a peer; `INVALID_ARGUMENT` for anything malformed. */
export function decodeKeyMessage (bytes: Uint8Array): KeyMessage {
  const bad = (why: string): never => { throw ShadwError.INVALID_ARGUMENT(`key frame: ${why}`) }
  if (!(bytes instanceof Uint8Array) || bytes.byteLength > MAX_FRAME_BYTES) bad('too large')
  let v: unknown
  try { v = JSON.parse(b4a.toString(bytes)) } catch { bad('not JSON') }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad('not an object')
  const m = v as Record<string, unknown>
  if (!Number.isSafeInteger(m.id) || (m.id as number) < 1 || (m.id as number) > MAX_ID) bad('id out of range')
  const hex = (field: string, re: RegExp): void => { if (typeof m[field] !== 'string' || !re.test(m[field])) bad(`${field} malformed`) }
  switch (m.type) {
    case 'deposit':
      hex('keyId', HEX32); hex('sealed', SEALED_HEX)
      if (typeof m.fn !== 'string' || m.fn.length > 256) bad('fn malformed')
      if (m.access === undefined) bad('no conditions')
      if (m.domains !== undefined && (!Array.isArray(m.domains) || m.domains.length > 16 || m.domains.some(d => typeof d !== 'string' || d.length > 255))) bad('domains malformed')
      break
    case 'request':
      hex('keyId', HEX32); hex('to', HEX32)
      if (typeof m.auth !== 'string' || m.auth.length > 8192) bad('auth malformed')
      if (m.blocks !== undefined) {
        const b = m.blocks
        if (typeof b !== 'object' || b === null || Array.isArray(b) || Object.keys(b).length > 8 || Object.values(b).some(x => typeof x !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(x))) bad('blocks malformed')
      }
      break
    case 'release':
      hex('sealed', SEALED_HEX)
      if (typeof m.record !== 'object' || m.record === null) bad('record malformed')
      break
    case 'error':
      if (typeof m.code !== 'string' || typeof m.message !== 'string' || m.message.length > 1024) bad('error malformed')
      // an unknown code from a newer peer stays an error
      if (!isErrorCode(m.code)) m.code = 'INTERNAL'
      break
    case 'stored': break
    default: bad('unknown type')
  }
  return m as unknown as KeyMessage
}

/**
 * The key holders' wire protocol: one Protomux channel `shadw/keys/v1` per connection, one
 * message type carrying a frame of JSON (binary fields as hex). Every frame is bounded and
 * checked field by field on decode; anything else closes the channel, never the connection.
 *
 * - `deposit`: a dealer gives a holder its share, sealed to the holder's node key (X25519 from
 *   its ed25519 key), with the key's function and conditions. Answered by `stored`.
 * - `request`: a requester asks for the share, with its auth and a one-use X25519 key (and,
 *   from a call's executor, the call the auth is bound to). Answered by `release` (the share
 *   sealed to that key, and the holder's signed record).
 * - `error`: a typed refusal of one request.
 *
 * Rotation (driven by the dealer, the shares travelling only between holders):
 * - `expect`: the dealer tells a new holder its x, which old holders will send it sub-shares,
 *   and the new epoch's commitment. Answered by `stored`.
 * - `reshare`: the dealer asks an old holder to deal sub-shares of its share to the new
 *   holders; the old holder sends each a `subshare` (sealed to that holder's node key) and
 *   answers `stored` once all were taken.
 * - `commit`: the dealer tells every old and new holder that the new epoch is complete: new
 *   holders start releasing the new share, old ones drop theirs.
 */
import b4a from 'b4a'
import { ShadwError, isErrorCode, type ErrorCode } from '../errors.ts'
import type { KeyCommitment, ReleaseRecord } from '../access/index.ts'

/** Protomux protocol name; a new incompatible version gets a new name. */
export const KEYS_PROTOCOL = 'shadw/keys/v1'
/** A frame holds a sealed share, conditions and an auth: 32 KiB is far above any honest one. */
const MAX_FRAME_BYTES = 32 * 1024
const MAX_ID = 0xffffffff
/** Most holders of one key (the access library's MAX_KEY_HOLDERS) */
const MAX_HOLDERS = 32
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
  /** node keys (hex) the share may be released to, and only for a call; absent: anyone whose auth passes */
  executors?: string[]
  /** the share sealed to the holder's X25519 key, hex */
  sealed: string
  /** the dealer's signed commitment to the key (epoch 0) */
  commitment: KeyCommitment
}
export interface StoredMessage { type: 'stored', id: number }
export interface ExpectMessage {
  type: 'expect'
  id: number
  keyId: string
  fn: string
  access: unknown
  domains?: string[]
  executors?: string[]
  /** this holder's x in the new epoch */
  x: number
  /** node keys (hex) of the old holders that will send sub-shares */
  from: string[]
  /** the new epoch's commitment */
  commitment: KeyCommitment
}
export interface ReshareMessage {
  type: 'reshare'
  id: number
  keyId: string
  /** the x of every old holder taking part (a threshold's worth, this one among them) */
  participants: number[]
  /** the new holders and their x */
  to: Array<{ holder: string, x: number }>
  commitment: KeyCommitment
}
export interface SubshareMessage { type: 'subshare', id: number, keyId: string, epoch: number, sealed: string }
export interface CommitMessage { type: 'commit', id: number, keyId: string, epoch: number }
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
  /** set by a call's executor: the call (request nonce, hex) the auth must be bound to */
  call?: string
}
export interface ReleaseMessage {
  type: 'release'
  id: number
  sealed: string
  record: ReleaseRecord
  /** the epoch of the released share */
  epoch: number
  /** the dealer's commitment the holder keeps with the share (null for shares dealt before commitments) */
  commitment: KeyCommitment | null
}
export interface ErrorMessage { type: 'error', id: number, code: ErrorCode, message: string }

export type KeyMessage = DepositMessage | StoredMessage | RequestMessage | ReleaseMessage | ErrorMessage | ExpectMessage | ReshareMessage | SubshareMessage | CommitMessage
/** Messages a peer asks and this node answers. */
export type AskMessage = DepositMessage | RequestMessage | ExpectMessage | ReshareMessage | SubshareMessage | CommitMessage

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
  const x = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 255
  const epoch = (): void => { if (!Number.isSafeInteger(m.epoch) || (m.epoch as number) < 0) bad('epoch malformed') }
  const commitment = (v: unknown): void => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) bad('commitment malformed')
    const c = v as Record<string, unknown>
    if (typeof c.keyId !== 'string' || !HEX32.test(c.keyId) || typeof c.check !== 'string' || !HEX32.test(c.check) || typeof c.signature !== 'string' || !/^[0-9a-f]{128}$/.test(c.signature) ||
      !Number.isSafeInteger(c.epoch) || (c.epoch as number) < 0 || !x(c.threshold)) bad('commitment malformed')
  }
  const meta = (): void => {
    if (typeof m.fn !== 'string' || m.fn.length > 256) bad('fn malformed')
    if (m.access === undefined) bad('no conditions')
    if (m.domains !== undefined && (!Array.isArray(m.domains) || m.domains.length > 16 || m.domains.some(d => typeof d !== 'string' || d.length > 255))) bad('domains malformed')
    if (m.executors !== undefined && (!Array.isArray(m.executors) || m.executors.length < 1 || m.executors.length > MAX_HOLDERS || m.executors.some(k => typeof k !== 'string' || !HEX32.test(k)))) bad('executors malformed')
  }
  switch (m.type) {
    case 'deposit':
      hex('keyId', HEX32); hex('sealed', SEALED_HEX); meta(); commitment(m.commitment)
      break
    case 'expect':
      hex('keyId', HEX32); meta(); commitment(m.commitment)
      if (!x(m.x)) bad('x malformed')
      if (!Array.isArray(m.from) || m.from.length < 2 || m.from.length > MAX_HOLDERS || m.from.some(k => typeof k !== 'string' || !HEX32.test(k))) bad('from malformed')
      break
    case 'reshare':
      hex('keyId', HEX32); commitment(m.commitment)
      if (!Array.isArray(m.participants) || m.participants.length < 2 || m.participants.length > MAX_HOLDERS || !m.participants.every(x)) bad('participants malformed')
      if (!Array.isArray(m.to) || m.to.length < 2 || m.to.length > MAX_HOLDERS || m.to.some(t => typeof t !== 'object' || t === null || typeof t.holder !== 'string' || !HEX32.test(t.holder) || !x(t.x))) bad('to malformed')
      break
    case 'subshare':
      hex('keyId', HEX32); hex('sealed', SEALED_HEX); epoch()
      break
    case 'commit':
      hex('keyId', HEX32); epoch()
      break
    case 'request':
      hex('keyId', HEX32); hex('to', HEX32)
      if (m.call !== undefined) hex('call', HEX32)
      if (typeof m.auth !== 'string' || m.auth.length > 8192) bad('auth malformed')
      if (m.blocks !== undefined) {
        const b = m.blocks
        if (typeof b !== 'object' || b === null || Array.isArray(b) || Object.keys(b).length > 8 || Object.values(b).some(x => typeof x !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(x))) bad('blocks malformed')
      }
      break
    case 'release':
      hex('sealed', SEALED_HEX); epoch()
      if (typeof m.record !== 'object' || m.record === null) bad('record malformed')
      if (m.commitment !== null) commitment(m.commitment)
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

/**
 * Miss records: a caller's signed word that an executor took one of its calls and never
 * answered — it stayed silent past the attempt's deadline, or its connection closed
 * mid-call. The caller appends it to its own ledger; anyone who replicates that ledger checks
 * it offline. A miss is only a claim (the caller may be lying), so reputation weighs it low,
 * caps it per caller, and drops it when the executor's ledger holds a receipt for the same
 * call (reputation.ts): a receipt is the executor's proof that it did answer.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import { ShadwError } from '../errors.ts'
import { encodeFields, put } from '../encoding.ts'
import { isHexKey } from '../hex.ts'
import { SignatureDomain } from '../signature-domain.ts'
import { decodeSigned, encodeSigned, type RecordKind } from './signed-codec.ts'

/** First byte of an encoded miss record (receipts start with 3 or 4, attestations with 0xa1). */
export const MISS_TAG = 0xb1
/** Signature domain: a miss signature never passes for a receipt's or an attestation's. */
export const MISS_DOMAIN = 'shadw/miss/v1'
/** A miss record is 180 bytes at most; anything larger is not one. */
export const MAX_MISS_BYTES = 256

/** Why the call was missed. */
export type MissReason = 'timeout' | 'closed'
const REASONS: readonly MissReason[] = ['timeout', 'closed']

/** The signed fields of a miss record. */
export interface MissBody {
  /** the executor that took the call (64 hex) */
  executor: string
  /** the calling node that signs (64 hex) */
  caller: string
  /** the call's nonce (64 hex): a receipt of the executor with this nonce refutes the miss */
  nonce: string
  /** the attempt's deadline the request carried, ms since the epoch */
  deadline: number
  reason: MissReason
  /** ms since the epoch when the caller signed */
  time: number
}

/** A miss record with the caller's signature (128 hex). */
export interface SignedMiss extends MissBody { signature: string }

const MISS_SIGNATURE = new SignatureDomain(MISS_DOMAIN)

function bad (why: string): never {
  throw ShadwError.MISS_INVALID(why)
}

function body (r: MissBody): Uint8Array {
  if (typeof r !== 'object' || r === null) bad('miss is not an object')
  for (const f of ['executor', 'caller', 'nonce'] as const) if (!isHexKey(r[f])) bad(`${f} must be 64 hex characters`)
  if (!REASONS.includes(r.reason)) bad('reason must be timeout or closed')
  if (!Number.isSafeInteger(r.deadline) || r.deadline < 0) bad('deadline must be a non-negative integer')
  if (!Number.isSafeInteger(r.time) || r.time < 0) bad('time must be a non-negative integer')
  if (r.executor === r.caller) bad('a node cannot miss its own call')
  return encodeFields((s, pre) => {
    put(s, pre, c.uint8, MISS_TAG)
    put(s, pre, c.fixed32, b4a.from(r.executor, 'hex'))
    put(s, pre, c.fixed32, b4a.from(r.caller, 'hex'))
    put(s, pre, c.fixed32, b4a.from(r.nonce, 'hex'))
    put(s, pre, c.uint, r.deadline)
    put(s, pre, c.uint8, REASONS.indexOf(r.reason))
    put(s, pre, c.uint, r.time)
  })
}

/**
 * Signs a miss with the caller's node key pair.
 *
 * @example
 * ```ts
 * const miss = signMiss({ executor, nonce, deadline, reason: 'timeout', time: Date.now() }, node.keyPair)
 * await node.append(ledgerKey, [encodeMiss(miss)])
 * ```
 */
export function signMiss (m: Omit<MissBody, 'caller'>, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }): SignedMiss {
  const r: MissBody = { executor: m.executor, caller: b4a.toString(keyPair.publicKey, 'hex'), nonce: m.nonce, deadline: m.deadline, reason: m.reason, time: m.time }
  return { ...r, signature: b4a.toString(MISS_SIGNATURE.sign(body(r), keyPair.secretKey), 'hex') }
}

const KIND: RecordKind = { tag: MISS_TAG, name: 'miss', maxBytes: MAX_MISS_BYTES, bad }

/** Encoded form for a ledger: body then the 64-byte signature. */
export function encodeMiss (r: SignedMiss): Uint8Array {
  return encodeSigned(KIND, body(r), r.signature)
}

/** Decodes a miss record (structure only; see {@link verifyMiss}). @throws ShadwError `MISS_INVALID` */
export function decodeMiss (bytes: Uint8Array): SignedMiss {
  return decodeSigned<SignedMiss>(KIND, bytes, s => {
    const hex = (b: Uint8Array): string => b4a.toString(b, 'hex')
    const executor = hex(c.fixed32.decode(s))
    const caller = hex(c.fixed32.decode(s))
    const nonce = hex(c.fixed32.decode(s))
    const deadline = c.uint.decode(s)
    const reason = REASONS[c.uint8.decode(s)]
    if (reason === undefined) bad('unknown reason')
    return { executor, caller, nonce, deadline, reason, time: c.uint.decode(s) }
  }, encodeMiss)
}

/** Checks the caller's signature. @throws ShadwError `MISS_INVALID` */
export function verifyMiss (r: SignedMiss): SignedMiss {
  const b = body(r)
  if (!MISS_SIGNATURE.verify(b, b4a.from(r.signature, 'hex'), b4a.from(r.caller, 'hex'))) bad('caller signature does not verify')
  return r
}

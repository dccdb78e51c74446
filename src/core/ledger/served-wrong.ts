/**
 * Served-wrong records: a reader's signed, transferable evidence that a shard holder served
 * bytes an erasure pin does not commit. Two signatures make it:
 *
 * - the holder's **shard answer** (domain `shadw/shard-answer/v1`), sent with every shard it
 *   serves: it names the pin (drive, root, stripe and shard, and the pin's stripe count and
 *   width K+M so a Merkle path's shape is fixed), the hash of the shard it claims to send and
 *   the reader's nonce. A holder only answers for slots whose signed pin record it checked;
 * - the reader's record (tag `0xc7`, domain `shadw/served-wrong/v1`): the holder's answer
 *   fields and signature, the hash the pin commits for that shard, and the Merkle paths from
 *   it to the stripe root and from there to the pin root.
 *
 * Anyone checks it alone, without the pin record or the bytes: both signatures verify, the
 * committed hash leads to the pin root the holder itself signed for, and differs from the hash
 * the holder signed. A reader cannot frame a holder: without its secret key there is no
 * answer, and an honest answer's hash is the committed one (the paths cannot lead elsewhere
 * without a SHA-256 second preimage).
 *
 * Framing: the shared signed-record codec (tag = version, compact-encoded fields, then the
 * reader's ed25519 signature under its own domain).
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import { rootFromProof } from '../commit-merkle.ts'
import { encodeFields, put } from '../encoding.ts'
import { ShadwError } from '../errors.ts'
import { isHex, isHexKey } from '../hex.ts'
import { SignatureDomain } from '../signature-domain.ts'
import { decodeSigned, encodeSigned, type RecordKind } from './signed-codec.ts'

/** First byte of an encoded served-wrong record (proof verdicts 0xc4, replacements 0xc6). */
export const SERVED_WRONG_TAG = 0xc7
/** Signature domain of a reader's served-wrong record. */
export const SERVED_WRONG_DOMAIN = 'shadw/served-wrong/v1'
/** Signature domain of a holder's answer to a shard `get`: it never passes for another record's. */
export const SHARD_ANSWER_DOMAIN = 'shadw/shard-answer/v1'
/** Hex characters of a reader's nonce (32 bytes: never repeats by chance). */
export const NONCE_HEX = 64
/** Siblings in one Merkle path at most: 2^32 leaves, far above any pin's stripes or width. */
const MAX_PATH = 32
/** A record is at most: eight keys, two paths of {@link MAX_PATH} hashes, a few integers. */
export const MAX_SERVED_WRONG_BYTES = 2 * MAX_PATH * 33 + 8 * 32 + 64 * 2 + 64

/** What a holder signs when it serves one shard. Keys and hashes are lowercase hex. */
export interface ShardAnswerBody {
  drive: string
  root: string
  stripe: number
  /** the pin's stripe count and width (K+M): they fix the shape of the commitment's paths */
  stripes: number
  shard: number
  width: number
  /** the hash of the shard sent (as the pin commits shards: the root over its chunks) */
  hash: string
  /** the reader's nonce from the request */
  nonce: string
  holder: string
}

/** A shard answer with the holder's signature (128 hex). */
export interface ShardAnswer extends ShardAnswerBody { signature: string }

/** The signed fields of a served-wrong record. */
export interface ServedWrongBody {
  answer: ShardAnswer
  /** the hash the pin commits for the shard */
  committed: string
  /** siblings from `committed` (leaf `shard` of `width`) to `stripeRoot` */
  shardPath: string[]
  stripeRoot: string
  /** siblings from `stripeRoot` (leaf `stripe` of `stripes`) to the pin root */
  stripePath: string[]
  reader: string
  /** when the reader judged, ms since the epoch */
  time: number
}

/** A record with the reader's signature (128 hex). */
export interface ServedWrong extends ServedWrongBody { signature: string }

const ANSWER_SIGNATURE = new SignatureDomain(SHARD_ANSWER_DOMAIN)
const SIGNATURE = new SignatureDomain(SERVED_WRONG_DOMAIN)

function bad (why: string): never {
  throw ShadwError.SERVED_WRONG_INVALID(why)
}

function uint (v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(`${what} must be a non-negative integer`)
  return v
}

function path (v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.length > MAX_PATH || !v.every(isHexKey)) bad(`${what} must be at most ${MAX_PATH} hashes of 64 hex characters`)
  return v as string[]
}

function canonicalAnswer (v: unknown): ShardAnswerBody {
  if (typeof v !== 'object' || v === null) bad('shard answer is not an object')
  const r = v as Record<string, unknown>
  for (const f of ['drive', 'root', 'hash', 'holder'] as const) if (!isHexKey(r[f])) bad(`${f} must be 64 hex characters`)
  if (!isHex(r.nonce, NONCE_HEX / 2)) bad(`nonce must be ${NONCE_HEX} hex characters`)
  const a = { drive: r.drive as string, root: r.root as string, stripe: uint(r.stripe, 'stripe'), stripes: uint(r.stripes, 'stripes'), shard: uint(r.shard, 'shard'), width: uint(r.width, 'width'), hash: r.hash as string, nonce: r.nonce as string, holder: r.holder as string }
  if (a.stripe >= a.stripes || a.shard >= a.width) bad('stripe and shard must be inside the pin')
  return a
}

function answerFields (s: Parameters<Parameters<typeof encodeFields>[0]>[0], pre: boolean, a: ShardAnswerBody): void {
  put(s, pre, c.fixed32, b4a.from(a.drive, 'hex'))
  put(s, pre, c.fixed32, b4a.from(a.root, 'hex'))
  put(s, pre, c.uint, a.stripe)
  put(s, pre, c.uint, a.stripes)
  put(s, pre, c.uint, a.shard)
  put(s, pre, c.uint, a.width)
  put(s, pre, c.fixed32, b4a.from(a.hash, 'hex'))
  put(s, pre, c.fixed32, b4a.from(a.nonce, 'hex'))
  put(s, pre, c.fixed32, b4a.from(a.holder, 'hex'))
}

function answerBytes (a: ShardAnswerBody): Uint8Array {
  return encodeFields((s, pre) => { answerFields(s, pre, a) })
}

/**
 * Signs a holder's answer: one signature per shard served, whatever its size.
 *
 * @example
 * ```ts
 * const a = signShardAnswer({ drive, root, stripe, stripes, shard, width, hash: committed, nonce, holder }, keyPair)
 * peer.send({ type: 'data', id, bytes, signature: a.signature })
 * ```
 */
export function signShardAnswer (b: ShardAnswerBody, keyPair: { secretKey: Uint8Array }): ShardAnswer {
  const a = canonicalAnswer(b)
  return { ...a, signature: b4a.toString(ANSWER_SIGNATURE.sign(answerBytes(a), keyPair.secretKey), 'hex') }
}

/** Checks a holder's signed answer. @throws ShadwError `SERVED_WRONG_INVALID` */
export function verifyShardAnswer (v: unknown): ShardAnswer {
  const a = canonicalAnswer(v)
  const signature = (v as { signature?: unknown }).signature
  if (!isHex(signature, 64)) bad('answer signature must be 128 hex characters')
  if (!ANSWER_SIGNATURE.verify(answerBytes(a), b4a.from(signature, 'hex'), b4a.from(a.holder, 'hex'))) bad('holder signature does not verify')
  return { ...a, signature }
}

function canonical (v: unknown): ServedWrongBody {
  if (typeof v !== 'object' || v === null) bad('served-wrong record is not an object')
  const r = v as Record<string, unknown>
  const answer = canonicalAnswer(r.answer)
  const signature = (r.answer as { signature?: unknown }).signature
  if (!isHex(signature, 64)) bad('answer signature must be 128 hex characters')
  if (!isHexKey(r.committed) || !isHexKey(r.stripeRoot) || !isHexKey(r.reader)) bad('committed, stripeRoot and reader must be 64 hex characters')
  if (r.reader === answer.holder) bad('a holder cannot report itself')
  return { answer: { ...answer, signature }, committed: r.committed, shardPath: path(r.shardPath, 'shardPath'), stripeRoot: r.stripeRoot, stripePath: path(r.stripePath, 'stripePath'), reader: r.reader, time: uint(r.time, 'time') }
}

/** A path on the wire: its hashes end to end (a length prefix, then 32 bytes each). */
function joined (hashes: string[]): Uint8Array {
  return b4a.concat(hashes.map(h => b4a.from(h, 'hex')))
}

/** compact-encoding's buffer decodes an empty one as null: an empty path (a pin of one stripe) */
function split (b: Uint8Array | null): string[] {
  if (b === null) return []
  if (b.byteLength % 32 !== 0 || b.byteLength > MAX_PATH * 32) bad(`a path must be at most ${MAX_PATH} hashes of 32 bytes`)
  const out: string[] = []
  for (let i = 0; i < b.byteLength; i += 32) out.push(b4a.toString(b.subarray(i, i + 32), 'hex'))
  return out
}

function body (r: ServedWrongBody): Uint8Array {
  return encodeFields((s, pre) => {
    put(s, pre, c.uint8, SERVED_WRONG_TAG)
    answerFields(s, pre, r.answer)
    put(s, pre, c.fixed64, b4a.from(r.answer.signature, 'hex'))
    put(s, pre, c.fixed32, b4a.from(r.committed, 'hex'))
    put(s, pre, c.buffer, joined(r.shardPath))
    put(s, pre, c.fixed32, b4a.from(r.stripeRoot, 'hex'))
    put(s, pre, c.buffer, joined(r.stripePath))
    put(s, pre, c.fixed32, b4a.from(r.reader, 'hex'))
    put(s, pre, c.uint, r.time)
  })
}

/**
 * Signs a reader's record of a wrong answer (the holder's signed answer, the commitment and
 * its paths), after checking it would verify.
 * @throws ShadwError `SERVED_WRONG_INVALID` when the evidence does not hold
 */
export function signServedWrong (b: Omit<ServedWrongBody, 'reader'>, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }): ServedWrong {
  const r = canonical({ ...b, reader: b4a.toString(keyPair.publicKey, 'hex') })
  evidence(r)
  return { ...r, signature: b4a.toString(SIGNATURE.sign(body(r), keyPair.secretKey), 'hex') }
}

/** The holder's signature, the paths to the root it signed for, and a hash other than the committed one. */
function evidence (r: ServedWrongBody): void {
  const a = r.answer
  verifyShardAnswer(a)
  if (a.hash === r.committed) bad('the hash served is the committed one')
  if (rootFromProof(r.committed, a.shard, a.width, r.shardPath) !== r.stripeRoot) bad('committed hash does not lead to the stripe root')
  if (rootFromProof(r.stripeRoot, a.stripe, a.stripes, r.stripePath) !== a.root) bad('stripe root does not lead to the pin root')
}

/** Checks a record from a peer, a log or a file: both signatures and the evidence. @throws ShadwError `SERVED_WRONG_INVALID` */
export function verifyServedWrong (v: unknown): ServedWrong {
  const r = canonical(v)
  const signature = (v as { signature?: unknown }).signature
  if (!isHex(signature, 64)) bad('signature must be 128 hex characters')
  evidence(r)
  if (!SIGNATURE.verify(body(r), b4a.from(signature, 'hex'), b4a.from(r.reader, 'hex'))) bad('reader signature does not verify')
  return { ...r, signature }
}

const KIND: RecordKind = { tag: SERVED_WRONG_TAG, name: 'served-wrong', maxBytes: MAX_SERVED_WRONG_BYTES, bad }

/** Encoded form for a ledger: body then the reader's 64-byte signature. */
export function encodeServedWrong (r: ServedWrong): Uint8Array {
  return encodeSigned(KIND, body(canonical(r)), r.signature)
}

/** Decodes a record (structure only; see {@link verifyServedWrong}). @throws ShadwError `SERVED_WRONG_INVALID` */
export function decodeServedWrong (bytes: Uint8Array): ServedWrong {
  return decodeSigned<ServedWrong>(KIND, bytes, s => {
    const hex = (b: Uint8Array): string => b4a.toString(b, 'hex')
    const answer = {
      drive: hex(c.fixed32.decode(s)),
      root: hex(c.fixed32.decode(s)),
      stripe: c.uint.decode(s),
      stripes: c.uint.decode(s),
      shard: c.uint.decode(s),
      width: c.uint.decode(s),
      hash: hex(c.fixed32.decode(s)),
      nonce: hex(c.fixed32.decode(s)),
      holder: hex(c.fixed32.decode(s)),
      signature: hex(c.fixed64.decode(s))
    }
    const committed = hex(c.fixed32.decode(s))
    const shardPath = split(c.buffer.decode(s))
    const stripeRoot = hex(c.fixed32.decode(s))
    const stripePath = split(c.buffer.decode(s))
    return { answer, committed, shardPath, stripeRoot, stripePath, reader: hex(c.fixed32.decode(s)), time: c.uint.decode(s) }
  }, encodeServedWrong)
}

/** The key a record counts under: one wrong answer is one record, however many copies are read. */
export function servedWrongKey (r: ServedWrong): string {
  return r.answer.signature
}

/**
 * Proofs of storage for erasure shards. A challenger asks a holder, at a time drawn from an
 * exponential distribution (memoryless: the holder learns nothing from the last challenge
 * about the next), for one chunk of one of its shards chosen at random; the holder answers
 * with the chunk's bytes and the Merkle path to the shard hash committed in the signed
 * erasure pin. Only a holder that keeps the whole shard can answer every chunk, so a holder
 * that dropped, corrupted or never had room for its shard fails within a few challenges.
 * Each challenger signs its verdict; a holder is failed only when `quorum` distinct
 * challengers' latest verdicts are failures, so no single node can frame it.
 */
import b4a from 'b4a'
import { ShadwError } from '../errors.ts'
import { isHex, isHexKey } from '../hex.ts'
import { SignatureDomain } from '../signature-domain.ts'
import { chunkCount, chunkLeaves, shardLength } from './erasure.ts'
import type { ErasurePin } from './erasure-pin.ts'
import { leafHash, merkleProof, rootFromProof } from './merkle.ts'

/** Signature domain of proof verdicts. */
export const PROOF_DOMAIN = 'shadw/proof/v1'
const SIGNATURE = new SignatureDomain(PROOF_DOMAIN)
/** Distinct challengers whose latest verdict must be a failure to fail a holder. */
export const DEFAULT_PROOF_QUORUM = 2

/** A challenge: one chunk of one shard. */
export interface Challenge { drive: string, root: string, stripe: number, shard: number, chunk: number }
/** The holder's answer: the chunk (hex) and its sibling hashes up to the shard hash. */
export interface ChallengeAnswer { bytes: string, proof: string[] }

/** Milliseconds to the next challenge: exponential with the given mean, from a uniform `u` in [0, 1). */
export function nextChallengeDelay (meanMs: number, u: number): number {
  return Math.round(-Math.log(1 - u) * meanMs)
}

/** A challenge for shard `shard` of stripe `stripe`, its chunk drawn from uniform `u` in [0, 1). */
export function makeChallenge (pin: ErasurePin, stripe: number, shard: number, u: number): Challenge {
  const chunks = chunkCount(shardLength(pin.layout, stripe), pin.layout.chunkBytes)
  return { drive: pin.drive, root: pin.root, stripe, shard, chunk: Math.min(chunks - 1, Math.floor(u * chunks)) }
}

/** The holder's side: the chunk of the shard it keeps and its proof. */
export function answerChallenge (shard: Uint8Array, chunkBytes: number, chunk: number): ChallengeAnswer {
  const leaves = chunkLeaves(shard, chunkBytes)
  return { bytes: b4a.toString(shard.subarray(chunk * chunkBytes, (chunk + 1) * chunkBytes), 'hex'), proof: merkleProof(leaves, chunk) }
}

/**
 * Checks an answer against the pin's committed shard hash.
 * @throws ShadwError `PROOF_FAILED` for a missing, malformed or wrong answer
 */
export function checkAnswer (pin: ErasurePin, c: Challenge, answer: unknown): void {
  const where = { stripe: c.stripe, shard: c.shard, chunk: c.chunk }
  if (typeof answer !== 'object' || answer === null) throw ShadwError.PROOF_FAILED('no answer', where)
  const a = answer as Record<string, unknown>
  if (typeof a.bytes !== 'string' || !/^([0-9a-f]{2})*$/.test(a.bytes) || !Array.isArray(a.proof) || !a.proof.every(isHexKey)) throw ShadwError.PROOF_FAILED('malformed answer', where)
  const len = shardLength(pin.layout, c.stripe)
  const chunks = chunkCount(len, pin.layout.chunkBytes)
  const expect = Math.min(pin.layout.chunkBytes, Math.max(1, len - c.chunk * pin.layout.chunkBytes))
  const bytes = b4a.from(a.bytes, 'hex')
  if (bytes.length !== expect) throw ShadwError.PROOF_FAILED(`chunk has ${bytes.length} bytes, expected ${expect}`, where)
  const committed = pin.stripes[c.stripe]?.shards[c.shard]
  if (committed === undefined || rootFromProof(leafHash(bytes), c.chunk, chunks, a.proof as string[]) !== committed) {
    throw ShadwError.PROOF_FAILED(`chunk ${c.chunk} of stripe ${c.stripe} shard ${c.shard} does not prove against the committed hash`, where)
  }
}

/** A challenger's signed verdict on one challenge. */
export interface ProofVerdictBody { drive: string, stripe: number, shard: number, holder: string, challenger: string, ok: boolean, reason: string, time: number }
export interface ProofVerdict extends ProofVerdictBody { signature: string }

function canonical (v: unknown): ProofVerdictBody {
  const bad = (why: string): never => { throw ShadwError.PROOF_FAILED(`verdict: ${why}`) }
  if (typeof v !== 'object' || v === null) return bad('not an object')
  const r = v as Record<string, unknown>
  if (!isHexKey(r.drive) || !isHexKey(r.holder) || !isHexKey(r.challenger)) return bad('drive, holder and challenger must be 64 hex characters')
  const uint = (x: unknown): number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 ? x : bad('numbers must be non-negative integers')
  if (typeof r.ok !== 'boolean' || typeof r.reason !== 'string') return bad('ok and reason')
  return { drive: r.drive, stripe: uint(r.stripe), shard: uint(r.shard), holder: r.holder, challenger: r.challenger, ok: r.ok, reason: r.reason.slice(0, 300), time: uint(r.time) }
}

/** Signs a verdict with the challenger's key pair. */
export function signVerdict (b: Omit<ProofVerdictBody, 'challenger'>, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }): ProofVerdict {
  const body = canonical({ ...b, challenger: b4a.toString(keyPair.publicKey, 'hex') })
  return { ...body, signature: b4a.toString(SIGNATURE.sign(b4a.from(JSON.stringify(body)), keyPair.secretKey), 'hex') }
}

/** Checks a verdict from a peer or a log. @throws ShadwError `PROOF_FAILED` */
export function verifyVerdict (v: unknown): ProofVerdict {
  const body = canonical(v)
  const signature = (v as { signature?: unknown }).signature
  if (!isHex(signature, 64) || !SIGNATURE.verify(b4a.from(JSON.stringify(body)), b4a.from(signature, 'hex'), b4a.from(body.challenger, 'hex'))) {
    throw ShadwError.PROOF_FAILED('verdict signature does not verify')
  }
  return { ...body, signature }
}

/**
 * True when at least `quorum` distinct challengers' latest verdicts on `holder` (for this
 * drive) are failures. Verdicts must already be verified.
 */
export function holderFailed (verdicts: ProofVerdict[], drive: string, holder: string, quorum = DEFAULT_PROOF_QUORUM): boolean {
  const latest = new Map<string, ProofVerdict>()
  for (const v of verdicts) {
    if (v.drive !== drive || v.holder !== holder) continue
    const prev = latest.get(v.challenger)
    if (prev === undefined || v.time >= prev.time) latest.set(v.challenger, v)
  }
  return [...latest.values()].filter(v => !v.ok).length >= quorum
}

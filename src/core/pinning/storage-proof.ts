/**
 * Proofs of storage for erasure shards. A challenger asks a holder, at a time drawn from an
 * exponential distribution (memoryless: the holder learns nothing from the last challenge
 * about the next), for one chunk of one of its shards chosen at random; the holder answers
 * with the chunk's bytes and the Merkle path to the shard hash committed in the signed
 * erasure pin. Only a holder that keeps the whole shard can answer every chunk, so a holder
 * that dropped, corrupted or never had room for its shard fails within a few challenges.
 * Each challenger signs its verdict; a holder is failed only when `quorum` distinct
 * challengers' latest verdicts are failures, so no single node can frame it.
 * Live challenges run in proof-challenger.ts.
 */
import b4a from 'b4a'
import { ShadwError } from '../errors.ts'
import { isHexKey } from '../hex.ts'
import { chunkCount, chunkLeaves, shardLength } from './erasure.ts'
import type { ErasurePin } from './erasure-pin.ts'
import { leafHash, merkleProof, rootFromProof } from '../commit-merkle.ts'

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

/**
 * Verdicts are ledger records (ledger/proof-verdict.ts): re-exported here, where challenges
 * are made and checked.
 */
export { signVerdict, verifyVerdict, holderFailed, proofFailures, DEFAULT_PROOF_QUORUM, VERDICT_DOMAIN as PROOF_DOMAIN, type ProofVerdict } from '../ledger/index.ts'

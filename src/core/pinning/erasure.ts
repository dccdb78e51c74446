/**
 * Erasure coding of a drive version's bytes: the bytes are cut into stripes of K data shards,
 * each stripe coded into K+M shards (Reed-Solomon), and any K good shards of a stripe rebuild
 * it. Every shard is committed by a hash (the Merkle root over its chunks, so a holder can
 * later prove a random chunk), and every stripe by the Merkle root over its shards' hashes.
 * A shard that does not match its hash counts as missing: a wrong byte is a loss, not data.
 */
import { ShadwError } from '../errors.ts'
import { chunksRoot, leafHash, merkleRoot } from '../commit-merkle.ts'
import type { ReedSolomon } from './reed-solomon.ts'

/** K data shards and M parity shards per stripe. */
export interface ErasureScheme { k: number, m: number }

/** 4+2: any 2 of 6 holders may go, at 1.5× the logical bytes. */
export const DEFAULT_SCHEME: ErasureScheme = { k: 4, m: 2 }
/** Shards per stripe at most: one holder per shard, and GF(2^8) allows 256. */
export const MAX_SHARDS = 64
/** A shard's bytes (the last stripe's are fewer): 64 KiB keeps a stripe of 4 at 256 KiB. */
export const SHARD_BYTES = 64 * 1024
/** The chunk a storage proof asks for: a leaf of the shard's Merkle tree. */
export const CHUNK_BYTES = 1024

/** What decoding needs besides the shards. */
export interface ErasureLayout extends ErasureScheme {
  /** logical bytes */
  size: number
  shardBytes: number
  chunkBytes: number
}

/** A stripe's commitment: its shards' hashes and the root over them. */
export interface StripeCommitment { root: string, shards: string[] }

/** Checks K and M. @throws ShadwError `ERASURE_INVALID` */
export function checkScheme (s: ErasureScheme): ErasureScheme {
  const ok = (n: number): boolean => Number.isSafeInteger(n) && n >= 1
  if (!ok(s.k) || !ok(s.m) || s.k + s.m > MAX_SHARDS) throw ShadwError.ERASURE_INVALID(`erasure scheme needs K ≥ 1, M ≥ 1 and K+M ≤ ${MAX_SHARDS}`, { k: s.k, m: s.m })
  return { k: s.k, m: s.m }
}

/** Parses `K+M` (e.g. `4+2`). @throws ShadwError `ERASURE_INVALID` */
export function parseScheme (text: string): ErasureScheme {
  const match = /^(\d{1,2})\+(\d{1,2})$/.exec(text.trim())
  if (match === null) throw ShadwError.ERASURE_INVALID(`erasure scheme must be K+M, e.g. 4+2 (got ${JSON.stringify(text)})`)
  return checkScheme({ k: Number(match[1]), m: Number(match[2]) })
}

/** Stored bytes over logical bytes, for whole stripes: (K+M)/K. */
export function expansion (s: ErasureScheme): number {
  return (s.k + s.m) / s.k
}

/** Stripes in a layout (one, even for no bytes). */
export function stripeCount (l: ErasureLayout): number {
  return Math.max(1, Math.ceil(l.size / (l.k * l.shardBytes)))
}

/** The bytes of each shard of stripe `i` (the last stripe's shards are shorter; never zero). */
export function shardLength (l: ErasureLayout, i: number): number {
  const stripeBytes = l.k * l.shardBytes
  const rest = l.size - i * stripeBytes
  return rest >= stripeBytes ? l.shardBytes : Math.max(1, Math.ceil(rest / l.k))
}

/** Chunks in a shard of `length` bytes. */
export function chunkCount (length: number, chunkBytes: number): number {
  return Math.max(1, Math.ceil(length / chunkBytes))
}

/** The leaf hashes of a shard's chunks. */
export function chunkLeaves (shard: Uint8Array, chunkBytes: number): string[] {
  const leaves: string[] = []
  for (let o = 0; o < Math.max(1, shard.length); o += chunkBytes) leaves.push(leafHash(shard.subarray(o, o + chunkBytes)))
  return leaves
}

/** A shard's hash: the Merkle root over its chunks. */
export function shardHash (shard: Uint8Array, chunkBytes = CHUNK_BYTES): string {
  return chunksRoot(shard, chunkBytes)
}

/** Encoded bytes: per stripe its K+M shards, and their commitments. */
export interface Encoded { layout: ErasureLayout, stripes: Uint8Array[][], commitments: StripeCommitment[] }

/**
 * Codes `bytes` into stripes of K+M shards.
 *
 * @example
 * ```ts
 * const { layout, stripes, commitments } = encodeErasure(rs, bytes, { k: 4, m: 2 })
 * decodeErasure(rs, layout, commitments, (s, i) => stripes[s][i]) // bytes again
 * ```
 */
export function encodeErasure (rs: ReedSolomon, bytes: Uint8Array, scheme: ErasureScheme = DEFAULT_SCHEME, shardBytes = SHARD_BYTES, chunkBytes = CHUNK_BYTES): Encoded {
  const { k, m } = checkScheme(scheme)
  const layout: ErasureLayout = { k, m, size: bytes.length, shardBytes, chunkBytes }
  const stripes: Uint8Array[][] = []
  const commitments: StripeCommitment[] = []
  for (let s = 0; s < stripeCount(layout); s++) {
    const len = shardLength(layout, s)
    const buf = new Uint8Array(len * (k + m))
    buf.set(bytes.subarray(s * k * shardBytes, Math.min(bytes.length, s * k * shardBytes + k * len)))
    rs.encode(buf, k, m)
    const shards = Array.from({ length: k + m }, (_, i) => buf.subarray(i * len, (i + 1) * len))
    const hashes = shards.map(sh => shardHash(sh, chunkBytes))
    stripes.push(shards)
    commitments.push({ root: merkleRoot(hashes), shards: hashes })
  }
  return { layout, stripes, commitments }
}

/**
 * Rebuilds all K+M shards of stripe `s` from what `get` returns (null for a missing shard; a
 * shard that does not match its committed hash counts as missing).
 * @throws ShadwError `STRIPE_LOST` naming the stripe when fewer than K are good
 */
export function rebuildStripe (rs: ReedSolomon, l: ErasureLayout, c: StripeCommitment, s: number, get: (shard: number) => Uint8Array | null): Uint8Array[] {
  const len = shardLength(l, s)
  const n = l.k + l.m
  const buf = new Uint8Array(len * n)
  const present: boolean[] = []
  for (let i = 0; i < n; i++) {
    const sh = get(i)
    const good = sh !== null && sh.length === len && shardHash(sh, l.chunkBytes) === c.shards[i]
    if (good) buf.set(sh, i * len)
    present.push(good)
  }
  const live = present.filter(Boolean).length
  if (live < l.k) throw ShadwError.STRIPE_LOST(`stripe ${s} has ${live} good shards of ${n}, needs ${l.k}`, { stripe: s, live, k: l.k, m: l.m })
  if (live < n) {
    if (present.slice(0, l.k).some(p => !p) && !rs.reconstruct(buf, l.k, l.m, present)) {
      throw ShadwError.STRIPE_LOST(`stripe ${s} did not reconstruct`, { stripe: s, live, k: l.k, m: l.m })
    }
    rs.encode(buf, l.k, l.m) // parity again, so a lost parity shard can be re-placed too
  }
  return Array.from({ length: n }, (_, i) => buf.slice(i * len, (i + 1) * len))
}

/**
 * The logical bytes from any K good shards per stripe.
 * @throws ShadwError `STRIPE_LOST` naming the first stripe that cannot be rebuilt
 */
export function decodeErasure (rs: ReedSolomon, l: ErasureLayout, commitments: StripeCommitment[], get: (stripe: number, shard: number) => Uint8Array | null): Uint8Array {
  const out = new Uint8Array(l.size)
  const stripes = stripeCount(l)
  if (commitments.length !== stripes) throw ShadwError.ERASURE_INVALID(`${commitments.length} stripe commitments for ${stripes} stripes`)
  for (let s = 0; s < stripes; s++) {
    const shards = rebuildStripe(rs, l, commitments[s] as StripeCommitment, s, i => get(s, i))
    const at = s * l.k * l.shardBytes
    for (let i = 0; i < l.k && at + i * (shards[0] as Uint8Array).length < l.size; i++) {
      const sh = shards[i] as Uint8Array
      out.set(sh.subarray(0, Math.min(sh.length, l.size - at - i * sh.length)), at + i * sh.length)
    }
  }
  return out
}

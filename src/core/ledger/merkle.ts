/**
 * The Merkle tree a batch of receipts is signed through: RFC 9162 (Certificate Transparency
 * v2) §2.1 with SHA-256, leaves `SHA-256(0x00 ‖ leaf bytes)`, interior nodes
 * `SHA-256(0x01 ‖ left ‖ right)`, a tree of `n` leaves split at the largest power of two
 * below `n`. The prefixes keep a leaf from passing for an interior node. The inclusion proof
 * of a leaf is its audit path (sibling hashes from the leaf up), and RFC 9162 §2.1.3.2's check
 * accepts a path only for the exact (index, size) it was made for.
 */
import b4a from 'b4a'
import sodium from 'sodium-universal'

/** Bytes of a tree hash (SHA-256). */
export const MERKLE_HASH_BYTES = 32

const LEAF = b4a.from([0])
/** Reused input of every interior hash (`0x01 ‖ left ‖ right`): hashing is synchronous. */
const NODE_INPUT = b4a.alloc(1 + 2 * MERKLE_HASH_BYTES)
NODE_INPUT[0] = 1

/** The hash of one leaf. */
export function merkleLeaf (bytes: Uint8Array): Uint8Array {
  const out = b4a.alloc(MERKLE_HASH_BYTES)
  sodium.crypto_hash_sha256(out, b4a.concat([LEAF, bytes]))
  return out
}

function node (left: Uint8Array, right: Uint8Array): Uint8Array {
  NODE_INPUT.set(left, 1)
  NODE_INPUT.set(right, 1 + MERKLE_HASH_BYTES)
  const out = b4a.alloc(MERKLE_HASH_BYTES)
  sodium.crypto_hash_sha256(out, NODE_INPUT)
  return out
}

/** Largest power of two strictly below `n` (n ≥ 2). */
function split (n: number): number {
  let k = 1
  while (k * 2 < n) k *= 2
  return k
}

/**
 * The root of `leaves` (leaf hashes, at least one) and every leaf's audit path, bottom-up.
 * Costs n − 1 node hashes: each subtree's root is computed once and shared by its proofs.
 */
export function merkleTree (leaves: Uint8Array[]): { root: Uint8Array, paths: Uint8Array[][] } {
  const paths: Uint8Array[][] = leaves.map(() => [])
  const build = (lo: number, hi: number): Uint8Array => {
    if (hi - lo === 1) return leaves[lo] as Uint8Array
    const mid = lo + split(hi - lo)
    const left = build(lo, mid)
    const right = build(mid, hi)
    // siblings are appended on the way back up, so each path ends up ordered leaf → root
    for (let i = lo; i < mid; i++) (paths[i] as Uint8Array[]).push(right)
    for (let i = mid; i < hi; i++) (paths[i] as Uint8Array[]).push(left)
    return node(left, right)
  }
  if (leaves.length === 0) throw new RangeError('a Merkle tree needs at least one leaf')
  return { root: build(0, leaves.length), paths }
}

/**
 * The root an audit path leads to from `leaf` at `index` of a tree of `size` leaves, or
 * null when the path does not fit that position (RFC 9162 §2.1.3.2).
 */
export function merkleRootFromPath (leaf: Uint8Array, index: number, size: number, path: Uint8Array[]): Uint8Array | null {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return null
  let fn = index
  let sn = size - 1
  let r = leaf
  for (const p of path) {
    if (sn === 0) return null
    if ((fn & 1) === 1 || fn === sn) {
      r = node(p, r)
      if ((fn & 1) === 0) {
        while ((fn & 1) === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2) }
      }
    } else {
      r = node(r, p)
    }
    fn = Math.floor(fn / 2)
    sn = Math.floor(sn / 2)
  }
  return sn === 0 ? r : null
}

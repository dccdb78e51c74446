/**
 * A binary SHA-256 Merkle tree over hex leaf hashes, for the erasure commitments: a shard's
 * hash is the root over its chunks' hashes, a stripe's root the root over its shards'
 * hashes. Inner nodes hash `0x01 ‖ left ‖ right` and leaves `0x00 ‖ bytes`, so a leaf can
 * never pass for an inner node; an odd node at the end of a level is carried up unchanged.
 */
import b4a from 'b4a'
import { sha256 } from '../sha256.ts'

/** The hash of a leaf's bytes (hex). */
export function leafHash (bytes: Uint8Array): string {
  return sha256(b4a.concat([b4a.from([0]), bytes]))
}

function parent (l: string, r: string): string {
  return sha256(b4a.concat([b4a.from([1]), b4a.from(l, 'hex'), b4a.from(r, 'hex')]))
}

function up (level: string[]): string[] {
  const out: string[] = []
  for (let i = 0; i < level.length; i += 2) out.push(i + 1 < level.length ? parent(level[i] as string, level[i + 1] as string) : level[i] as string)
  return out
}

/** The root over `leaves` (hex hashes, at least one). */
export function merkleRoot (leaves: string[]): string {
  let level = leaves
  while (level.length > 1) level = up(level)
  return level[0] as string
}

/**
 * The sibling hashes from leaf `index` to the root (of `leaves.length` leaves). Sides are not
 * carried: the verifier derives them from the index and the count, so a proof for one chunk
 * can never be replayed as another's.
 */
export function merkleProof (leaves: string[], index: number): string[] {
  const steps: string[] = []
  let level = leaves
  let i = index
  while (level.length > 1) {
    const sib = i % 2 === 0 ? i + 1 : i - 1
    if (sib < level.length) steps.push(level[sib] as string)
    level = up(level)
    i = Math.floor(i / 2)
  }
  return steps
}

/** The root that leaf `index` of `count` leaves and its sibling hashes lead to; null for a proof of the wrong length. */
export function rootFromProof (leaf: string, index: number, count: number, siblings: string[]): string | null {
  let h = leaf
  let i = index
  let n = count
  let s = 0
  while (n > 1) {
    const sib = i % 2 === 0 ? i + 1 : i - 1
    if (sib < n) {
      const x = siblings[s++]
      if (x === undefined) return null
      h = sib < i ? parent(x, h) : parent(h, x)
    }
    n = Math.ceil(n / 2)
    i = Math.floor(i / 2)
  }
  return s === siblings.length ? h : null
}

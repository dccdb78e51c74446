/**
 * A binary SHA-256 Merkle tree over hex leaf hashes, for the erasure commitments (at the core root: pinning builds them, the ledger checks served-wrong records against them): a shard's
 * hash is the root over its chunks' hashes, a stripe's root the root over its shards'
 * hashes. Inner nodes hash `0x01 ‖ left ‖ right` and leaves `0x00 ‖ bytes`, so a leaf can
 * never pass for an inner node; an odd node at the end of a level is carried up unchanged.
 */
import b4a from 'b4a'
import { sha256, sha256Into } from './sha256.ts'

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

/**
 * The root over the chunks of `bytes` (one leaf per `chunkBytes`, at least one): the same
 * value as `merkleRoot` over their `leafHash`es, computed in binary with two scratch buffers,
 * so hashing a shard costs SHA-256 and not the allocations and hex of the general path
 * (which ran at a twentieth of SHA-256's speed on 1 KiB chunks).
 */
export function chunksRoot (bytes: Uint8Array, chunkBytes: number): string {
  const count = Math.max(1, Math.ceil(bytes.length / chunkBytes))
  let level = new Uint8Array(count * 32)
  const leaf = new Uint8Array(1 + chunkBytes)
  for (let i = 0; i < count; i++) {
    const chunk = bytes.subarray(i * chunkBytes, (i + 1) * chunkBytes)
    leaf.set(chunk, 1)
    sha256Into(level.subarray(i * 32, i * 32 + 32), leaf.subarray(0, 1 + chunk.length))
  }
  const node = new Uint8Array(65)
  node[0] = 1
  for (let n = count; n > 1; n = Math.ceil(n / 2)) {
    const next = new Uint8Array(Math.ceil(n / 2) * 32)
    for (let i = 0; i < n; i += 2) {
      if (i + 1 < n) {
        node.set(level.subarray(i * 32, i * 32 + 64), 1)
        sha256Into(next.subarray(i * 16, i * 16 + 32), node)
      } else {
        next.set(level.subarray(i * 32, i * 32 + 32), i * 16)
      }
    }
    level = next
  }
  return b4a.toString(level.subarray(0, 32), 'hex')
}

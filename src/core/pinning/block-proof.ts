/**
 * Proofs of storage for replicated pins: a challenger asks a co-holder for block `index` of
 * one of the pin's logs; the holder answers with the block, the sibling nodes of Hypercore's
 * own Merkle tree from the block up to its root, and the roots at the pinned length. The
 * challenger rehashes with Hypercore's own hashing (`hypercore-crypto` data/parent/tree) and
 * needs nothing but the tree hash the pin names: the roots must hash to it, and the block's
 * path must end in one of them. Only a holder that keeps the block can answer.
 *
 * Not `MerkleTree.proof`/`verify`: verifying a block proof there either needs the verifier's
 * own copy of the tree, or an upgrade proof signed at the log's current length; a pin names
 * an older length once the writer appends, and its tree hash is what the holders confirmed.
 * The index arithmetic of the flat tree (flat-tree) is a few lines written here: that
 * package is not a direct dependency, and the answer's node indices are derived, not trusted.
 */
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { ShadwError } from '../errors.ts'
import { isHexKey } from '../hex.ts'

/** Nodes in a path or a root list at most: a log of 2^64 blocks has 64 of each. */
const MAX_NODES = 64
/** Largest block we accept in an answer: Hypercore blocks of drives are 64 KiB; room for bigger. */
export const MAX_BLOCK_PROOF_BYTES = 1024 * 1024

/** A tree node as it travels: flat-tree index, bytes under it, hash (hex). */
export interface TreeNode { index: number, size: number, hash: string }
/** The holder's answer: the block (hex), its path up to its root, and the roots at the pinned length. */
export interface BlockAnswer { bytes: string, nodes: TreeNode[], roots: TreeNode[] }

/** What the holder needs of a Hypercore session: the block and its stored tree nodes. */
export interface ProvingCore {
  get (index: number, opts: { wait: false }): Promise<Uint8Array | null>
  core: { tree: { get (index: number): Promise<{ index: number, size: number, hash: Uint8Array }> } }
}

function depth (i: number): number {
  let d = 0
  while (Math.floor(i / 2 ** d) % 2 === 1) d++
  return d
}

function at (d: number, offset: number): number {
  return (1 + 2 * offset) * 2 ** d - 1
}

function offsetOf (i: number, d: number): number {
  return Math.floor(i / 2 ** (d + 1))
}

function sibling (i: number): number {
  const d = depth(i)
  return at(d, offsetOf(i, d) ^ 1)
}

function parent (i: number): number {
  const d = depth(i)
  return at(d + 1, Math.floor(offsetOf(i, d) / 2))
}

/** The flat-tree indices of the roots of a tree over `length` blocks (flat-tree's `fullRoots(2 * length)`). */
export function rootIndices (length: number): number[] {
  const out: number[] = []
  let left = length
  let offset = 0
  while (left > 0) {
    let factor = 1
    while (factor * 2 <= left) factor *= 2
    out.push(offset + factor - 1)
    offset += 2 * factor
    left -= factor
  }
  return out
}

function wire (n: { index: number, size: number, hash: Uint8Array }): TreeNode {
  return { index: n.index, size: n.size, hash: b4a.toString(n.hash, 'hex') }
}

/**
 * The holder's side: block `index` of `core` with its proof at the pinned `length`.
 * @throws ShadwError `SHARD_NOT_HELD` when the block is not on this holder's disk
 */
export async function answerBlockChallenge (core: ProvingCore, length: number, index: number): Promise<BlockAnswer> {
  if (index >= length) throw ShadwError.INVALID_ARGUMENT(`block ${index} past the pinned length ${length}`)
  const block = await core.get(index, { wait: false })
  if (block === null) throw ShadwError.SHARD_NOT_HELD(`block ${index} is not held here`)
  const roots = rootIndices(length)
  const nodes: TreeNode[] = []
  for (let i = 2 * index; !roots.includes(i) && nodes.length < MAX_NODES; i = parent(i)) nodes.push(wire(await core.core.tree.get(sibling(i))))
  return { bytes: b4a.toString(block, 'hex'), nodes, roots: (await Promise.all(roots.map(async r => await core.core.tree.get(r)))).map(wire) }
}

function node (v: unknown): { index: number, size: number, hash: Uint8Array } {
  const n = v as Record<string, unknown> | null
  if (typeof n !== 'object' || n === null || !Number.isSafeInteger(n.index) || !Number.isSafeInteger(n.size) || (n.size as number) < 0 || !isHexKey(n.hash)) throw ShadwError.PROOF_FAILED('malformed tree node')
  return { index: n.index as number, size: n.size as number, hash: b4a.from(n.hash, 'hex') }
}

/**
 * Checks an answer for block `index` of the log pinned at `length` with `treeHash`.
 * @throws ShadwError `PROOF_FAILED` for a missing, malformed or wrong answer
 */
export function checkBlockAnswer (log: { key: string, length: number, treeHash: string }, index: number, answer: unknown): void {
  const where = { key: log.key, block: index }
  if (typeof answer !== 'object' || answer === null) throw ShadwError.PROOF_FAILED('no answer', where)
  const a = answer as Record<string, unknown>
  if (typeof a.bytes !== 'string' || a.bytes.length > 2 * MAX_BLOCK_PROOF_BYTES || !/^([0-9a-f]{2})*$/.test(a.bytes) || !Array.isArray(a.nodes) || !Array.isArray(a.roots) || a.nodes.length > MAX_NODES || a.roots.length > MAX_NODES) {
    throw ShadwError.PROOF_FAILED('malformed answer', where)
  }
  const want = rootIndices(log.length)
  const roots = (a.roots as unknown[]).map(node)
  if (roots.length !== want.length || roots.some((r, i) => r.index !== want[i])) throw ShadwError.PROOF_FAILED('roots are not those of the pinned length', where)
  if (b4a.toString(crypto.tree(roots), 'hex') !== log.treeHash) throw ShadwError.PROOF_FAILED('roots do not hash to the pinned tree hash', where)
  const bytes = b4a.from(a.bytes, 'hex')
  let cur = { index: 2 * index, size: bytes.byteLength, hash: crypto.data(bytes) }
  for (const v of a.nodes as unknown[]) {
    const n = node(v)
    if (n.index !== sibling(cur.index)) throw ShadwError.PROOF_FAILED('path node is not the sibling', where)
    cur = { index: parent(cur.index), size: cur.size + n.size, hash: crypto.parent(cur, n) }
  }
  const root = roots.find(r => r.index === cur.index)
  if (root === undefined || root.size !== cur.size || !b4a.equals(root.hash, cur.hash)) throw ShadwError.PROOF_FAILED(`block ${index} does not prove against the pinned tree`, where)
}

/**
 * What patches/hypercore+10.38.2.patch must not change in what a reader accepts: a block proof
 * that carries nodes above a node the reader already holds is refused when any of its nodes is
 * forged, as stock Hypercore refuses it (it hashes the proof up to its top and compares), and the
 * reader's parent-hash table keeps copies of the hashes it compares, not views into the replies.
 * Real Corestores on the super node's storage in real directories, over Corestore.replicate.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { afterEach, describe, expect, it } from 'vitest'
import { fileStorage } from '../../../../src/super-node/file-storage.ts'

interface TreeNode { index: number, size: number, hash: Uint8Array }
interface BlockProof { block: { index: number, value: Uint8Array, nodes: TreeNode[] } }
/** The parts of Hypercore's merkle tree this test drives (lib/merkle-tree.js, not typed). */
interface Tree {
  proof: (req: { block: { index: number, nodes: number } }) => Promise<BlockProof>
  verify: (proof: BlockProof) => Promise<unknown>
  get: (index: number) => Promise<TreeNode>
  knownNode: (index: number) => TreeNode | null
}
const treeOf = (core: Hypercore): Tree => (core as unknown as { core: { tree: Tree } }).core.tree

const dirs: string[] = []
const stores: Corestore[] = []

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close()
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

async function store (): Promise<Corestore> {
  const d = await mkdtemp(join(tmpdir(), 'shadw-proof-verify-'))
  dirs.push(d)
  const s = new Corestore(fileStorage(d))
  stores.push(s)
  return s
}

function flipped (hash: Uint8Array): Uint8Array {
  const copy = Uint8Array.from(hash)
  copy[0] = (copy[0] ?? 0) ^ 0xff
  return copy
}

describe('a reader verifying a block proof that runs above the nodes it holds', () => {
  it('accepts the honest proof and refuses a forged block, lower sibling or upper sibling', async () => {
    const writerStore = await store()
    const writer = writerStore.get({ name: 'log' })
    await writer.ready()
    await writer.append(Array.from({ length: 64 }, (_, i) => Buffer.alloc(64, i)))

    const readerStore = await store()
    const w = writerStore.replicate(true) as NodeJS.ReadWriteStream
    const r = readerStore.replicate(false) as NodeJS.ReadWriteStream
    w.pipe(r).pipe(w)
    const reader = readerStore.get({ key: writer.key as Uint8Array })
    await reader.ready()
    await reader.update({ wait: true })
    await reader.get(3)

    // block 3's proof brought block 2's leaf (4), its own (6) and the path to the root (63);
    // in memory, so the reader's walk meets held nodes from the leaf up
    const tree = treeOf(reader)
    for (const i of [4, 6, 5, 1, 3, 11, 7, 23, 15, 47, 31, 95, 63]) await tree.get(i)
    expect(tree.knownNode(4)).not.toBeNull()
    expect(tree.knownNode(5)).not.toBeNull()

    // block 2 with a proof up to the root: six siblings, all above or beside held nodes (the
    // tree's proof carries no value: the replicator adds the block's bytes, as here)
    const proof = async (): Promise<BlockProof> => {
      const p = await treeOf(writer).proof({ block: { index: 2, nodes: 6 } })
      p.block.value = await writer.get(2) as Uint8Array
      return p
    }
    const honest = await proof()
    expect(honest.block.nodes.map(n => n.index)).toEqual([6, 1, 11, 23, 47, 95])
    await expect(tree.verify(honest)).resolves.toBeDefined()

    const forged = async (change: (p: BlockProof) => void): Promise<BlockProof> => {
      const p = await proof()
      change(p)
      return p
    }
    const last = (p: BlockProof): TreeNode => p.block.nodes[p.block.nodes.length - 1] as TreeNode
    const first = (p: BlockProof): TreeNode => p.block.nodes[0] as TreeNode

    await expect(tree.verify(await forged(p => { last(p).hash = flipped(last(p).hash) }))).rejects.toMatchObject({ code: 'INVALID_CHECKSUM' })
    await expect(tree.verify(await forged(p => { first(p).hash = flipped(first(p).hash) }))).rejects.toMatchObject({ code: 'INVALID_CHECKSUM' })
    await expect(tree.verify(await forged(p => { p.block.value = flipped(p.block.value) }))).rejects.toMatchObject({ code: 'INVALID_CHECKSUM' })
    await expect(tree.verify(await forged(p => { last(p).size += 1 }))).rejects.toMatchObject({ code: 'INVALID_CHECKSUM' })
  })
})

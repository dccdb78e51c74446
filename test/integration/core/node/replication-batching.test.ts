/**
 * What patches/hypercore+10.38.2.patch changes in a replicating reader, on the super node's
 * storage in real directories, over a real encrypted stream pair (Corestore.replicate):
 * tree nodes are flushed in runs (writes to the tree file), concurrent walks up for missing
 * proof nodes share their reads (reads of the tree file that find nothing), adjacent
 * blocks verified together are written together (writes to the data file), the writer's
 * concurrent proofs share their tree-node reads, the reader's requests leave in
 * Protomux batches (frames on the reader's stream), a block request reads nothing for the
 * block's leaf, and the writer reads the blocks it answers with ahead. And what it must
 * not change: every block arrives, verified, with its bytes, and survives a reopen.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { afterEach, describe, expect, it } from 'vitest'
import { fileStorage } from '../../../../src/super-node/file-storage.ts'

const BLOCKS = 2_000
const BLOCK_SIZE = 1024

interface Counts { dataWrites: number, dataReads: number, treeWrites: number, treeReads: number, absentTreeReads: number }

type Callback = (err: Error | null, data?: Uint8Array) => void
interface CountedFile { read: (offset: number, size: number, cb: Callback) => void, write: (offset: number, data: Uint8Array, cb: Callback) => void }

/** fileStorage in `dir`, counting the reads and writes of each core's data and tree files. */
function countedStorage (dir: string, counts: Counts): (name: string) => unknown {
  const open = fileStorage(dir)
  return (name: string) => {
    const file = open(name) as unknown as CountedFile
    const kind = name.split('/').pop()
    const read = file.read.bind(file)
    const write = file.write.bind(file)
    file.write = (offset, data, cb) => {
      if (kind === 'data') counts.dataWrites++
      if (kind === 'tree') counts.treeWrites++
      write(offset, data, cb)
    }
    file.read = (offset, size, cb) => {
      if (kind === 'data') counts.dataReads++
      read(offset, size, (err, data) => {
        if (kind === 'tree') {
          counts.treeReads++
          if (err !== null || data === undefined || data.every(b => b === 0)) counts.absentTreeReads++
        }
        cb(err, data)
      })
    }
    return file
  }
}

const dirs: string[] = []
const stores: Corestore[] = []

afterEach(async () => {
  for (const s of stores.splice(0)) await s.close()
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true })
})

async function tempDir (): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'shadw-repl-batch-'))
  dirs.push(d)
  return d
}

describe('a linear download between two Corestores on the super node storage', () => {
  it('writes tree nodes and adjacent blocks in runs, shares absent-node reads, and every block arrives verified', async () => {
    const writerCounts: Counts = { dataWrites: 0, dataReads: 0, treeWrites: 0, treeReads: 0, absentTreeReads: 0 }
    const writerStore = new Corestore(countedStorage(await tempDir(), writerCounts))
    stores.push(writerStore)
    const writer = writerStore.get({ name: 'log' })
    await writer.ready()
    const blocks = Array.from({ length: BLOCKS }, (_, i) => Buffer.alloc(BLOCK_SIZE, i % 251))
    await writer.append(blocks)

    const counts: Counts = { dataWrites: 0, dataReads: 0, treeWrites: 0, treeReads: 0, absentTreeReads: 0 }
    const readerDir = await tempDir()
    const readerStore = new Corestore(countedStorage(readerDir, counts))
    stores.push(readerStore)
    const w = writerStore.replicate(true) as NodeJS.ReadWriteStream
    const r = readerStore.replicate(false) as NodeJS.ReadWriteStream
    w.pipe(r).pipe(w)
    let readerFrames = 0
    r.on('data', () => { readerFrames++ })

    const reader = readerStore.get({ key: writer.key as Uint8Array })
    await reader.ready()
    await reader.update({ wait: true })
    expect(reader.length).toBe(BLOCKS)

    Object.assign(counts, { dataWrites: 0, dataReads: 0, treeWrites: 0, treeReads: 0, absentTreeReads: 0 })
    Object.assign(writerCounts, { dataWrites: 0, dataReads: 0, treeWrites: 0, treeReads: 0, absentTreeReads: 0 })
    readerFrames = 0
    await reader.download({ start: 0, end: BLOCKS, linear: true }).done()

    // before the patch: ~2 tree writes, ~7 absent-node reads and one data write per block
    expect(counts.treeWrites).toBeLessThan(BLOCKS / 8)
    expect(counts.absentTreeReads).toBeLessThan(BLOCKS * 4)
    expect(counts.dataWrites).toBeLessThan(BLOCKS)
    // the writer's proofs read each tree node once (~2 per block; before, ~6: concurrent
    // proofs each read the upper nodes they share), and the reader's requests leave in
    // batches (before, ~0.3 frames per request on this in-memory pipe; after, ~0.04)
    expect(writerCounts.treeReads).toBeLessThan(BLOCKS * 2.2)
    expect(readerFrames).toBeLessThan(BLOCKS / 8)
    // a block request does not read the tree file for the block's leaf (before, ~2 absent-node
    // reads per block, one of them the leaf; after, ~1), and the writer reads the blocks it
    // answers with ahead, 64 KiB at a time (before, one data read per block; after, ~0.04)
    expect(counts.absentTreeReads).toBeLessThan(BLOCKS * 1.5)
    expect(writerCounts.dataReads).toBeLessThan(BLOCKS / 4)

    // the reader's table of recent parents keeps copies of the children's hashes: a view into a
    // reply would keep the whole reply (its block bytes included) alive while the core is open
    const parents = (reader as unknown as { core: { tree: { parents: { slots: Array<{ leftHash: Uint8Array, rightHash: Uint8Array } | null> } } } }).core.tree.parents
    const held = parents.slots.filter(s => s !== null)
    expect(held.length).toBeGreaterThan(0)
    for (const s of held) expect(Math.max(s.leftHash.buffer.byteLength, s.rightHash.buffer.byteLength)).toBeLessThanOrEqual(32)

    for (let i = 0; i < BLOCKS; i++) expect(Buffer.from(await reader.get(i, { wait: false }) as Uint8Array).equals(blocks[i] as Buffer)).toBe(true)

    // what was written is what a reopened store reads back (tree and oplog on disk)
    await readerStore.close()
    stores.splice(stores.indexOf(readerStore), 1)
    const reopened = new Corestore(fileStorage(readerDir))
    stores.push(reopened)
    const again: Hypercore = reopened.get({ key: writer.key as Uint8Array })
    await again.ready()
    expect(again.contiguousLength).toBe(BLOCKS)
    for (const i of [0, 1, BLOCKS / 2, BLOCKS - 1]) expect(Buffer.from(await again.get(i, { wait: false }) as Uint8Array).equals(blocks[i] as Buffer)).toBe(true)
  })
})

import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { Drive } from '../../../../src/core/drive/index.ts'
import { PAGE_BYTES } from '../../../../src/core/sandbox/index.ts'
import { cWasm } from '../../../fixtures/wasm/fixtures.ts'
import { callerNode, executorNode, publisher, sharedExecutor } from '../../../helpers/invoke.ts'
import { testNode, testnet } from '../../../helpers/testnet.ts'

/** The mounted file: big enough that fetching it whole would show, small enough to write in a few seconds. */
const FILE_BYTES = 128 * 1024 * 1024
/** Written in Hyperdrive's own block size: one put chunk is one blob block. */
const CHUNK = 64 * 1024
const OFFSET = 77 * 1024 * 1024 + 12_345
const READ = 4096

/** Block `i` of the file: a few bytes that differ per block, the rest a fixed pattern (cheap to make, cheap to check). */
function block (i: number): Uint8Array {
  const b = new Uint8Array(CHUNK)
  for (let j = 0; j < CHUNK; j += 251) b[j] = (i * 7 + j) & 0xff
  new DataView(b.buffer).setUint32(0, i)
  return b
}

function fnv (b: Uint8Array): number {
  let h = 2166136261
  for (const x of b) h = Math.imul(h ^ x, 16777619) >>> 0
  return h
}

function range (offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length)
  for (let at = 0; at < length;) {
    const i = Math.floor((offset + at) / CHUNK)
    const from = (offset + at) % CHUNK
    const part = block(i).subarray(from, Math.min(CHUNK, from + length - at))
    out.set(part, at)
    at += part.length
  }
  return out
}

describe('a big file of a drive mounted into a call, read sparsely', () => {
  it('a C program reads 4 KiB at an offset of a 128 MiB file: each of two redundant executors fetches about a block, not the file, and both sign the version', async () => {
    const net = await testnet()
    const holder = await testNode(net)
    const { drive } = await Drive.create(holder)
    const blocks = FILE_BYTES / CHUNK
    const version = (await drive.put('/big.bin', (function * () { for (let i = 0; i < blocks; i++) yield block(i) })())).version

    const pub = await publisher(net)
    const ref = await pub.publish(cWasm('fs-pread'), { name: 'pread', version: '1.0.0', mounts: [{ drive: drive.key, version, path: '/data' }] })
    const pool = sharedExecutor(2)
    const execs = [await executorNode(net, pool, { drives: true }), await executorNode(net, pool, { drives: true })]
    const caller = await callerNode(net)
    await caller.endpoint.waitForExecutors(2, { timeoutMs: 30_000 })

    const mounts = [{ drive: drive.key, version, path: '/data' }]
    const expected = `size ${FILE_BYTES} read ${READ} fnv ${fnv(range(OFFSET, READ))}\n`
    const input = b4a.from(`/data/big.bin ${OFFSET} ${READ}`)
    const res = await caller.endpoint.invoke(ref, input, { deadline: 60_000, redundancy: 2, quorum: 2, mounts })
    expect(b4a.toString(res.output)).toBe(expected)
    expect(res.receipts).toHaveLength(2)
    for (const r of res.receipts) expect(r.mounts).toEqual([{ drive: drive.key, version }])
    expect(new Set(res.receipts.map(r => r.executor)).size).toBe(2)
    expect(res.receipts[0]?.fuel).toBe(res.receipts[1]?.fuel)

    const fetched = execs.map(e => e.service.mounts?.bytesFetched ?? -1)
    console.log(`4 KiB read of a ${FILE_BYTES / 1024 / 1024} MiB mounted file: bytes fetched per executor ${fetched.join(', ')}`)
    for (const f of fetched) {
      // the blob block holding the range (64 KiB) and the entry log's few blocks; never the file
      expect(f).toBeGreaterThanOrEqual(READ)
      expect(f).toBeLessThan(2 * PAGE_BYTES + 16 * 1024)
    }

    // the same read again: served from each executor's cache, nothing fetched but the entries' check
    const again = await caller.endpoint.invoke(ref, input, { deadline: 60_000, redundancy: 2, quorum: 2, mounts })
    expect(b4a.toString(again.output)).toBe(expected)
    for (const [i, e] of execs.entries()) {
      expect(e.service.mounts?.cache.hits).toBeGreaterThanOrEqual(1)
      expect((e.service.mounts?.bytesFetched ?? 0) - (fetched[i] as number)).toBeLessThan(PAGE_BYTES)
    }

    // two calls at once over the same drive on one executor: both read (they share its handle)
    const svc = execs[0]?.service.mounts
    if (svc === null || svc === undefined) throw new Error('the executor mounts no drives')
    const both = await Promise.all([0, 1].map(async () => await svc.load([], mounts, new AbortController().signal)))
    for (const m of both) expect(new Uint8Array(await m.files.read(0, OFFSET, READ))).toEqual(range(OFFSET, READ))
    await Promise.all(both.map(async m => { await m.close() }))
    await drive.close()
  }, 120_000)

  it('a file written in 4 KiB blocks (drive put --block-size): a 4 KiB read fetches the 4 KiB blocks it spans, not a 64 KiB one', async () => {
    const net = await testnet()
    const holder = await testNode(net)
    const { drive } = await Drive.create(holder)
    const size = 32 * 1024 * 1024
    const version = (await drive.put('/big.bin', (function * () { for (let i = 0; i < size / CHUNK; i++) yield block(i) })(), { blockSize: 4096 })).version
    expect((await drive.entry('/big.bin'))?.blocks).toBe(size / 4096)

    const pub = await publisher(net)
    const ref = await pub.publish(cWasm('fs-pread'), { name: 'pread', version: '1.0.0' })
    const exec = await executorNode(net, sharedExecutor(1), { drives: true })
    const caller = await callerNode(net)
    await caller.endpoint.waitForExecutors(1, { timeoutMs: 30_000 })
    const offset = 21 * 1024 * 1024 + 12_345
    const res = await caller.endpoint.invoke(ref, b4a.from(`/data/big.bin ${offset} ${READ}`), { deadline: 60_000, mounts: [{ drive: drive.key, version, path: '/data' }] })
    expect(b4a.toString(res.output)).toBe(`size ${size} read ${READ} fnv ${fnv(range(offset, READ))}\n`)
    const fetched = exec.service.mounts?.bytesFetched ?? -1
    console.log(`4 KiB read (across two 4 KiB blocks) of a ${size / 1024 / 1024} MiB mounted file in 4 KiB blocks: ${fetched} bytes fetched`)
    // the two 4 KiB blocks the unaligned range spans, their proofs and the entry log's blocks
    expect(fetched).toBeGreaterThanOrEqual(2 * 4096)
    expect(fetched).toBeLessThan(2 * 4096 + 8 * 1024)
    await drive.close()
  }, 120_000)
})

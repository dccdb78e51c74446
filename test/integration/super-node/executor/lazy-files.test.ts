import { afterAll, describe, expect, it } from 'vitest'
import { PAGE_BYTES, type FileSource, type Preopen } from '../../../../src/core/sandbox/index.ts'
import { createNodeExecutor } from '../../../../src/super-node/executor/index.ts'
import { cWasm } from '../../../fixtures/wasm/fixtures.ts'

const FILE_BYTES = 8 * 1024 * 1024
const data = Uint8Array.from({ length: FILE_BYTES }, (_, i) => (i * 2654435761 >>> 24) & 0xff)
const pread = cWasm('fs-pread')

function fnv (b: Uint8Array): number {
  let h = 2166136261
  for (const x of b) h = Math.imul(h ^ x, 16777619) >>> 0
  return h
}

/** A file source over `data` that counts what it served; `fail`/`hang` make every read fail or never answer. */
function source (mode: 'ok' | 'fail' | 'hang' = 'ok'): FileSource & { served: number, reads: number } {
  const s = {
    served: 0,
    reads: 0,
    read: async (id: number, offset: number, length: number): Promise<Uint8Array> => {
      s.reads++
      if (id !== 0) throw new Error('no such file')
      if (mode === 'fail') throw new Error('drive unreachable')
      if (mode === 'hang') return await new Promise<never>(() => {})
      const out = data.slice(offset, offset + length)
      s.served += out.length
      return out
    }
  }
  return s
}

const lazyTree: Preopen[] = [{ guest: '/data', tree: { kind: 'dir', entries: { big: { kind: 'lazy', size: FILE_BYTES, id: 0 } } } }]
const plainTree: Preopen[] = [{ guest: '/data', tree: { kind: 'dir', entries: { big: { kind: 'file', data } } } }]
const OFFSET = 5 * 1024 * 1024 + 1000
const expected = `size ${FILE_BYTES} read 4096 fnv ${fnv(data.subarray(OFFSET, OFFSET + 4096))}\n`

describe('lazy files: a worker fetches file bytes from its host while the call runs', () => {
  const shared = createNodeExecutor({ size: 1 })
  const copying = createNodeExecutor({ size: 1, sharedMemory: false })
  afterAll(async () => { await Promise.all([shared.close(), copying.close()]) })

  it('a 4 KiB pread of an 8 MiB file fetches the page it lies in; fuel pays the fetch and is the same every run', async () => {
    expect(shared.sharedMemory).toBe(true)
    const call = { module: pread, abi: 'wasi' as const, args: ['/data/big', String(OFFSET), '4096'], preopens: lazyTree }
    const s1 = source()
    const r1 = await shared.execute({ ...call, files: s1 })
    expect(new TextDecoder().decode(r1.output)).toBe(expected)
    expect(r1.exitCode).toBe(0)
    // the 4 KiB lies inside one 64 KiB page: one request, one page
    expect(s1.reads).toBe(1)
    expect(s1.served).toBe(PAGE_BYTES)
    const s2 = source()
    const r2 = await shared.execute({ ...call, files: s2 })
    expect(r2.fuelUsed).toBe(r1.fuelUsed)
    // the same read over bytes sent with the call costs exactly the fetched page less
    const plain = await shared.execute({ module: pread, abi: 'wasi', args: call.args, preopens: plainTree })
    expect(plain.output).toEqual(r1.output)
    expect(r1.fuelUsed - plain.fuelUsed).toBe(PAGE_BYTES / 16)
  }, 60_000)

  it('a worker that cannot share memory gets the file fetched whole before the call, with the same output and fuel', async () => {
    expect(copying.sharedMemory).toBe(false)
    const s = source()
    const call = { module: pread, abi: 'wasi' as const, args: ['/data/big', String(OFFSET), '4096'], preopens: lazyTree }
    const r = await copying.execute({ ...call, files: s })
    expect(new TextDecoder().decode(r.output)).toBe(expected)
    expect(s.served).toBe(FILE_BYTES)
    const onDemand = await shared.execute({ ...call, files: source() })
    expect(r.fuelUsed).toBe(onDemand.fuelUsed)
  }, 60_000)

  it('a failed fetch is EIO to the module; a fetch that never answers ends at the deadline and the pool goes on', async () => {
    const args = ['/data/big', String(OFFSET), '4096']
    const failed = await shared.execute({ module: pread, abi: 'wasi', args, preopens: lazyTree, files: source('fail') })
    expect(failed.exitCode).toBe(3)
    expect(new TextDecoder().decode(failed.stderr)).toMatch(/^pread: I\/O error/)
    await expect(shared.execute({ module: pread, abi: 'wasi', args, preopens: lazyTree, files: source('hang'), limits: { deadlineMs: 1500 } }))
      .rejects.toMatchObject({ code: 'DEADLINE_EXCEEDED' })
    const after = await shared.execute({ module: pread, abi: 'wasi', args, preopens: lazyTree, files: source() })
    expect(new TextDecoder().decode(after.output)).toBe(expected)
    // lazy files without a source are refused before any work
    await expect(shared.execute({ module: pread, abi: 'wasi', args, preopens: lazyTree })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  }, 60_000)

  it('sequential reads of the whole file fetch each byte once, in growing runs', async () => {
    const s = source()
    const r = await shared.execute({ module: cWasm('fs-read-kernel'), abi: 'wasi', args: ['/data/big', '2'], preopens: lazyTree, files: s })
    expect(r.exitCode).toBe(0)
    expect(new TextDecoder().decode(r.output)).toMatch(new RegExp(`^${2 * FILE_BYTES} \\d+\\n$`))
    // the second pass re-fetches (8 MiB is past the call's 4 MiB of pages), in windows of up to 1 MiB
    expect(s.served).toBe(2 * FILE_BYTES)
    expect(s.reads).toBeLessThan(2 * FILE_BYTES / PAGE_BYTES / 4)
  }, 60_000)
})

import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import { DEFAULT_LIMITS, lazyFileCount, MAX_PREFETCH_BYTES, parsePreopens, parseWorkerRequest, prefetchLazyFiles, WINDOW_BYTES, type Preopen } from '../../../../src/core/sandbox/index.ts'
import { CHANNEL_BYTES } from '../../../../src/core/sandbox/file-channel.ts'

const HASH = 'ab'.repeat(32)
const good = { hash: HASH, abi: 'wasi', input: new Uint8Array(0), args: [], env: [], seed: 0, limits: DEFAULT_LIMITS }

function code (fn: () => unknown): string | undefined {
  try { fn() } catch (err) { return err instanceof ShadwError ? err.code : 'not a ShadwError' }
  return undefined
}

const lazy = (size: number, id: number): Preopen[] => [{ guest: '/d', tree: { kind: 'dir', entries: { f: { kind: 'lazy', size, id } } } }]

describe('lazy files in preopens and worker requests', () => {
  it('a lazy file needs a whole size and a small id; its bytes do not count against the tree bytes', () => {
    expect(parsePreopens(lazy(2 ** 40, 3))).toHaveLength(1)
    for (const [size, id] of [[-1, 0], [1.5, 0], [10, -1], [10, 0.5], [10, 1e9]] as const) {
      expect(code(() => parsePreopens(lazy(size, id)))).toBe('INVALID_ARGUMENT')
    }
    expect(lazyFileCount(lazy(5, 3))).toBe(4)
    expect(lazyFileCount([{ guest: '/d', tree: { kind: 'dir', entries: { f: { kind: 'file', data: new Uint8Array(1) } } } }])).toBe(0)
  })

  it('a worker takes only a shared block of the channel size, or a list of byte arrays, as its files', () => {
    expect(parseWorkerRequest({ ...good, preopens: lazy(5, 0), fileBytes: [new Uint8Array(5)] }).fileBytes).toHaveLength(1)
    expect(code(() => parseWorkerRequest({ ...good, fileBytes: ['x'] }))).toBe('INVALID_ARGUMENT')
    expect(parseWorkerRequest({ ...good, preopens: lazy(5, 0), files: new SharedArrayBuffer(CHANNEL_BYTES) }).files?.byteLength).toBe(CHANNEL_BYTES)
    expect(code(() => parseWorkerRequest({ ...good, files: new ArrayBuffer(CHANNEL_BYTES) }))).toBe('INVALID_ARGUMENT')
    expect(code(() => parseWorkerRequest({ ...good, files: new SharedArrayBuffer(16) }))).toBe('INVALID_ARGUMENT')
  })

  it('prefetching reads each lazy file whole in windows, and refuses more than its cap before any read', async () => {
    const data = Uint8Array.from({ length: WINDOW_BYTES + 77 }, (_, i) => i % 253)
    const reads: Array<[number, number]> = []
    const source = { read: async (_id: number, offset: number, length: number) => { reads.push([offset, length]); return data.slice(offset, offset + length) } }
    const files = await prefetchLazyFiles(lazy(data.length, 0), source)
    expect(files).toHaveLength(1)
    // byte equality without a deep compare of a million elements
    expect(Buffer.compare(files[0] as Uint8Array, data)).toBe(0)
    expect(reads).toEqual([[0, WINDOW_BYTES], [WINDOW_BYTES, 77]])
    reads.length = 0
    await expect(prefetchLazyFiles(lazy(MAX_PREFETCH_BYTES + 1, 0), source)).rejects.toMatchObject({ code: 'MOUNT_TOO_LARGE' })
    expect(reads).toEqual([])
  })
})

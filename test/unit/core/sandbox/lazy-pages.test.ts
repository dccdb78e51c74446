import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import { LazyFiles, MAX_CACHED_PAGES, PAGE_BYTES, parsePreopens, type Preopen } from '../../../../src/core/sandbox/index.ts'

function code (fn: () => unknown): string | undefined {
  try { fn() } catch (err) { return err instanceof ShadwError ? err.code : 'not a ShadwError' }
  return undefined
}

/** LazyFiles over an in-memory file, recording each fetch and the fuel charged. */
function files (data: Uint8Array): { lazy: LazyFiles, reads: Array<[number, number]>, fuel: () => number } {
  const reads: Array<[number, number]> = []
  let fuel = 0
  const lazy = new LazyFiles({ read: (_id, offset, length) => { reads.push([offset, length]); return data.slice(offset, offset + length) } }, units => { fuel += units })
  return { lazy, reads, fuel: () => fuel }
}

const data = Uint8Array.from({ length: 1024 * 1024 }, (_, i) => (i * 31) & 0xff)

describe('pages of lazy files', () => {
  it('a file with 4 KiB pages fetches the 4 KiB page a small read falls in, and pays for 4 KiB; the default fetches 64 KiB', () => {
    const small = files(data)
    expect(small.lazy.read(0, data.length, 300_000, 100, 4096)).toEqual(data.subarray(300_000, 300_100))
    expect(small.reads).toEqual([[299_008, 4096]])
    expect(small.fuel()).toBe(4096 / 16)
    const big = files(data)
    expect(big.lazy.read(0, data.length, 300_000, 100)).toEqual(data.subarray(300_000, 300_100))
    expect(big.reads).toEqual([[262_144, PAGE_BYTES]])
    expect(big.fuel()).toBe(PAGE_BYTES / 16)
  })

  it('a read across pages fetches them in one run, and a kept page is not fetched again', () => {
    const f = files(data)
    expect(f.lazy.read(0, data.length, 4000, 9000, 4096)).toEqual(data.subarray(4000, 13_000))
    expect(f.reads).toEqual([[0, 16_384]])
    expect(f.lazy.read(0, data.length, 8192, 10, 4096)).toEqual(data.subarray(8192, 8202))
    expect(f.reads).toHaveLength(1)
  })

  it('keeps 4 MiB of pages whatever their size: 64 pages of 64 KiB, 1,024 of 4 KiB', () => {
    const wide = files(data)
    // 65 scattered pages, one more than kept: the first is fetched again
    for (let i = 0; i <= MAX_CACHED_PAGES; i++) wide.lazy.read(i, data.length, 0, 1)
    wide.lazy.read(0, data.length, 0, 1)
    expect(wide.reads).toHaveLength(MAX_CACHED_PAGES + 2)
    const narrow = files(data)
    for (let i = 0; i <= MAX_CACHED_PAGES; i++) narrow.lazy.read(i, data.length, 0, 1, 4096)
    narrow.lazy.read(0, data.length, 0, 1, 4096)
    expect(narrow.reads).toHaveLength(MAX_CACHED_PAGES + 1)
  })

  it('a lazy file names a page of a power of two from 4 to 64 KiB, or none', () => {
    const tree = (page: unknown): Preopen[] => [{ guest: '/d', tree: { kind: 'dir', entries: { f: { kind: 'lazy', size: 10, id: 0, page } as never } } }]
    for (const page of [4096, 8192, 65_536, undefined]) expect(parsePreopens(tree(page))).toHaveLength(1)
    for (const page of [2048, 5000, 131_072, '4096', -4096]) expect(code(() => parsePreopens(tree(page)))).toBe('INVALID_ARGUMENT')
  })
})

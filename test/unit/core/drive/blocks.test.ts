import { describe, expect, it } from 'vitest'
import { checkBlockSize, filePage, toBlocks } from '../../../../src/core/drive/index.ts'
import { ShadwError } from '../../../../src/core/errors.ts'

async function lengths (chunks: number[], size: number): Promise<{ lengths: number[], bytes: Uint8Array }> {
  let n = 0
  const source = chunks.map(len => Uint8Array.from({ length: len }, () => n++ & 0xff))
  const out: Uint8Array[] = []
  for await (const b of toBlocks(source, size)) out.push(b.slice())
  return { lengths: out.map(b => b.length), bytes: Buffer.concat(out) }
}

describe('the blocks a drive file is written in', () => {
  it('cuts any chunks into blocks of one size, the last shorter, bytes in order', async () => {
    const r = await lengths([256 * 1024, 1000, 3, 0, 70_000], 64 * 1024)
    expect(r.lengths).toEqual([65_536, 65_536, 65_536, 65_536, 65_536, 5467])
    expect(r.bytes.length).toBe(256 * 1024 + 71_003)
    expect(r.bytes.every((b, i) => b === (i & 0xff))).toBe(true)
    expect((await lengths([100, 100], 4096)).lengths).toEqual([200])
    expect((await lengths([], 4096)).lengths).toEqual([])
  })

  it('a block size is a power of two from 4 to 64 KiB', () => {
    for (const n of [4096, 16_384, 65_536]) expect(checkBlockSize(n)).toBe(n)
    for (const n of [2048, 5000, 131_072, 1.5]) {
      let caught: unknown
      try { checkBlockSize(n) } catch (err) { caught = err }
      expect((caught as ShadwError).code).toBe('INVALID_ARGUMENT')
    }
  })

  it('a mounted file is read in pages of its block size when written in blocks of at most 32 KiB, in 64 KiB pages otherwise', () => {
    expect(filePage(1024 * 1024, 256)).toBe(4096)
    expect(filePage(1024 * 1024 + 1, 257)).toBe(4096)
    expect(filePage(1024 * 1024, 64)).toBe(16_384)
    // 64 KiB blocks with any tail, one-block files, empty files: the default
    expect(filePage(64 * 1024 + 1, 2)).toBe(undefined)
    expect(filePage(10 * 64 * 1024, 10)).toBe(undefined)
    expect(filePage(3000, 1)).toBe(undefined)
    expect(filePage(0, 0)).toBe(undefined)
  })
})

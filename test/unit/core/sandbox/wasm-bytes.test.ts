import { describe, expect, it } from 'vitest'
import { ByteReader, ByteWriter } from '../../../../src/core/sandbox/wasm-bytes.ts'

describe('LEB128', () => {
  it('round-trips unsigned 32-bit values', () => {
    for (const n of [0, 1, 127, 128, 300, 2 ** 31, 0xffffffff]) {
      const w = new ByteWriter(4)
      w.u32(n)
      expect(new ByteReader(w.finish()).u32()).toBe(n)
    }
  })

  it('encodes signed values as the spec does', () => {
    const enc = (n: number): number[] => { const w = new ByteWriter(4); w.sleb(n); return [...w.finish()] }
    expect(enc(0)).toEqual([0x00])
    expect(enc(63)).toEqual([0x3f])
    expect(enc(64)).toEqual([0xc0, 0x00])
    expect(enc(-1)).toEqual([0x7f])
    expect(enc(-65)).toEqual([0xbf, 0x7f])
  })

  it('reads negative s33 block types', () => {
    expect(new ByteReader(Uint8Array.of(0x7f)).s33()).toBe(-1)
    expect(new ByteReader(Uint8Array.of(0x05)).s33()).toBe(5)
  })

  it('refuses u32 values that overflow or never end', () => {
    expect(() => new ByteReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x1f)).u32()).toThrow(/INVALID_MODULE/)
    expect(() => new ByteReader(Uint8Array.of(0x80, 0x80)).u32()).toThrow(/INVALID_MODULE: unexpected end/)
  })
})

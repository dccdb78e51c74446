import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { decodeErasure, encodeErasure, expansion, parseScheme, signErasurePin, verifyErasurePin, type ErasureScheme } from '../../../../src/core/pinning/index.ts'
import { reedSolomon } from '../../../../src/super-node/reed-solomon-node.ts'

const rs = reedSolomon()

function bytesOf (n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n)
  let x = seed
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; b[i] = x >>> 24 }
  return b
}

/** Every subset of {0..n-1} with at most `max` members. */
function subsets (n: number, max: number): number[][] {
  const out: number[][] = [[]]
  const grow = (from: number, cur: number[]): void => {
    for (let i = from; i < n; i++) {
      const next = [...cur, i]
      out.push(next)
      if (next.length < max) grow(i + 1, next)
    }
  }
  grow(0, [])
  return out
}

describe('erasure coding', () => {
  for (const scheme of [{ k: 4, m: 2 }, { k: 10, m: 5 }] as ErasureScheme[]) {
    it(`rebuilds exactly under every pattern of at most M losses in a stripe (${scheme.k}+${scheme.m})`, () => {
      // a full stripe and a short second, in small shards so every pattern runs quickly
      const shardBytes = 32
      const data = bytesOf(scheme.k * shardBytes + 37, scheme.k)
      const { layout, stripes, commitments } = encodeErasure(rs, data, scheme, shardBytes, shardBytes)
      expect(stripes.length).toBe(2)
      const patterns = subsets(scheme.k + scheme.m, scheme.m)
      expect(patterns.length).toBe(scheme.m === 2 ? 22 : 4944)
      for (const lost of patterns) {
        // the pattern hits stripe 0; the short stripe 1 loses the mirrored pattern
        const out = decodeErasure(rs, layout, commitments, (s, i) =>
          (s === 0 && lost.includes(i)) || (s === 1 && lost.includes(scheme.k + scheme.m - 1 - i)) ? null : stripes[s]![i]!)
        expect(Buffer.compare(out, data), `lost ${lost.join(',')}`).toBe(0)
      }
    }, 120_000)
  }

  it('M+1 losses give STRIPE_LOST naming the stripe; a corrupted shard counts as lost', () => {
    const scheme = { k: 4, m: 2 }
    const data = bytesOf(4 * 64 * 3, 9)
    const { layout, stripes, commitments } = encodeErasure(rs, data, scheme, 64, 16)
    for (const lost of subsets(6, 3).filter(p => p.length === 3)) {
      expect(() => decodeErasure(rs, layout, commitments, (s, i) => s === 2 && lost.includes(i) ? null : stripes[s]![i]!))
        .toThrow(expect.objectContaining({ code: 'STRIPE_LOST', details: expect.objectContaining({ stripe: 2, live: 3 }) }))
    }
    // two missing and one flipped byte: three bad shards in stripe 0
    const bent = stripes[0]![5]!.slice()
    bent[3] = (bent[3] as number) ^ 1
    expect(() => decodeErasure(rs, layout, commitments, (s, i) => s === 0 && i < 2 ? null : s === 0 && i === 5 ? bent : stripes[s]![i]!))
      .toThrow(expect.objectContaining({ code: 'STRIPE_LOST', details: expect.objectContaining({ stripe: 0 }) }))
    // two missing and one flipped: still exact when only two are bad
    expect(Buffer.compare(decodeErasure(rs, layout, commitments, (s, i) => s === 0 && i === 0 ? null : s === 0 && i === 5 ? bent : stripes[s]![i]!), data)).toBe(0)
  })

  it('handles empty and tiny inputs and the default 64 KiB shards', () => {
    for (const n of [0, 1, 3, 5, 4 * 65536 + 1]) {
      const data = bytesOf(n, n + 1)
      const { layout, stripes, commitments } = encodeErasure(rs, data)
      expect(Buffer.compare(decodeErasure(rs, layout, commitments, (s, i) => i === 0 || i === 3 ? null : stripes[s]![i]!), data)).toBe(0)
    }
  })

  it('reconstructs many times without the wasm memory growing (the flags are freed once, by the wasm)', () => {
    const size = 4096
    const buf = new Uint8Array(size * 6).map((_, i) => i < size * 4 ? i * 7 : 0)
    rs.encode(buf, 4, 2)
    const before = rs.memoryBytes
    for (let j = 0; j < 3000; j++) {
      const b2 = buf.slice()
      b2.fill(0, (j % 4) * size, (j % 4 + 1) * size)
      expect(rs.reconstruct(b2, 4, 2, [0, 1, 2, 3, 4, 5].map(i => i !== j % 4))).toBe(true)
      if (j % 500 === 0) expect(Buffer.compare(b2, buf)).toBe(0)
    }
    expect(rs.memoryBytes).toBe(before)
  })

  it('parses K+M and reports the expansion', () => {
    expect(parseScheme('4+2')).toEqual({ k: 4, m: 2 })
    expect(expansion(parseScheme('10+5'))).toBe(1.5)
    for (const bad of ['4', '0+2', '4+0', '40+40', 'a+b', '4+2+1']) expect(() => parseScheme(bad)).toThrow(expect.objectContaining({ code: 'ERASURE_INVALID' }))
  })

  it('signs the pin record; any change to a commitment breaks it', () => {
    const keyPair = crypto.keyPair()
    const { layout, commitments } = encodeErasure(rs, bytesOf(1000, 3), { k: 4, m: 2 }, 64, 16)
    const pin = signErasurePin({ drive: 'ab'.repeat(32), version: 7, layout, stripes: commitments, time: 1 }, keyPair)
    expect(verifyErasurePin(JSON.parse(JSON.stringify(pin)))).toEqual(pin)
    const forged = structuredClone(pin)
    forged.stripes[1]!.shards[2] = 'ee'.repeat(32)
    expect(() => verifyErasurePin(forged)).toThrow(expect.objectContaining({ code: 'ERASURE_INVALID' }))
    const resigned = { ...structuredClone(pin), version: 8 }
    expect(() => verifyErasurePin(resigned)).toThrow(expect.objectContaining({ code: 'ERASURE_INVALID' }))
  })
})

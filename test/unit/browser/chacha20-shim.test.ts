import { createRequire } from 'node:module'
import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { Chacha20 } from '../../../src/browser/chacha20-shim.ts'

// the module the browser bundle swaps out, as sodium-javascript uses it in Node
const Original = createRequire(import.meta.url)('chacha20-universal') as new (nonce: Uint8Array, key: Uint8Array, counter?: number) => { update (out: Uint8Array, input: Uint8Array): void, final (): void }

describe('chacha20 shim', () => {
  it('gives chacha20-universal\'s keystream for IETF and original nonces, any counter, one call', () => {
    for (const nonceBytes of [12, 8]) {
      for (const counter of [0, 1, 2, 1000]) {
        for (const size of [0, 1, 63, 64, 65, 1100, 16 * 1024 + 41]) {
          const key = randomBytes(32)
          const nonce = randomBytes(nonceBytes)
          const input = randomBytes(size)
          const want = new Uint8Array(size)
          const got = new Uint8Array(size)
          const a = new Original(nonce, key, counter)
          a.update(want, input)
          a.final()
          const b = new Chacha20(nonce, key, counter)
          b.update(got, input)
          b.final()
          expect(Buffer.from(got).equals(Buffer.from(want)), `nonce ${nonceBytes} B, counter ${counter}, ${size} B`).toBe(true)
        }
      }
    }
  })

  it('continues mid-block across updates as the original does', () => {
    const key = randomBytes(32)
    const nonce = randomBytes(12)
    const input = randomBytes(5000)
    const want = new Uint8Array(input.byteLength)
    const original = new Original(nonce, key, 1)
    original.update(want, input)
    const shim = new Chacha20(nonce, key, 1)
    const got = new Uint8Array(input.byteLength)
    // piece sizes that start and end inside blocks, at block edges and across several blocks
    const pieces = [1, 62, 1, 64, 130, 7, 200, 3]
    let at = 0
    for (let i = 0; at < input.byteLength; i++) {
      const n = Math.min(pieces[i % pieces.length] as number, input.byteLength - at)
      shim.update(got.subarray(at, at + n), input.subarray(at, at + n))
      at += n
    }
    expect(Buffer.from(got).equals(Buffer.from(want))).toBe(true)
  })

  it('refuses a short output, a bad key or nonce, and use after final', () => {
    const key = randomBytes(32)
    const nonce = randomBytes(12)
    expect(() => new Chacha20(nonce, randomBytes(16))).toThrow(/key/)
    expect(() => new Chacha20(randomBytes(24), key)).toThrow(/nonce/)
    const c = new Chacha20(nonce, key)
    expect(() => { c.update(new Uint8Array(3), new Uint8Array(4)) }).toThrow(/shorter/)
    c.final()
    expect(() => { c.update(new Uint8Array(4), new Uint8Array(4)) }).toThrow(/finalized/)
  })
})

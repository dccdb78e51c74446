/**
 * The one two-pass encoder and the one domain-separated signature every signed record uses:
 * the exact bytes they give, since receipts, ledgers and registries written before are read
 * with them.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { encodeFields, put } from '../../../src/core/encoding.ts'
import { SignatureDomain } from '../../../src/core/signature-domain.ts'

describe('encodeFields', () => {
  it('measures, allocates exactly, then writes: the bytes compact-encoding gives field by field', () => {
    const bytes = encodeFields((s, pre) => {
      put(s, pre, c.uint8, 0xa1)
      put(s, pre, c.uint, 300)
      put(s, pre, c.string, 'hé')
      put(s, pre, c.fixed32, new Uint8Array(32).fill(7))
    })
    expect(b4a.toString(bytes, 'hex')).toBe('a1fd2c0103' + '68c3a9' + '07'.repeat(32))
    expect(bytes.buffer.byteLength).toBe(bytes.byteLength)
  })

  it('returns a plain Uint8Array, never a Node Buffer', () => {
    const bytes = encodeFields((s, pre) => { put(s, pre, c.uint, 1) })
    expect(Object.getPrototypeOf(bytes)).toBe(Uint8Array.prototype)
  })

  it('leaves `tail` zero bytes after the encoding, in the same buffer, outside the result', () => {
    const bytes = encodeFields((s, pre) => { put(s, pre, c.uint, 0xffff) }, 5)
    expect(b4a.toString(bytes, 'hex')).toBe('fdffff')
    expect(b4a.toString(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength + 5), 'hex')).toBe('fdffff' + '00'.repeat(5))
  })
})

describe('SignatureDomain', () => {
  const kp = crypto.keyPair(new Uint8Array(32).fill(3))
  const body = b4a.from('body')
  const domain = new SignatureDomain('shadw/test/v1')

  it('signs domain ‖ 0 ‖ body', () => {
    expect(b4a.toString(domain.message(body))).toBe('shadw/test/v1\0body')
    expect(b4a.toString(domain.sign(body, kp.secretKey), 'hex')).toBe(b4a.toString(crypto.sign(b4a.from('shadw/test/v1\0body'), kp.secretKey), 'hex'))
    expect(domain.verify(body, domain.sign(body, kp.secretKey), kp.publicKey)).toBe(true)
  })

  it('never accepts a signature made under another domain, over another body or by another key', () => {
    const signature = domain.sign(body, kp.secretKey)
    expect(new SignatureDomain('shadw/other/v1').verify(body, signature, kp.publicKey)).toBe(false)
    expect(domain.verify(b4a.from('bodz'), signature, kp.publicKey)).toBe(false)
    expect(domain.verify(body, signature, crypto.keyPair(new Uint8Array(32).fill(4)).publicKey)).toBe(false)
  })

  it('answers false, not an exception, for a signature or key of the wrong size', () => {
    const signature = domain.sign(body, kp.secretKey)
    expect(domain.verify(body, signature.subarray(0, 63), kp.publicKey)).toBe(false)
    expect(domain.verify(body, signature, kp.publicKey.subarray(0, 31))).toBe(false)
  })
})

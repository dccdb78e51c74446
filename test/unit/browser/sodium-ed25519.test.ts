import { describe, expect, it } from 'vitest'
import { ed25519 } from '@noble/curves/ed25519'
import { createRequire } from 'node:module'
// sodium-native under Node
import sodiumNative from 'sodium-universal'
import { signDetached, useFastEd25519, verifyDetached, type SodiumSign } from '../../../src/browser/sodium-ed25519.ts'

/** libsodium's answers (sodium-native), which the browser's must equal. */
const sodiumJs = createRequire(import.meta.url)('sodium-javascript') as SodiumSign
const native = sodiumNative as unknown as SodiumSign & { crypto_sign_keypair: (pk: Uint8Array, sk: Uint8Array) => void }
const Point = ed25519.ExtendedPoint
const L = ed25519.CURVE.n

function keyPair (): { pk: Uint8Array, sk: Uint8Array } {
  const pk = new Uint8Array(32)
  const sk = new Uint8Array(64)
  native.crypto_sign_keypair(pk, sk)
  return { pk, sk }
}

const le = (n: bigint): Uint8Array => { const out = new Uint8Array(32); for (let i = 0; i < 32; i++) { out[i] = Number(n & 0xffn); n >>= 8n } return out }
const numberLE = (b: Uint8Array): bigint => { let n = 0n; for (let i = b.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(b[i] as number); return n }
const mod = (n: bigint): bigint => ((n % L) + L) % L
const cat = (...parts: Uint8Array[]): Uint8Array => { const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0)); let o = 0; for (const p of parts) { out.set(p, o); o += p.length } return out }
const k = (r: Uint8Array, pk: Uint8Array, m: Uint8Array): bigint => mod(numberLE(ed25519.CURVE.hash(cat(r, pk, m))))

/** Both verifiers' answers for one signature. */
function both (sig: Uint8Array, m: Uint8Array, pk: Uint8Array): [boolean, boolean] {
  return [verifyDetached(sig, m, pk), native.crypto_sign_verify_detached(sig, m, pk)]
}

describe('Ed25519 for the browser\'s sodium', () => {
  it('signs to the same bytes as libsodium, and each verifies the other\'s', () => {
    for (let i = 0; i < 20; i++) {
      const { pk, sk } = keyPair()
      const m = crypto.getRandomValues(new Uint8Array(i * 37))
      const ours = new Uint8Array(64)
      const theirs = new Uint8Array(64)
      signDetached(ours, m, sk)
      native.crypto_sign_detached(theirs, m, sk)
      expect(ours).toEqual(theirs)
      expect(both(ours, m, pk)).toEqual([true, true])
    }
  })

  it('refuses what libsodium refuses: another message, a flipped bit, a non-canonical S', () => {
    const { pk, sk } = keyPair()
    const m = new TextEncoder().encode('receipt')
    const sig = new Uint8Array(64)
    native.crypto_sign_detached(sig, m, sk)
    expect(both(sig, new TextEncoder().encode('receipT'), pk)).toEqual([false, false])
    for (const bit of [0, 100, 255, 300, 511]) {
      const bad = sig.slice()
      bad[bit >> 3] = (bad[bit >> 3] as number) ^ (1 << (bit & 7))
      expect(both(bad, m, pk)).toEqual([false, false])
    }
    // S + L verifies in the group equation but is not the canonical scalar
    const s = numberLE(sig.subarray(32)) + L
    expect(s < 2n ** 256n).toBe(true)
    expect(both(cat(sig.subarray(0, 32), le(s)), m, pk)).toEqual([false, false])
    // libsodium throws on a short signature; ours refuses it
    expect(verifyDetached(sig.subarray(0, 63), m, pk)).toBe(false)
  })

  it('refuses a small-order key and a small-order R, which TweetNaCl (sodium-javascript) accepts', () => {
    const m = new TextEncoder().encode('anything at all')
    // A = the identity: [k]A vanishes, so R = [s]B "verifies" for every message
    const identity = Point.ZERO.toRawBytes()
    const s = 12345n
    const forged = cat(Point.BASE.multiply(s).toRawBytes(), le(s))
    expect(both(forged, m, identity)).toEqual([false, false])
    expect(sodiumJs.crypto_sign_verify_detached(forged, m, identity)).toBe(true)
    // R = the identity, signed by the key's owner: s = k·a
    const seed = crypto.getRandomValues(new Uint8Array(32))
    const { scalar: a, pointBytes: pk } = ed25519.utils.getExtendedPublicKey(seed)
    const sR = cat(identity, le(mod(k(identity, pk, m) * a)))
    expect(both(sR, m, pk)).toEqual([false, false])
  })

  it('checks cofactorless as libsodium does: a key with a torsion part verifies only when k·T vanishes', () => {
    const seed = crypto.getRandomValues(new Uint8Array(32))
    const { scalar: a, point: A } = ed25519.utils.getExtendedPublicKey(seed)
    // a point of order 8 (a generator of the torsion subgroup)
    const T = Point.fromHex('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a')
    expect(T.isSmallOrder()).toBe(true)
    const mixed = A.add(T).toRawBytes()
    let agreed = 0
    for (let i = 0; i < 24; i++) {
      const m = new TextEncoder().encode(`message ${i}`)
      const r = mod(numberLE(crypto.getRandomValues(new Uint8Array(64))))
      const R = Point.BASE.multiply(r).toRawBytes()
      const sig = cat(R, le(mod(r + k(R, mixed, m) * a)))
      const [ours, theirs] = both(sig, m, mixed)
      expect(ours).toBe(theirs)
      if (!theirs) agreed++
    }
    // most of these fail cofactorless (k·T ≠ 0 unless 8 | k), where a cofactored check passes all
    expect(agreed).toBeGreaterThan(0)
  })

  it('goes into a sodium module in place of its own', () => {
    const target: SodiumSign = { crypto_sign_detached: () => { throw new Error('old') }, crypto_sign_verify_detached: () => { throw new Error('old') } }
    useFastEd25519(target)
    const { pk, sk } = keyPair()
    const sig = new Uint8Array(64)
    target.crypto_sign_detached(sig, new Uint8Array(3), sk)
    expect(target.crypto_sign_verify_detached(sig, new Uint8Array(3), pk)).toBe(true)
  })
})

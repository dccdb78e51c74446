import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../src/core/errors.ts'
import {
  canonicalJson, decodeManifest, decodeSignedManifest, encodeManifest, encodeSignedManifest, openTombstone,
  parseFunctionRef, resolveRange, signManifest, signTombstone
} from '../../../src/registry/index.ts'
import { wat } from '../../fixtures/wasm/fixtures.ts'
import { manifestFor, publisher } from './helpers.ts'

function code (fn: () => unknown): string | undefined {
  try { fn() } catch (err) { return (err as ShadwError).code }
  return undefined
}

const LIT_CONDITIONS = [{
  conditionType: 'evmBasic',
  contractAddress: '',
  standardContractType: '',
  chain: 'ethereum',
  method: 'eth_getBalance',
  parameters: [':userAddress', 'latest'],
  returnValueTest: { value: '1000000000000', comparator: '>=' }
}]

describe('manifest encoding', () => {
  it('round-trips every field through the canonical encoding', async () => {
    const p = publisher()
    const m = await manifestFor(await wat('echo'), p.hex, { access: LIT_CONDITIONS })
    const body = encodeManifest(m)
    expect(decodeManifest(body)).toEqual(m)
  })

  it('encodes the same manifest to the same bytes regardless of key order', async () => {
    const p = publisher()
    const m = await manifestFor(await wat('echo'), p.hex, { access: LIT_CONDITIONS })
    const shuffled = Object.fromEntries(Object.entries(m).reverse()) as typeof m
    shuffled.access = [Object.fromEntries(Object.entries(LIT_CONDITIONS[0] as object).reverse())]
    expect(b4a.equals(encodeManifest(shuffled), encodeManifest(m))).toBe(true)
    expect(canonicalJson({ b: 1, a: [true, null, 'x'] })).toBe('{"a":[true,null,"x"],"b":1}')
  })

  it('starts with the encoding version and refuses unknown versions, trailing bytes and non-canonical integers', async () => {
    const p = publisher()
    const body = encodeManifest(await manifestFor(await wat('echo'), p.hex))
    expect(body[0]).toBe(1)
    const v2 = b4a.from(body); v2[0] = 2
    expect(code(() => decodeManifest(v2))).toBe('MANIFEST_INVALID')
    expect(code(() => decodeManifest(b4a.concat([body, b4a.from([0])])))).toBe('MANIFEST_INVALID')
    expect(code(() => decodeManifest(body.subarray(0, body.length - 1)))).toBe('MANIFEST_INVALID')
    expect(code(() => decodeManifest(new Uint8Array(0)))).toBe('MANIFEST_INVALID')
  })

  it('refuses bad names, versions, ABIs, hashes and non-JSON access conditions', async () => {
    const p = publisher()
    const m = await manifestFor(await wat('echo'), p.hex)
    expect(code(() => encodeManifest({ ...m, name: 'Up/per' }))).toBe('MANIFEST_INVALID')
    expect(code(() => encodeManifest({ ...m, version: '1.2' }))).toBe('MANIFEST_INVALID')
    expect(code(() => encodeManifest({ ...m, version: '1.2.3+build' }))).toBe('MANIFEST_INVALID')
    expect(code(() => encodeManifest({ ...m, abi: 'wasm32' as 'raw' }))).toBe('MANIFEST_INVALID')
    expect(code(() => encodeManifest({ ...m, moduleHash: 'zz' }))).toBe('MANIFEST_INVALID')
    expect(code(() => encodeManifest({ ...m, access: [{ x: Infinity }] }))).toBe('MANIFEST_INVALID')
    expect(code(() => encodeManifest({ ...m, limits: { ...m.limits, fuel: -1 } }))).toBe('MANIFEST_INVALID')
    // the publisher's price is bounded like an executor's base (docs/pricing.md), so every total stays a safe integer
    expect(code(() => encodeManifest({ ...m, price: { ...m.price, base: 1_000_000_001 } }))).toBe('MANIFEST_INVALID')
    expect(encodeManifest({ ...m, price: { ...m.price, base: 1_000_000_000 } })).toBeInstanceOf(Uint8Array)
  })

  it('stores a signed manifest as an envelope that decodes to the same manifest and signature', async () => {
    const p = publisher()
    const signed = signManifest(await manifestFor(await wat('echo'), p.hex), p.secretKey)
    const back = decodeSignedManifest(encodeSignedManifest(signed))
    expect(back.manifest).toEqual(signed.manifest)
    expect(b4a.equals(back.signature, signed.signature)).toBe(true)
    expect(signed.signature.byteLength).toBe(64)
  })
})

describe('tombstones', () => {
  it('open only under the publisher that signed them', () => {
    const p = publisher(1)
    const other = publisher(2)
    const stored = signTombstone({ name: 'echo', version: '1.0.0', publisher: p.hex, yankedAt: 5, reason: 'CVE' }, p.secretKey)
    expect(openTombstone(stored, p.hex).tombstone).toEqual({ name: 'echo', version: '1.0.0', publisher: p.hex, yankedAt: 5, reason: 'CVE' })
    expect(code(() => openTombstone(stored, other.hex))).toBe('SIGNATURE_INVALID')
    const forged = signTombstone({ name: 'echo', version: '1.0.0', publisher: p.hex, yankedAt: 5, reason: 'CVE' }, other.secretKey)
    expect(code(() => openTombstone(forged, p.hex))).toBe('SIGNATURE_INVALID')
  })
})

describe('function refs', () => {
  const key = 'a'.repeat(64)
  it('parse publisher, name and range, with * when the range is left out', () => {
    expect(parseFunctionRef(`${key}/upper@^1.2`)).toEqual({ publisher: key, name: 'upper', range: '^1.2' })
    expect(parseFunctionRef(`${key}/upper`)).toEqual({ publisher: key, name: 'upper', range: '*' })
  })

  it('refuse malformed refs with INVALID_FUNCTION_REF', () => {
    for (const bad of ['upper@1', `${key}/Upper@1`, `${key}/upper@not a range!`, `${key.slice(2)}/upper`, 42]) {
      expect(code(() => parseFunctionRef(bad))).toBe('INVALID_FUNCTION_REF')
    }
  })

  it('resolve to the highest matching version, skipping yanked ones and pre-releases', () => {
    const versions = ['1.0.0', '1.4.0', '1.10.0', '2.0.0', '1.11.0-beta.1']
    expect(resolveRange(versions, '^1')).toBe('1.10.0')
    expect(resolveRange(versions, '^1', new Set(['1.10.0']))).toBe('1.4.0')
    expect(resolveRange(versions, '~1.4')).toBe('1.4.0')
    expect(resolveRange(versions, '*')).toBe('2.0.0')
    expect(resolveRange(versions, '^3')).toBe(null)
  })
})

describe('local aliases', () => {
  const key = 'b'.repeat(64)
  const aliases = { up: `${key}/upper`, pinned: `${key}/upper@~1.2` }
  it('expand a short name to its reference, a range given with the alias replacing the alias\'s own', async () => {
    const { parseRefOrAlias } = await import('../../../src/registry/index.ts')
    expect(parseRefOrAlias('up', aliases)).toEqual({ publisher: key, name: 'upper', range: '*' })
    expect(parseRefOrAlias('up@^2', aliases)).toEqual({ publisher: key, name: 'upper', range: '^2' })
    expect(parseRefOrAlias('pinned', aliases)).toEqual({ publisher: key, name: 'upper', range: '~1.2' })
    expect(parseRefOrAlias(`${key}/other@1`, aliases)).toEqual({ publisher: key, name: 'other', range: '1' })
    expect(code(() => parseRefOrAlias('nope', aliases))).toBe('INVALID_FUNCTION_REF')
    expect(code(() => parseRefOrAlias('toString', aliases))).toBe('INVALID_FUNCTION_REF')
  })
})

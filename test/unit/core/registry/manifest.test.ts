import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import c from 'compact-encoding'
import { canonicalJson, decodeManifest, decodeSignedManifest, encodeManifest, encodeSignedManifest, openTombstone, parseFunctionRef, resolveRange, signManifest, signTombstone, verifyManifest } from '../../../../src/core/registry/index.ts'
import { MAX_AUTH_DOMAINS } from '../../../../src/core/registry/manifest.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
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

describe('auth domains (body version 2)', () => {
  const DOMAINS = ['app.shadw.test', '127.0.0.1:8080', '[::1]:4000', 'localhost:5173']

  /** A version 2 body with `domains` appended as written, unchecked: what a hostile peer could store. */
  function withDomains (v1Body: Uint8Array, domains: string[], count = domains.length): Uint8Array {
    const state = c.state()
    c.uint.preencode(state, count)
    for (const d of domains) c.string.preencode(state, d)
    state.buffer = b4a.alloc(state.end)
    c.uint.encode(state, count)
    for (const d of domains) c.string.encode(state, d)
    const body = b4a.concat([v1Body, state.buffer])
    body[0] = 2
    return body
  }

  it('are signed in a version 2 body, sorted and without duplicates; a manifest without them keeps its version 1 bytes', async () => {
    const p = publisher()
    const v1 = await manifestFor(await wat('echo'), p.hex, { access: LIT_CONDITIONS })
    const v1Body = encodeManifest(v1)
    expect(v1Body[0]).toBe(1)
    const m = { ...v1, authDomains: [...DOMAINS, 'app.shadw.test'] }
    const body = encodeManifest(m)
    expect(body[0]).toBe(2)
    const back = decodeManifest(body)
    expect(back.authDomains).toEqual(['127.0.0.1:8080', '[::1]:4000', 'app.shadw.test', 'localhost:5173'])
    expect(b4a.equals(body, withDomains(v1Body, back.authDomains ?? []))).toBe(true)
    expect(decodeManifest(v1Body)).toEqual(v1)
    expect('authDomains' in decodeManifest(v1Body)).toBe(false)
  })

  it('refuse bad lists with MANIFEST_INVALID naming the field', async () => {
    const p = publisher()
    const m = await manifestFor(await wat('echo'), p.hex, { access: LIT_CONDITIONS })
    const bad: unknown[] = [
      [], 'app.shadw.test', [42], [''], ['App.shadw.test'], ['https://app.shadw.test'], ['app.shadw.test/'], ['app.shadw.test:0'],
      ['app.shadw.test:65536'], ['app.shadw.test:080'], ['*.shadw.test'], ['user@app.shadw.test'], ['-app.shadw.test'],
      ['app..shadw.test'], ['app.shadw.test.'], [`${'a'.repeat(64)}.test`], [`${'a.'.repeat(128)}test`], ['[::1'], ['app.shadw.test '],
      Array.from({ length: MAX_AUTH_DOMAINS + 1 }, (_, i) => `app${i}.shadw.test`)
    ]
    for (const authDomains of bad) {
      let err: ShadwError | undefined
      try { encodeManifest({ ...m, authDomains: authDomains as string[] }) } catch (e) { err = e as ShadwError }
      expect([JSON.stringify(authDomains).slice(0, 40), err?.code, String(err?.details?.['field']).slice(0, 11)]).toEqual([JSON.stringify(authDomains).slice(0, 40), 'MANIFEST_INVALID', 'authDomains'])
    }
    expect(encodeManifest({ ...m, authDomains: Array.from({ length: MAX_AUTH_DOMAINS }, (_, i) => `app${i}.shadw.test:${65_535 - i}`) })[0]).toBe(2)
    // a public function checks no auth: a list there would promise a restriction that does not exist
    expect(code(() => encodeManifest({ ...m, access: [], authDomains: ['app.shadw.test'] }))).toBe('MANIFEST_INVALID')
  })

  it('decode only in their canonical form: sorted, distinct, non-empty, bounded before reading', async () => {
    const p = publisher()
    const v1Body = encodeManifest(await manifestFor(await wat('echo'), p.hex, { access: LIT_CONDITIONS }))
    expect(decodeManifest(withDomains(v1Body, ['a.test', 'b.test'])).authDomains).toEqual(['a.test', 'b.test'])
    expect(code(() => decodeManifest(withDomains(v1Body, ['b.test', 'a.test'])))).toBe('MANIFEST_INVALID')
    expect(code(() => decodeManifest(withDomains(v1Body, ['a.test', 'a.test'])))).toBe('MANIFEST_INVALID')
    expect(code(() => decodeManifest(withDomains(v1Body, [])))).toBe('MANIFEST_INVALID')
    expect(code(() => decodeManifest(withDomains(v1Body, ['A.test'])))).toBe('MANIFEST_INVALID')
    expect(code(() => decodeManifest(withDomains(v1Body, ['a.test'], 2 ** 32)))).toBe('MANIFEST_INVALID')
    expect(code(() => decodeManifest(withDomains(v1Body, ['a.test'], 2)))).toBe('MANIFEST_INVALID')
    // a version 1 body followed by a list: trailing bytes
    const v1WithList = withDomains(v1Body, ['a.test']); v1WithList[0] = 1
    expect(code(() => decodeManifest(v1WithList))).toBe('MANIFEST_INVALID')
  })

  it('are covered by the publisher\'s signature: a rewritten, added or dropped list is SIGNATURE_INVALID', async () => {
    const p = publisher()
    const m = await manifestFor(await wat('echo'), p.hex, { access: LIT_CONDITIONS, authDomains: ['app.shadw.test'] })
    const signed = signManifest(m, p.secretKey)
    expect(verifyManifest(encodeSignedManifest(signed), { registryKey: p.hex }).manifest.authDomains).toEqual(['app.shadw.test'])
    const v1 = { ...m }
    delete v1.authDomains
    for (const body of [encodeManifest({ ...m, authDomains: ['evil.shadw.test'] }), encodeManifest({ ...m, authDomains: ['app.shadw.test', 'evil.shadw.test'] }), encodeManifest(v1)]) {
      expect(code(() => verifyManifest(encodeSignedManifest({ body, signature: signed.signature }), { registryKey: p.hex }))).toBe('SIGNATURE_INVALID')
    }
    // and a list added to a manifest signed without one
    const plain = signManifest(v1, p.secretKey)
    expect(code(() => verifyManifest(encodeSignedManifest({ body: encodeManifest(m), signature: plain.signature }), { registryKey: p.hex }))).toBe('SIGNATURE_INVALID')
    // an edited byte that leaves no valid list: it no longer parses
    const body = b4a.from(signed.body); body[body.length - 2]! = 0x41
    expect(code(() => verifyManifest(encodeSignedManifest({ body, signature: signed.signature }), { registryKey: p.hex }))).toBe('MANIFEST_INVALID')
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
    const { parseRefOrAlias } = await import('../../../../src/core/registry/index.ts')
    expect(parseRefOrAlias('up', aliases)).toEqual({ publisher: key, name: 'upper', range: '*' })
    expect(parseRefOrAlias('up@^2', aliases)).toEqual({ publisher: key, name: 'upper', range: '^2' })
    expect(parseRefOrAlias('pinned', aliases)).toEqual({ publisher: key, name: 'upper', range: '~1.2' })
    expect(parseRefOrAlias(`${key}/other@1`, aliases)).toEqual({ publisher: key, name: 'other', range: '1' })
    expect(code(() => parseRefOrAlias('nope', aliases))).toBe('INVALID_FUNCTION_REF')
    expect(code(() => parseRefOrAlias('toString', aliases))).toBe('INVALID_FUNCTION_REF')
  })
})

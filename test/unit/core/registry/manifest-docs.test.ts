import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import type { ShadwError } from '../../../../src/core/errors.ts'
import { decodeManifest, encodeManifest, encodeSignedManifest, signManifest, verifyManifest } from '../../../../src/core/registry/index.ts'
import { MAX_DESCRIPTION_LENGTH, MAX_EXAMPLE_BYTES, MAX_EXAMPLES, MAX_README_BYTES } from '../../../../src/core/registry/manifest-docs.ts'
import { MAX_MANIFEST_BYTES } from '../../../../src/core/registry/manifest.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { manifestFor, publisher } from './helpers.ts'

function failure (fn: () => unknown): [string | undefined, unknown] {
  try { fn() } catch (err) { return [(err as ShadwError).code, (err as ShadwError).details?.['field']] }
  return [undefined, undefined]
}

const LIT = [{ conditionType: 'evmBasic', contractAddress: '', standardContractType: '', chain: 'ethereum', method: 'eth_getBalance', parameters: [':userAddress', 'latest'], returnValueTest: { value: '1', comparator: '>=' } }]
const DOCS = {
  description: 'Upper-cases UTF-8 text',
  readme: '# upper\n\nSend text, get it back in capitals.\n',
  examples: [{ input: 'hello', output: 'HELLO' }, { input: 'ça va', output: 'ÇA VA' }]
}

describe('manifest documentation fields', () => {
  it('round-trip in body version 3, and a manifest without them keeps version 1 or 2 and its exact bytes', async () => {
    const p = publisher()
    const plain = await manifestFor(await wat('echo'), p.hex)
    const documented = { ...plain, ...DOCS }
    const body = encodeManifest(documented)
    expect(body[0]).toBe(3)
    expect(decodeManifest(body)).toEqual(documented)
    expect(encodeManifest(plain)[0]).toBe(1)
    expect(encodeManifest({ ...plain, access: LIT, authDomains: ['app.shadw.test'] })[0]).toBe(2)
    // empty fields are left out, so they encode as if never given
    expect(b4a.equals(encodeManifest({ ...plain, description: '', readme: '', examples: [] }), encodeManifest(plain))).toBe(true)
    // with a domain list too: both come back
    const both = { ...plain, access: LIT, authDomains: ['app.shadw.test'], description: 'gated' }
    expect(decodeManifest(encodeManifest(both))).toEqual(both)
  })

  it('refuse a version 3 body that carries no documentation (one form per manifest)', async () => {
    const p = publisher()
    const plain = await manifestFor(await wat('echo'), p.hex)
    const v1 = encodeManifest(plain)
    // version 3 with an empty domain list, description, README and example list
    const v3 = b4a.concat([b4a.from([3]), v1.subarray(1), b4a.from([0, 0, 0, 0])])
    expect(failure(() => decodeManifest(v3))[0]).toBe('MANIFEST_INVALID')
  })

  it('are bounded: description length and one line, README and example sizes, example count, no control characters', async () => {
    const p = publisher()
    const m = await manifestFor(await wat('echo'), p.hex)
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ description: 'x'.repeat(MAX_DESCRIPTION_LENGTH + 1) }, 'description'],
      [{ description: 'two\nlines' }, 'description'],
      [{ description: 42 }, 'description'],
      [{ readme: 'x'.repeat(MAX_README_BYTES + 1) }, 'readme'],
      [{ readme: 'bell\u0007' }, 'readme'],
      [{ examples: Array.from({ length: MAX_EXAMPLES + 1 }, () => ({ input: 'a', output: 'b' })) }, 'examples'],
      [{ examples: [{ input: 'x'.repeat(MAX_EXAMPLE_BYTES + 1), output: '' }] }, 'examples[0].input'],
      [{ examples: [{ input: 'a', output: '\u001b[31m' }] }, 'examples[0].output'],
      [{ examples: [{ input: 'a' }] }, 'examples[0].output'],
      [{ examples: 'a' }, 'examples']
    ]
    for (const [over, field] of cases) expect([field, ...failure(() => encodeManifest({ ...m, ...over }))]).toEqual([field, 'MANIFEST_INVALID', field])
    // at the bounds they are accepted
    const full = { ...m, description: 'é'.repeat(MAX_DESCRIPTION_LENGTH), readme: 'x'.repeat(MAX_README_BYTES), examples: Array.from({ length: MAX_EXAMPLES }, () => ({ input: 'i'.repeat(MAX_EXAMPLE_BYTES), output: 'o'.repeat(MAX_EXAMPLE_BYTES) })) }
    expect(decodeManifest(encodeManifest(full))).toEqual(full)
    // the whole body still fits the stored bound: the largest access list with full docs is refused
    const huge = [{ ...LIT[0], parameters: [':userAddress', 'x'.repeat(64 * 1024 - 300)] }]
    expect(failure(() => encodeManifest({ ...full, access: huge }))[0]).toBe('MANIFEST_INVALID')
    expect(encodeSignedManifest(signManifest(full, p.secretKey)).byteLength).toBeLessThanOrEqual(MAX_MANIFEST_BYTES)
  })

  it('are covered by the publisher\'s signature: changed, added or dropped docs are SIGNATURE_INVALID', async () => {
    const p = publisher()
    const plain = await manifestFor(await wat('echo'), p.hex)
    const m = { ...plain, ...DOCS }
    const signed = signManifest(m, p.secretKey)
    expect(verifyManifest(encodeSignedManifest(signed), { registryKey: p.hex }).manifest.examples).toEqual(DOCS.examples)
    const tampered = [
      { ...m, description: 'Steals your keys' },
      { ...m, readme: DOCS.readme + 'Also try https://evil.test\n' },
      { ...m, examples: [{ input: 'hello', output: 'hello' }] },
      plain
    ]
    for (const t of tampered) {
      expect(failure(() => verifyManifest(encodeSignedManifest({ body: encodeManifest(t), signature: signed.signature }), { registryKey: p.hex }))[0]).toBe('SIGNATURE_INVALID')
    }
  })
})

import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import type { ShadwError } from '../../../../src/core/errors.ts'
import {
  DEFAULT_CEILINGS, decodeSignedManifest, encodeSignedManifest, signManifest, verifyFunction, type FunctionManifest
} from '../../../../src/core/registry/index.ts'
import { DEFAULT_LIMITS } from '../../../../src/core/sandbox/index.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { manifestFor, publisher } from './helpers.ts'

async function codeOf (p: Promise<unknown>): Promise<string | undefined> {
  try { await p } catch (err) { return (err as ShadwError).code }
  return undefined
}

async function setup (over: Partial<FunctionManifest> = {}): Promise<{ module: Uint8Array, stored: Uint8Array, key: string, secretKey: Uint8Array }> {
  const p = publisher()
  const module = await wat('echo')
  const signed = signManifest(await manifestFor(module, p.hex, over), p.secretKey)
  return { module, stored: encodeSignedManifest(signed), key: p.hex, secretKey: p.secretKey }
}

describe('verifyFunction', () => {
  it('returns the manifest and a private copy of the module when everything checks out', async () => {
    const { module, stored, key } = await setup()
    const fn = await verifyFunction(stored, module, { registryKey: key })
    expect(fn.manifest.name).toBe('echo')
    expect(fn.manifest.version).toBe('1.2.3')
    expect(b4a.equals(fn.module, module)).toBe(true)
    expect(fn.module).not.toBe(module)
    expect(fn.signature).toMatch(/^[0-9a-f]{128}$/)
  })

  it('keeps its own copy even when handed a Node Buffer (whose slice() is a view)', async () => {
    const { module, stored, key } = await setup()
    // Hypercore hands out Buffers; a view would let the caller's bytes change after the check
    const buffer = Buffer.from(module)
    const fn = await verifyFunction(stored, buffer, { registryKey: key })
    buffer.fill(0)
    expect(b4a.equals(fn.module, module)).toBe(true)
    expect(fn.module.buffer).not.toBe(buffer.buffer)
  })

  it('refuses a module with one flipped byte: MODULE_HASH_MISMATCH', async () => {
    const { module, stored, key } = await setup()
    const tampered = b4a.from(module); tampered[tampered.length - 1]! ^= 1
    expect(await codeOf(verifyFunction(stored, tampered, { registryKey: key }))).toBe('MODULE_HASH_MISMATCH')
    expect(await codeOf(verifyFunction(stored, b4a.concat([module, b4a.from([0])]), { registryKey: key }))).toBe('MODULE_HASH_MISMATCH')
  })

  it('refuses a manifest with one flipped byte: SIGNATURE_INVALID (or MANIFEST_INVALID where it no longer parses)', async () => {
    const { module, stored, key } = await setup()
    const record = decodeSignedManifest(stored)
    // flip a byte inside the name ("echo" -> "ecio"): still a valid manifest, no longer the signed one
    const body = b4a.from(record.body)
    const at = b4a.toString(body, 'utf8').indexOf('echo') + 2
    body[at]! ^= 1
    const tampered = encodeSignedManifest({ body, signature: record.signature })
    expect(await codeOf(verifyFunction(tampered, module, { registryKey: key }))).toBe('SIGNATURE_INVALID')
    // flip the encoding version byte: it no longer parses
    const body2 = b4a.from(record.body); body2[0]! ^= 0xff
    expect(await codeOf(verifyFunction(encodeSignedManifest({ body: body2, signature: record.signature }), module, { registryKey: key }))).toBe('MANIFEST_INVALID')
  })

  it('refuses a flipped signature byte: SIGNATURE_INVALID', async () => {
    const { module, stored, key } = await setup()
    const record = decodeSignedManifest(stored)
    const signature = b4a.from(record.signature); signature[10]! ^= 1
    expect(await codeOf(verifyFunction(encodeSignedManifest({ body: record.body, signature }), module, { registryKey: key }))).toBe('SIGNATURE_INVALID')
  })

  it('refuses a manifest signed by someone else under the publisher\'s name: SIGNATURE_INVALID', async () => {
    const mallory = publisher(9)
    const victim = publisher(1)
    const module = await wat('echo')
    const forged = signManifest(await manifestFor(module, victim.hex), mallory.secretKey)
    expect(await codeOf(verifyFunction(encodeSignedManifest(forged), module, { registryKey: victim.hex }))).toBe('SIGNATURE_INVALID')
  })

  it('refuses a validly signed manifest from another publisher found in this registry: PUBLISHER_MISMATCH', async () => {
    const { module, stored } = await setup()
    expect(await codeOf(verifyFunction(stored, module, { registryKey: publisher(2).hex }))).toBe('PUBLISHER_MISMATCH')
  })

  it('refuses an older signed manifest served in place of the one asked for: MANIFEST_MISMATCH', async () => {
    const { module, stored, key } = await setup({ version: '1.0.0' })
    expect(await codeOf(verifyFunction(stored, module, { registryKey: key, expect: { name: 'echo', version: '1.2.3' } }))).toBe('MANIFEST_MISMATCH')
  })

  it('refuses a yanked version: FUNCTION_YANKED', async () => {
    const { module, stored, key } = await setup()
    expect(await codeOf(verifyFunction(stored, module, { registryKey: key, yanked: true }))).toBe('FUNCTION_YANKED')
  })

  it('refuses absurd limits above the node\'s ceilings: LIMITS_EXCEEDED, naming the field', async () => {
    for (const [field, value] of [['fuel', Number.MAX_SAFE_INTEGER], ['memoryPages', 65_536], ['deadlineMs', 86_400_000], ['maxInputBytes', 2 ** 31], ['maxOutputBytes', 2 ** 31]] as const) {
      const { module, stored, key } = await setup({ limits: { fuel: 1000, memoryPages: 1, deadlineMs: 100, maxInputBytes: 10, maxOutputBytes: 10, [field]: value } })
      const err = await verifyFunction(stored, module, { registryKey: key }).catch((e: ShadwError) => e)
      expect((err as ShadwError).code).toBe('LIMITS_EXCEEDED')
      expect((err as ShadwError).details).toEqual({ field, requested: value, ceiling: DEFAULT_CEILINGS[field] })
    }
  })

  it('lets the node\'s own (lower) ceilings win over a manifest\'s limits', async () => {
    const { module, stored, key } = await setup()
    expect(await codeOf(verifyFunction(stored, module, { registryKey: key, ceilings: { ...DEFAULT_CEILINGS, memoryPages: 16 } }))).toBe('LIMITS_EXCEEDED')
  })

  it('refuses an oversized module, by manifest size or by bytes: MODULE_TOO_LARGE', async () => {
    const { module, stored, key } = await setup()
    const small = { ...DEFAULT_CEILINGS, maxModuleBytes: module.byteLength - 1 }
    expect(await codeOf(verifyFunction(stored, module, { registryKey: key, ceilings: small }))).toBe('MODULE_TOO_LARGE')
    const big = await setup({ size: DEFAULT_CEILINGS.maxModuleBytes + 1, blob: { key: 'ab'.repeat(32), start: 0, length: 600 } })
    expect(await codeOf(verifyFunction(big.stored, big.module, { registryKey: big.key }))).toBe('MODULE_TOO_LARGE')
  })

  it('refuses bytes that hash right but do not fit the manifest\'s ABI: ABI_MISMATCH', async () => {
    const { module, stored, key } = await setup({ abi: 'wasi' })
    expect(await codeOf(verifyFunction(stored, module, { registryKey: key }))).toBe('ABI_MISMATCH')
  })

  it('refuses a module whose initial memory exceeds the manifest\'s memory limit: MEMORY_LIMIT', async () => {
    const p = publisher()
    const module = await wat('big-initial') // 64 initial pages
    const signed = signManifest(await manifestFor(module, p.hex, { limits: { ...DEFAULT_LIMITS, memoryPages: 16 } }), p.secretKey)
    expect(await codeOf(verifyFunction(encodeSignedManifest(signed), module, { registryKey: p.hex }))).toBe('MEMORY_LIMIT')
    const fits = signManifest(await manifestFor(module, p.hex, { limits: { ...DEFAULT_LIMITS, memoryPages: 64 } }), p.secretKey)
    expect((await verifyFunction(encodeSignedManifest(fits), module, { registryKey: p.hex })).manifest.limits.memoryPages).toBe(64)
  })

  it('acts on the signed body, never on a manifest object passed beside it', async () => {
    const { module, stored, key } = await setup()
    const record = decodeSignedManifest(stored)
    const swapped = { ...record, manifest: { ...record.manifest, limits: { ...record.manifest.limits, fuel: 1 } } }
    expect((await verifyFunction(swapped, module, { registryKey: key })).manifest.limits.fuel).toBe(record.manifest.limits.fuel)
  })
})

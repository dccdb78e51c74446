import b4a from 'b4a'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { ShadwError } from '../../../../src/core/errors.ts'
import { createPublisherKeyPair, FunctionLoader, Registry, type ModuleStore } from '../../../../src/core/registry/index.ts'
import { BLOB_BLOCK_BYTES } from '../../../../src/core/registry/registry.ts'
import { createNodeExecutor } from '../../../../src/super-node/executor/index.ts'
import { testnet, testNode } from '../../../helpers/testnet.ts'
import { nodeWithStore, paddedEcho } from '../../../helpers/registry.ts'

async function codeOf (p: Promise<unknown>): Promise<string | undefined> {
  try { await p } catch (err) { return (err as ShadwError).code }
  return undefined
}

describe('registry replication between nodes', () => {
  it('follows a publisher, resolves ^1 to the highest version, fetches only its blocks, verifies and runs it', async () => {
    const net = await testnet()
    const a = await nodeWithStore(net)
    const kp = createPublisherKeyPair()
    const registry = await Registry.create(a.store, kp)
    onTestFinished(async () => { await registry.close() })
    const v100 = await paddedEcho(100_000, 1) // 2 blocks
    const v120 = await paddedEcho(150_000, 2) // 3 blocks
    const v200 = await paddedEcho(10_000, 3) // 1 block
    await registry.publish(v100, { name: 'echo', version: '1.0.0' })
    const signed = await registry.publish(v120, { name: 'echo', version: '1.2.0', limits: { fuel: 5_000_000 } })
    await registry.publish(v200, { name: 'echo', version: '2.0.0' })
    const blobKey = await registry.blobKey() as string
    expect(signed.manifest.blob).toEqual({ key: blobKey, start: 2, length: Math.ceil(v120.byteLength / BLOB_BLOCK_BYTES) })
    await a.node.follow(registry.key)
    await a.node.follow(blobKey)

    const b = await testNode(net)
    const loader = new FunctionLoader({ host: b })
    onTestFinished(async () => { await loader.close() })
    const fn = await loader.load(`${registry.key}/echo@^1`)
    expect(fn.manifest.version).toBe('1.2.0')
    expect(fn.manifest.limits.fuel).toBe(5_000_000)
    expect(fn.source).toBe('blob-log')
    expect(b4a.equals(fn.module, v120)).toBe(true)

    // sparse: blocks 2..4 (this version) are local on B, the other versions' blocks are not
    const local: boolean[] = []
    for (let i = 0; i < 6; i++) local.push(await b.has(blobKey, i))
    expect(local).toEqual([false, false, true, true, true, false])
    expect(b.logInfo(blobKey).length).toBe(6)

    const executor = createNodeExecutor({ size: 1 })
    onTestFinished(async () => { await executor.close() })
    const out = await executor.execute({ module: fn.module, abi: fn.manifest.abi, input: b4a.from('hi'), limits: fn.manifest.limits })
    expect(b4a.toString(out.output)).toBe('hi')
    expect(out.moduleHash).toBe(fn.manifest.moduleHash)
  })

  it('refuses yanked versions for new loads: ranges skip them, exact refs get FUNCTION_YANKED', async () => {
    const net = await testnet()
    const a = await nodeWithStore(net)
    const registry = await Registry.create(a.store, createPublisherKeyPair())
    onTestFinished(async () => { await registry.close() })
    await registry.publish(await paddedEcho(1000, 1), { name: 'echo', version: '1.0.0' })
    await registry.publish(await paddedEcho(1000, 2), { name: 'echo', version: '1.1.0' })
    await registry.publish(await paddedEcho(1000, 3), { name: 'solo', version: '3.0.0' })
    await a.node.follow(registry.key)
    await a.node.follow(await registry.blobKey() as string)

    const b = await testNode(net)
    const loader = new FunctionLoader({ host: b })
    onTestFinished(async () => { await loader.close() })
    expect((await loader.load(`${registry.key}/echo@^1`)).manifest.version).toBe('1.1.0')

    await registry.yank('echo', '1.1.0', 'bad build')
    await registry.yank('solo', '3.0.0')
    await b.waitForLength(registry.key, registry.core.length, 10_000)
    expect((await loader.load(`${registry.key}/echo@^1`)).manifest.version).toBe('1.0.0')
    const err = await loader.load(`${registry.key}/echo@1.1.0`).catch((e: ShadwError) => e)
    expect((err as ShadwError).code).toBe('FUNCTION_YANKED')
    expect((err as ShadwError).message).toContain('bad build')
    expect(await codeOf(loader.load(`${registry.key}/solo@^3`))).toBe('FUNCTION_YANKED')
    expect(await codeOf(loader.load(`${registry.key}/echo@^2`))).toBe('VERSION_NOT_FOUND')
    expect(await codeOf(loader.load(`${registry.key}/nope@^1`))).toBe('FUNCTION_NOT_FOUND')
  })

  it('caches only verified modules by hash, and re-verifies a cache hit', async () => {
    const net = await testnet()
    const a = await nodeWithStore(net)
    const registry = await Registry.create(a.store, createPublisherKeyPair())
    onTestFinished(async () => { await registry.close() })
    const bytes = await paddedEcho(1000, 1)
    const signed = await registry.publish(bytes, { name: 'echo', version: '1.0.0' })
    await a.node.follow(registry.key)
    await a.node.follow(await registry.blobKey() as string)

    const puts: string[] = []
    const map = new Map<string, Uint8Array>()
    const cache: ModuleStore = {
      get: async h => map.get(h) ?? null,
      put: async (h, v) => { puts.push(h); map.set(h, v) }
    }
    const b = await testNode(net)
    const loader = new FunctionLoader({ host: b, cache })
    onTestFinished(async () => { await loader.close() })
    expect((await loader.load(`${registry.key}/echo`)).source).toBe('blob-log')
    expect(puts).toEqual([signed.manifest.moduleHash])
    expect((await loader.load(`${registry.key}/echo`)).source).toBe('cache')
    // a corrupted cache entry is not trusted: the module is fetched and verified again
    const bad = b4a.from(bytes); bad[100]! ^= 1
    map.set(signed.manifest.moduleHash, bad)
    const again = await loader.load(`${registry.key}/echo`)
    expect(again.source).toBe('blob-log')
    expect(b4a.equals(again.module, bytes)).toBe(true)
  })

  it('refuses to publish a version twice, a broken module, or a module that does not fit its ABI', async () => {
    const net = await testnet()
    const a = await nodeWithStore(net)
    const registry = await Registry.create(a.store, createPublisherKeyPair())
    onTestFinished(async () => { await registry.close() })
    const bytes = await paddedEcho(10, 1)
    await registry.publish(bytes, { name: 'echo', version: '1.0.0' })
    expect(await codeOf(registry.publish(bytes, { name: 'echo', version: '1.0.0' }))).toBe('VERSION_EXISTS')
    expect(await codeOf(registry.publish(b4a.from('not wasm'), { name: 'echo', version: '1.0.1' }))).toBe('INVALID_MODULE')
    expect(await codeOf(registry.publish(bytes, { name: 'echo', version: '1.0.1', abi: 'wasi' }))).toBe('ABI_MISMATCH')
    expect(await codeOf(registry.publish(bytes, { name: 'echo', version: '1.0.1', limits: { fuel: -5 } }))).toBe('INVALID_ARGUMENT')
    expect(await codeOf(registry.publish(bytes, { name: 'echo', version: '1.0.1', limits: { memoryPages: 1 } }))).toBe('MEMORY_LIMIT')
    // the same bytes under a new version reuse the blob: nothing new is appended
    const before = a.store.get({ key: b4a.from(await registry.blobKey() as string, 'hex') })
    await before.ready()
    const length = before.length
    const again = await registry.publish(bytes, { name: 'echo', version: '1.0.2' })
    expect(before.length).toBe(length)
    expect(again.manifest.blob.start).toBe(0)
    await before.close()
  })
})

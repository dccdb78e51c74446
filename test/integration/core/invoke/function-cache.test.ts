/**
 * The executor's loaded functions and the registry's growth: the growth a lookup's own sync
 * brought (a first call's) keeps the function it loaded, so the second call runs without a
 * lookup; a registry longer than what a function was resolved at (a yank, a new version)
 * drops it.
 */
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it, onTestFinished } from 'vitest'
import { InvokeService, type RequestMessage } from '../../../../src/core/invoke/index.ts'
import { FunctionCache } from '../../../../src/core/invoke/function-cache.ts'
import { FunctionLoader, type LoadedFunction } from '../../../../src/core/registry/index.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { testnet } from '../../../helpers/testnet.ts'
import { keyedNode, publisher, sharedExecutor } from '../../../helpers/invoke.ts'

describe('loaded functions across calls', () => {
  it('keeps a function through the registry growth it was resolved at, and drops it once the registry grows past that', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const { node, keyPair } = await keyedNode(net, 'super')
    const ledger = await node.createLog('ledger')
    const loader = new FunctionLoader({ host: node })
    onTestFinished(async () => { await loader.close() })
    const loads: LoadedFunction[] = []
    const service = new InvokeService({
      executor: sharedExecutor(1),
      functions: { load: async (r, opts) => { const fn = await loader.load(r, opts); loads.push(fn); return fn } },
      keyPair,
      ledger: { key: b4a.from(ledger.key, 'hex'), append: async (blocks) => await node.append(ledger.key, blocks) }
    })
    const request = (): RequestMessage => ({ type: 'request', id: 1, ref, input: b4a.from('hi'), nonce: crypto.randomBytes(32), deadline: Date.now() + 20_000, redundancy: 1, auth: null })
    const call = async (): Promise<string> => b4a.toString((await service.handle(request(), 'alice', new AbortController().signal)).output)

    expect(await call()).toBe('hi')
    expect(loads).toHaveLength(1)
    const first = loads[0] as LoadedFunction
    const length = first.registryLength as number
    expect(length).toBeGreaterThan(0)
    // the append event of the lookup's own sync: the function stays loaded
    service.invalidate(first.manifest.publisher, length)
    expect(await call()).toBe('hi')
    expect(loads).toHaveLength(1)
    // the registry grew past it: asked again
    service.invalidate(first.manifest.publisher, length + 1)
    expect(await call()).toBe('hi')
    expect(loads).toHaveLength(2)
    // without a length, every function of the publisher is dropped, as before
    service.invalidate(first.manifest.publisher)
    expect(await call()).toBe('hi')
    expect(loads).toHaveLength(3)
  }, 30_000)

  it('hands a loaded function out without a lookup only while it is fresh and not invalidated, and checks its access policy once', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const { node } = await keyedNode(net, 'super')
    const loader = new FunctionLoader({ host: node })
    onTestFinished(async () => { await loader.close() })
    let now = Date.now()
    let loads = 0
    const cache = new FunctionCache({ functions: { load: async (r, opts) => { loads++; return await loader.load(r, opts) } }, now: () => now, ttlMs: 1_000, self: 'me' })
    const signal = new AbortController().signal

    expect(cache.ready(ref)).toBeUndefined()
    const fn = await cache.load(ref, 'alice', signal)
    expect(cache.ready(ref)).toBe(fn)
    expect(await cache.load(ref, 'alice', signal)).toBe(fn)
    expect(loads).toBe(1)
    // one policy per loaded function: the same object, call after call
    const policy = await cache.policy(fn)
    expect(policy).toEqual({ public: true })
    expect(await cache.policy(fn)).toBe(policy)
    // invalidated: no longer at hand, looked up again
    cache.invalidate(fn.manifest.publisher)
    expect(cache.ready(ref)).toBeUndefined()
    const again = await cache.load(ref, 'alice', signal)
    expect(loads).toBe(2)
    expect(cache.ready(ref)).toBe(again)
    // stale: no longer at hand either
    now += 1_000
    expect(cache.ready(ref)).toBeUndefined()
    await cache.load(ref, 'alice', signal)
    expect(loads).toBe(3)
  }, 30_000)
})

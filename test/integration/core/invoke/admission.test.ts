/**
 * Admission of calls that wait: a lookup of a registry nobody serves holds no executor slot,
 * lives only as long as its caller's deadline, and is bounded per caller and in all.
 */
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it, onTestFinished } from 'vitest'
import { InvokeService, type RequestMessage } from '../../../../src/core/invoke/index.ts'
import { FunctionLoader } from '../../../../src/core/registry/index.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { testnet } from '../../../helpers/testnet.ts'
import { keyedNode, publisher, sharedExecutor } from '../../../helpers/invoke.ts'

async function setup (opts: { maxLookups?: number, maxLookupsPerCaller?: number } = {}): Promise<{ service: InvokeService, request (ref: string, deadlineMs: number): RequestMessage, ref: string }> {
  const net = await testnet()
  const pub = await publisher(net)
  const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
  const { node, keyPair } = await keyedNode(net, 'super')
  const ledger = await node.createLog('ledger')
  const loader = new FunctionLoader({ host: node })
  onTestFinished(async () => { await loader.close() })
  const service = new InvokeService({
    executor: sharedExecutor(1),
    functions: loader,
    keyPair,
    slots: 2,
    ledger: { key: b4a.from(ledger.key, 'hex'), append: async (blocks) => await node.append(ledger.key, blocks) },
    ...opts
  })
  let id = 0
  return {
    service,
    ref,
    request: (r, deadlineMs) => ({ type: 'request', id: ++id, ref: r, input: b4a.from('hello'), nonce: crypto.randomBytes(32), deadline: Date.now() + deadlineMs, redundancy: 1, auth: null })
  }
}

/** A ref to a publisher that exists nowhere. */
function nobodys (): string {
  return `${b4a.toString(crypto.randomBytes(32), 'hex')}/ghost@1.0.0`
}

describe('admission of calls that wait', () => {
  it('lets calls run while others wait on registries nobody serves, and ends those at their deadline', async () => {
    const { service, request, ref } = await setup()
    const signal = new AbortController().signal
    // two calls naming made-up publishers, as many as the service has slots
    const ghosts = [service.handle(request(nobodys(), 1_500), 'mallory', signal), service.handle(request(nobodys(), 1_500), 'mallory', signal)]
    for (const g of ghosts) g.catch(() => {})
    // a legitimate call meanwhile is executed, not refused BUSY
    const ok = await service.handle(request(ref, 20_000), 'alice', signal)
    expect(b4a.toString(ok.output)).toBe('hello')
    // the ghosts end with their own deadline, not the loader's 15 s
    const settled = await Promise.allSettled(ghosts)
    for (const s of settled) expect(s.status === 'rejected' ? (s.reason as { code?: string }).code : 'fulfilled').toBe('DEADLINE_EXCEEDED')
    expect(service.running).toBe(0)
  }, 30_000)

  it('bounds the lookups in flight per caller and in all, with a typed refusal', async () => {
    const { service, request, ref } = await setup({ maxLookups: 3, maxLookupsPerCaller: 2 })
    const ac = new AbortController()
    onTestFinished(() => { ac.abort() })
    const held = [service.handle(request(nobodys(), 10_000), 'mallory', ac.signal), service.handle(request(nobodys(), 10_000), 'mallory', ac.signal)]
    for (const h of held) h.catch(() => {})
    // a third lookup by the same caller is refused at once
    await expect(service.handle(request(nobodys(), 10_000), 'mallory', ac.signal)).rejects.toMatchObject({ code: 'BUSY', details: { perCaller: 2 } })
    const third = service.handle(request(nobodys(), 10_000), 'trudy', ac.signal)
    third.catch(() => {})
    // the global bound: a fourth lookup, whoever asks, is refused
    await expect(service.handle(request(ref, 10_000), 'alice', ac.signal)).rejects.toMatchObject({ code: 'BUSY', details: { lookups: 3 } })
    // callers that leave free their lookups: the next call gets its own
    ac.abort()
    await Promise.allSettled([...held, third])
    const ok = await service.handle(request(ref, 20_000), 'alice', new AbortController().signal)
    expect(b4a.toString(ok.output)).toBe('hello')
  }, 30_000)
})

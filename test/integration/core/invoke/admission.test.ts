/**
 * Admission of calls that wait: a lookup of a registry nobody serves holds no executor slot,
 * lives only as long as its caller's deadline, and is bounded per caller and in all.
 */
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it, onTestFinished } from 'vitest'
import { InvokeService, MAX_LOOKUPS_PER_CALLER, type RequestMessage } from '../../../../src/core/invoke/index.ts'
import { FunctionLoader } from '../../../../src/core/registry/index.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { testnet } from '../../../helpers/testnet.ts'
import { callerNode, executorNode, keyedNode, publisher, sharedExecutor } from '../../../helpers/invoke.ts'

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

describe('admission of calls that arrive over the swarm', () => {
  // the invoke channel charges a remote peer's lookups to its key: a peer naming publishers
  // nobody serves holds at most its share of lookups and no slot, and another peer's call runs
  it('bounds one remote peer\'s lookups by its key; another peer\'s call runs meanwhile', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    // slots enough that the caller's router (which sends an executor no more than its free
    // slots) sends every ghost: the executor's own bound must hold them back
    const exec = await executorNode(net, sharedExecutor(1), { slots: 16 })
    const mallory = await callerNode(net)
    const alice = await callerNode(net)
    await mallory.endpoint.waitForExecutors(1, { timeoutMs: 15_000 })
    await alice.endpoint.waitForExecutors(1, { timeoutMs: 15_000 })
    let peak = 0
    const watch = setInterval(() => { peak = Math.max(peak, exec.service.lookups(mallory.node.publicKey)) }, 5)
    onTestFinished(() => { clearInterval(watch) })
    const ghosts = Array.from({ length: MAX_LOOKUPS_PER_CALLER + 4 }, async () => await mallory.endpoint.invoke(nobodys(), b4a.from('x'), { deadline: 4_000 }))
    for (const g of ghosts) g.catch(() => {})
    // a peer's lookups are charged to its key, up to its share
    for (let i = 0; i < 200 && exec.service.lookups(mallory.node.publicKey) < MAX_LOOKUPS_PER_CALLER; i++) await new Promise(resolve => setTimeout(resolve, 10))
    expect(exec.service.lookups(mallory.node.publicKey)).toBe(MAX_LOOKUPS_PER_CALLER)
    // another peer's call runs while they wait (no slot is held by a lookup)
    const ok = await alice.endpoint.invoke(ref, b4a.from('hello'), { deadline: 20_000 })
    expect(b4a.toString(ok.output)).toBe('hello')
    const settled = await Promise.allSettled(ghosts)
    const codes = settled.map(s => s.status === 'rejected' ? (s.reason as { code?: string }).code : 'fulfilled')
    expect(codes.every(c => c !== 'fulfilled'), codes.join(',')).toBe(true)
    expect(peak, codes.join(',')).toBe(MAX_LOOKUPS_PER_CALLER)
    // and none outlives its call's deadline by more than the timers' slack
    for (let i = 0; i < 100 && exec.service.lookups() > 0; i++) await new Promise(resolve => setTimeout(resolve, 20))
    expect(exec.service.lookups()).toBe(0)
  }, 60_000)
})

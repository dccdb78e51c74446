/**
 * Requests swarm peers leave waiting at an executor count against the host's memory budget:
 * past it, a request is refused `MEMORY_BUDGET_EXCEEDED`, and the bytes come back when the
 * requests are answered.
 */
import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { requestBytes, REQUEST_OVERHEAD_BYTES } from '../../../../src/core/invoke/index.ts'
import { MemoryBudget } from '../../../../src/super-node/memory-budget.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { testnet } from '../../../helpers/testnet.ts'
import { callerNode, executorNode, publisher, sharedExecutor, until } from '../../../helpers/invoke.ts'

const INPUT_BYTES = 16 * 1024
/** requests the budget holds at once */
const FIT = 5
const PEERS = 3
/** each peer's calls at once: within its lookups per caller, so no other bound refuses them */
const PER_PEER = 4

describe('the memory budget of queued invocation requests', () => {
  it('refuses requests past the budget, typed, across peers; gives the bytes back; then runs a call', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    // room for FIT requests of this size and not one more (the ref's length is the slack)
    const budget = new MemoryBudget(FIT * (INPUT_BYTES + REQUEST_OVERHEAD_BYTES + 256))
    const one = requestBytes({ type: 'request', id: 1, ref, input: new Uint8Array(INPUT_BYTES), nonce: new Uint8Array(32), deadline: 0, redundancy: 1, auth: null })
    expect(budget.limit).toBeGreaterThanOrEqual(FIT * one)
    expect(budget.limit).toBeLessThan((FIT + 1) * one)
    // function loads are held until released, so every admitted request stays held here
    let release!: () => void
    const gate = new Promise<void>(resolve => { release = resolve })
    await executorNode(net, sharedExecutor(1), {
      slots: 64,
      budget,
      functions: (loader) => ({ load: async (r, o) => { await gate; return await loader.load(r, o) } })
    })
    const alice = await callerNode(net)
    const peers = [alice, ...await Promise.all(Array.from({ length: PEERS - 1 }, async () => await callerNode(net)))]
    for (const p of peers) await p.endpoint.waitForExecutors(1, { timeoutMs: 15_000 })
    const calls = peers.flatMap(p => Array.from({ length: PER_PEER }, async () => await p.endpoint.invoke(ref, b4a.alloc(INPUT_BYTES, 0x78), { deadline: 30_000 })))
    for (const c of calls) c.catch(() => {})
    // while FIT requests are held (their loads waiting), every other one is refused
    await until('the requests past the budget are refused', () => budget.refused === PEERS * PER_PEER - FIT)
    expect(budget.used).toBeGreaterThan(budget.limit - one)
    release()
    const settled = await Promise.allSettled(calls)
    const codes = settled.map(s => s.status === 'rejected' ? (s.reason as { code?: string }).code : 'ok')
    expect(codes.filter(c => c === 'ok').length, codes.join(',')).toBe(FIT)
    expect(codes.filter(c => c === 'MEMORY_BUDGET_EXCEEDED').length, codes.join(',')).toBe(PEERS * PER_PEER - FIT)
    expect(budget.refused).toBe(PEERS * PER_PEER - FIT)
    await until('the budget is given back', () => budget.used === 0)
    // nothing else is affected: a normal call runs on the same executor
    const ok = await alice.endpoint.invoke(ref, b4a.from('hello'), { deadline: 20_000 })
    expect(b4a.toString(ok.output)).toBe('hello')
    await until('the budget is given back again', () => budget.used === 0)
  }, 60_000)

  it('gives back the bytes of a peer that goes while its requests wait', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const budget = new MemoryBudget(FIT * (INPUT_BYTES + REQUEST_OVERHEAD_BYTES + 256))
    // loads wait until their call is given up (the server aborts a gone peer's requests)
    await executorNode(net, sharedExecutor(1), {
      slots: 64,
      budget,
      functions: () => ({ load: async (_r, o) => await new Promise((_resolve, reject) => { o?.signal?.addEventListener('abort', () => { reject(o.signal?.reason) }, { once: true }) }) })
    })
    const mallory = await callerNode(net)
    await mallory.endpoint.waitForExecutors(1, { timeoutMs: 15_000 })
    const calls = Array.from({ length: PER_PEER }, async () => await mallory.endpoint.invoke(ref, b4a.alloc(INPUT_BYTES, 0x78), { deadline: 30_000 }))
    for (const c of calls) c.catch(() => {})
    await until('the requests are held', () => budget.used >= PER_PEER * INPUT_BYTES)
    await mallory.node.stop()
    await until('the gone peer\'s bytes are given back', () => budget.used === 0)
    await Promise.allSettled(calls)
  }, 60_000)
})

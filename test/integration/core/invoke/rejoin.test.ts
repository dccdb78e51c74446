/**
 * A caller with exactly as many executors as its call's redundancy, one of whose connections
 * closed a moment before the call (a connection the swarm replaced, or a dropped one being
 * redialled), or one of which connects only after the call started (a fresh node hears the
 * swarm's executors one by one): the slot no executor is left for waits for it, bounded,
 * instead of failing with NO_EXECUTORS and sinking the quorum.
 */
import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { testnet } from '../../../helpers/testnet.ts'
import { callerNode, executorNode, publisher, sharedExecutor } from '../../../helpers/invoke.ts'

describe('a call while an executor reconnects', () => {
  it('redundancy 2 with two executors, one just disconnected: both slots run, on both executors', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const executor = sharedExecutor(2)
    const a = await executorNode(net, executor)
    const b = await executorNode(net, executor)
    const caller = await callerNode(net)
    await caller.endpoint.waitForExecutors(2, { timeoutMs: 30_000 })
    const warm = await caller.endpoint.invoke(ref, b4a.from('warm'), { redundancy: 2, deadline: 30_000 })
    expect(warm.receipts.map(r => r.executor).sort()).toEqual([a.key, b.key].sort())

    // the caller's connection to b closes, as a replaced or dropped one does; the swarm redials it
    const found = caller.node.connections().find(([c]) => b4a.toString(c.remotePublicKey, 'hex') === b.key)
    expect(found).toBeDefined()
    const conn = (found as NonNullable<typeof found>)[0]
    const closed = new Promise(resolve => conn.once('close', resolve))
    conn.destroy()
    await closed
    // b is out of the caller's table now: without the wait, the second slot has nobody to pick
    expect(caller.endpoint.peers().some(p => p.key === b.key && p.capacity !== null)).toBe(false)

    const res = await caller.endpoint.invoke(ref, b4a.from('again'), { redundancy: 2, deadline: 30_000 })
    expect(b4a.toString(res.output)).toBe('again')
    expect(res.receipts.map(r => r.executor).sort()).toEqual([a.key, b.key].sort())
    expect(res.dissenters).toEqual([])
  }, 90_000)

  it('redundancy 2 with one executor connected and a second that connects after the call started: both slots run', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const executor = sharedExecutor(2)
    const a = await executorNode(net, executor)
    const caller = await callerNode(net)
    await caller.endpoint.waitForExecutors(1, { timeoutMs: 30_000 })
    expect(caller.endpoint.peers().filter(p => p.capacity !== null).map(p => p.key)).toEqual([a.key])

    // the call starts with one executor: its second slot has nobody to pick until b connects
    const call = caller.endpoint.invoke(ref, b4a.from('late'), { redundancy: 2, deadline: 60_000 })
    const b = await executorNode(net, executor)
    const res = await call
    expect(b4a.toString(res.output)).toBe('late')
    expect(res.receipts.map(r => r.executor).sort()).toEqual([a.key, b.key].sort())
    expect(res.dissenters).toEqual([])
  }, 120_000)
})

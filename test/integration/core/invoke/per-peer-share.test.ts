/**
 * An executor refuses a peer past its share (MAX_SERVING_PER_PEER) with BUSY although it has
 * room for others, so it sends no "full" advert, and will send no "room again" one either.
 * The caller that got the refusal must find out by itself when it may come back.
 */
import b4a from 'b4a'
import { describe, expect, it, onTestFinished } from 'vitest'
import { MAX_SERVING_PER_PEER } from '../../../../src/core/invoke/invoke-server.ts'
import { createNodeExecutor } from '../../../../src/super-node/executor/index.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { testnet } from '../../../helpers/testnet.ts'
import { callerNode, executorNode, FaultyExecutor, publisher, until } from '../../../helpers/invoke.ts'

describe('one peer\'s share of an executor', () => {
  it('a caller refused for its share comes back once its calls are done, without an advert', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    // the held calls all reach the pool at once when released: its queue takes them
    const pool = createNodeExecutor({ size: 1, maxQueue: 2 * MAX_SERVING_PER_PEER })
    onTestFinished(async () => { await pool.close() })
    const faulty = new FaultyExecutor(pool)
    let release = (): void => {}
    faulty.hold = new Promise<void>(resolve => { release = resolve })
    // room for more than one peer's share: the refusal is the per-peer one, not "full"
    const exec = await executorNode(net, faulty, { slots: MAX_SERVING_PER_PEER + 16 })
    const caller = await callerNode(net)
    await caller.endpoint.waitForExecutors(1, { timeoutMs: 20_000 })

    const held = Array.from({ length: MAX_SERVING_PER_PEER }, async (_, i) => await caller.endpoint.invoke(ref, b4a.from(`held ${i}`), { deadline: 60_000 }))
    await until('the executor holds a full share', () => faulty.calls === MAX_SERVING_PER_PEER, 30_000)
    await expect(caller.endpoint.invoke(ref, b4a.from('one too many'), { deadline: 60_000 })).rejects.toMatchObject({ code: 'BUSY' })
    expect(exec.service.free).toBeGreaterThan(0)

    release()
    await Promise.all(held)
    const after = await caller.endpoint.invoke(ref, b4a.from('back again'), { deadline: 20_000 })
    expect(b4a.toString(after.output)).toBe('back again')
  }, 90_000)
})

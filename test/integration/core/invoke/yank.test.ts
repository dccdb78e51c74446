/**
 * A yank must stop executions as soon as the executor has the publisher's tombstone, not when
 * its cache of loaded functions expires: the executor service drops a publisher's functions
 * whenever that registry's log grows.
 */
import b4a from 'b4a'
import { describe, expect, it, onTestFinished } from 'vitest'
import { startExecutorService } from '../../../../src/super-node/executor-service.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { testnet } from '../../../helpers/testnet.ts'
import { callerNode, keyedNode, publisher, sharedExecutor } from '../../../helpers/invoke.ts'

describe('yanks reach executors', () => {
  it('a yanked version is refused with FUNCTION_YANKED on the first call after the tombstone arrives, whatever the cache time', async () => {
    const net = await testnet()
    const pub = await publisher(net)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const { node, keyPair } = await keyedNode(net, 'super')
    // an hour: only the registry growing can make the executor ask again within this test
    const service = await startExecutorService(node, keyPair, { domain: 'shadw.local', executor: sharedExecutor(1), pricing: false, functionCacheMs: 3_600_000 })
    onTestFinished(async () => { await service.stop() })
    const caller = await callerNode(net)
    await caller.endpoint.waitForExecutors(1, { timeoutMs: 20_000 })

    const before = await caller.endpoint.invoke(ref, b4a.from('before'), { deadline: 20_000 })
    expect(b4a.toString(before.output)).toBe('before')
    const length = node.logInfo(pub.registry.key).length
    await pub.registry.yank('echo', '1.0.0', 'broken build')
    for (let i = 0; i < 200 && node.logInfo(pub.registry.key).length === length; i++) await new Promise(resolve => setTimeout(resolve, 50))
    expect(node.logInfo(pub.registry.key).length).toBeGreaterThan(length)

    const executions = service.service.executions
    await expect(caller.endpoint.invoke(ref, b4a.from('after'), { deadline: 20_000 })).rejects.toMatchObject({ code: 'FUNCTION_YANKED' })
    expect(service.service.executions).toBe(executions)
  })
})

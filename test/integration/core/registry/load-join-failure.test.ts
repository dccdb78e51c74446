/**
 * A load follows the registry without awaiting its topic's announce, so a join that fails
 * cannot fail the follow: the load's wait for the registry must then say why nobody could
 * be found (the join's error as its cause) rather than read as a registry nobody serves,
 * and a node that stops under a load must end it then, not at the load's timeout.
 */
import { randomBytes } from 'node:crypto'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ShadwNode } from '../../../../src/core/node/shadw-node.ts'
import { FunctionLoader } from '../../../../src/core/registry/index.ts'
import { nodeWithStore } from '../../../helpers/registry.ts'
import { testnet } from '../../../helpers/testnet.ts'
import { within } from '../../../helpers/within.ts'

/** The load's own bound on reaching the registry in the first test. */
const LOAD_TIMEOUT_MS = 1_000
/** A load timeout the stopping node must not wait out (the test's bound is well under it). */
const LONG_LOAD_TIMEOUT_MS = 120_000
/** Bound on a load ending once its node stops. */
const SETTLE_MS = 15_000

function follows (node: ShadwNode, key: string): boolean {
  try {
    node.logInfo(key)
    return true
  } catch {
    return false
  }
}

describe('a load whose registry topic could not be joined', () => {
  it('fails with the join error as the cause of its timeout', async () => {
    const net = await testnet()
    const dht = new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1' })
    const swarm = new Hyperswarm({ dht })
    const node = new ShadwNode({ swarm, store: new Corestore(RAM.reusable()), tier: 'super' })
    onTestFinished(async () => { await node.stop(); await dht.destroy() })
    await node.start()
    // the swarm goes away under a running node: every join from now on throws
    await swarm.destroy()
    const loader = new FunctionLoader({ host: node, timeoutMs: LOAD_TIMEOUT_MS })
    onTestFinished(async () => { await loader.close() })
    const publisher = randomBytes(32).toString('hex')
    const err = await loader.load(`${publisher}/echo@1.0.0`).then(() => null, (e: unknown) => e) as Error & { code?: string, cause?: Error & { code?: string, cause?: Error } }
    expect(err?.code).toBe('FUNCTION_NOT_FOUND')
    expect(err.cause?.code).toBe('TIMEOUT')
    expect(err.cause?.message).toContain('could not be joined')
    expect(err.cause?.cause?.message).toMatch(/destroyed/i)
  })

  it('ends with NODE_CLOSED when the node stops, not at the load timeout', async () => {
    const net = await testnet()
    const { node } = await nodeWithStore(net)
    const loader = new FunctionLoader({ host: node, timeoutMs: LONG_LOAD_TIMEOUT_MS })
    onTestFinished(async () => { await loader.close() })
    const publisher = randomBytes(32).toString('hex')
    const load = loader.load(`${publisher}/echo@1.0.0`).then(() => null, (e: unknown) => e) as Promise<(Error & { code?: string }) | null>
    for (let i = 0; i < 200 && !follows(node, publisher); i++) await new Promise(resolve => setTimeout(resolve, 10))
    expect(follows(node, publisher)).toBe(true)
    await node.stop()
    const err = await within(load, SETTLE_MS, 'the load to end once the node stopped')
    expect(err?.code).toBe('NODE_CLOSED')
  })
})

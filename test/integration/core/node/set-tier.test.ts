/**
 * A browser contributor switches its node between light and shadow while it runs
 * (src/core/node/shadw-node.ts setTier): only those two. The tier is what the node announces;
 * the signing topic is the running services' (joinSigning, test/integration/node/signing-join.test.ts).
 */
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import type { Testnet } from 'hyperdht/testnet'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { describe, expect, it, onTestFinished } from 'vitest'
import { keyToHex } from '../../../../src/core/keys.ts'
import { ShadwNode, signingTopic } from '../../../../src/core/node/index.ts'
import type { NodeTier } from '../../../../src/core/node/types.ts'
import { testnet } from '../../../helpers/testnet.ts'

async function node (net: Testnet, tier: NodeTier): Promise<{ node: ShadwNode, swarm: Hyperswarm }> {
  const dht = new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1' })
  const swarm = new Hyperswarm({ dht })
  const n = new ShadwNode({ swarm, store: new Corestore(RAM.reusable()), tier })
  onTestFinished(async () => { await n.stop(); await dht.destroy() })
  await n.start()
  return { node: n, swarm }
}

/** How the swarm takes part in the signing topic now; null: not at all. */
function signingMode (swarm: Hyperswarm): { server: boolean, client: boolean } | null {
  const d = swarm.status(signingTopic()) as unknown as { isServer: boolean, isClient: boolean } | null | undefined
  return d === undefined || d === null ? null : { server: d.isServer, client: d.isClient }
}

const SIGNING = keyToHex(signingTopic())

describe('ShadwNode.setTier', () => {
  it('switches between light and shadow without touching the signing topic, which follows the services that run', async () => {
    const net = await testnet()
    const { node: n, swarm } = await node(net, 'shadow')
    expect(signingMode(swarm)).toBeNull()
    await n.setTier('light')
    expect(n.tier).toBe('light')
    expect(n.status().tier).toBe('light')
    expect(signingMode(swarm)).toBeNull()
    const leave = await n.joinSigning('light')
    expect(signingMode(swarm)).toEqual({ server: true, client: true })
    await n.setTier('shadow')
    expect(n.tier).toBe('shadow')
    expect(signingMode(swarm)).toEqual({ server: true, client: true })
    await leave()
    expect(signingMode(swarm)).toBeNull()
    expect(n.status().topics).not.toContain(SIGNING)
  })

  it('refuses super and storm, and any switch of a super node, with INVALID_ARGUMENT and nothing changed', async () => {
    const net = await testnet()
    const { node: light, swarm } = await node(net, 'light')
    const topics = light.status().topics
    await expect(light.setTier('super')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await expect(light.setTier('storm')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await expect(light.setTier('mega' as NodeTier)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect(light.tier).toBe('light')
    expect(light.status().topics).toEqual(topics)
    expect(signingMode(swarm)).toBeNull()

    const { node: sup } = await node(net, 'super')
    await expect(sup.setTier('light')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect(sup.tier).toBe('super')
  })
})

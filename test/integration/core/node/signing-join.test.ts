/**
 * The signing topic follows what runs, not the tier (src/core/node/shadw-node.ts joinSigning):
 * an executor service puts its node on it as server while it runs, a light signing service
 * as server and client; a node that runs neither (a tab that never opted in) is off it.
 */
import b4a from 'b4a'
import Corestore from 'corestore'
import crypto from 'hypercore-crypto'
import HyperDHT from 'hyperdht'
import type { Testnet } from 'hyperdht/testnet'
import Hyperswarm from 'hyperswarm'
import { describe, expect, it, onTestFinished } from 'vitest'
import { keyToHex } from '../../../../src/core/keys.ts'
import { ShadwNode, signingTopic } from '../../../../src/core/node/index.ts'
import type { NodeTier } from '../../../../src/core/node/types.ts'
import { startExecutorService } from '../../../../src/super-node/executor-service.ts'
import { testnet } from '../../../helpers/testnet.ts'
import RAM from 'random-access-memory'
import { sharedExecutor, until } from '../../../helpers/invoke.ts'

const SIGNING = keyToHex(signingTopic())

/** How the swarm takes part in the signing topic now; null: not at all. */
function signingMode (swarm: Hyperswarm): { server: boolean, client: boolean } | null {
  const d = swarm.status(signingTopic()) as unknown as { isServer: boolean, isClient: boolean } | null | undefined
  return d === undefined || d === null ? null : { server: d.isServer, client: d.isClient }
}

/** A started node whose swarm (to see how it joined) and key pair the test holds. */
async function keyedNode (net: Testnet, tier: NodeTier): Promise<{ node: ShadwNode, swarm: Hyperswarm, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array } }> {
  const keyPair = crypto.keyPair()
  const dht = new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1' })
  const swarm = new Hyperswarm({ dht, keyPair })
  const node = new ShadwNode({ swarm, store: new Corestore(RAM.reusable()), tier })
  onTestFinished(async () => { await node.stop(); await dht.destroy() })
  await node.start()
  return { node, swarm, keyPair }
}

describe('signing topic membership', () => {
  it('a shadow node that executes nothing is off the signing topic; one whose executor service runs is on it as server until the service stops, and a plain swarm looking the topic up reaches only executors and light nodes', async () => {
    const net = await testnet()
    const idle = await keyedNode(net, 'shadow')
    const contributor = await keyedNode(net, 'shadow')
    const light = await keyedNode(net, 'light')
    expect(idle.node.status().topics).not.toContain(SIGNING)
    expect(contributor.node.status().topics).not.toContain(SIGNING)
    expect(light.node.status().topics).not.toContain(SIGNING)

    const service = await startExecutorService(contributor.node, contributor.keyPair, { domain: 'localhost', executor: sharedExecutor(1), pricing: false })
    onTestFinished(async () => { await service.stop() })
    const leaveLight = await light.node.joinSigning('light')
    expect(contributor.node.status().topics).toContain(SIGNING)
    expect(light.node.status().topics).toContain(SIGNING)
    expect(idle.node.status().topics).not.toContain(SIGNING)

    const dht = new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1' })
    const swarm = new Hyperswarm({ dht })
    onTestFinished(async () => { await swarm.destroy(); await dht.destroy() })
    const reached = new Set<string>()
    swarm.on('connection', (conn: { remotePublicKey: Uint8Array, on (e: string, f: () => void): void }) => {
      reached.add(b4a.toString(conn.remotePublicKey, 'hex'))
      conn.on('error', () => {})
    })
    await swarm.join(signingTopic(), { server: false, client: true }).flushed()
    await until('the executor and the light node found on the signing topic', () => reached.has(contributor.node.publicKey) && reached.has(light.node.publicKey), 30_000)
    // one lookup returns every announcer at once: the idle node was not among them
    await swarm.flush()
    expect([...reached].sort()).toEqual([contributor.node.publicKey, light.node.publicKey].sort())

    await service.stop()
    expect(contributor.node.status().topics).not.toContain(SIGNING)
    await leaveLight()
    expect(light.node.status().topics).not.toContain(SIGNING)
  }, 60_000)

  it('is ref-counted per role: the mode is the union of the running services, a leave is final and safe to call twice', async () => {
    const net = await testnet()
    const { node, swarm } = await keyedNode(net, 'shadow')
    const leaveA = await node.joinSigning('executor')
    const leaveB = await node.joinSigning('executor')
    expect(signingMode(swarm)).toEqual({ server: true, client: false })
    const leaveLight = await node.joinSigning('light')
    expect(signingMode(swarm)).toEqual({ server: true, client: true })
    await leaveLight()
    await leaveLight()
    expect(signingMode(swarm)).toEqual({ server: true, client: false })
    await leaveA()
    await leaveA()
    expect(signingMode(swarm)).toEqual({ server: true, client: false })
    await leaveB()
    expect(signingMode(swarm)).toBeNull()
    expect(node.status().topics).not.toContain(SIGNING)
    await expect(node.joinSigning('super' as 'light')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    expect(signingMode(swarm)).toBeNull()
  }, 30_000)

  it('when joining fails, stays on the topic as the running services had it and rethrows; the next join goes through', async () => {
    const net = await testnet()
    const { node, swarm } = await keyedNode(net, 'shadow')
    await node.joinSigning('executor')
    const join = swarm.join.bind(swarm)
    let failures = 1
    swarm.join = ((topic: Uint8Array, opts?: { server?: boolean, client?: boolean }) => {
      if (failures-- > 0) throw new Error('join failed')
      return join(topic, opts)
    }) as typeof swarm.join
    await expect(node.joinSigning('light')).rejects.toThrow('join failed')
    expect(signingMode(swarm)).toEqual({ server: true, client: false })
    expect(node.status().topics.filter(t => t === SIGNING)).toHaveLength(1)
    await node.joinSigning('light')
    expect(signingMode(swarm)).toEqual({ server: true, client: true })
  }, 30_000)

  it('re-joins the signing topic in its mode on a replaced swarm, and refuses a join once stopped', async () => {
    const net = await testnet()
    const { node } = await keyedNode(net, 'shadow')
    await node.joinSigning('executor')
    const dht = new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1' })
    onTestFinished(async () => { await dht.destroy() })
    const next = new Hyperswarm({ dht })
    await node.replaceSwarm(next)
    expect(signingMode(next)).toEqual({ server: true, client: false })
    await node.stop()
    await expect(node.joinSigning('light')).rejects.toMatchObject({ code: 'NODE_CLOSED' })
  }, 30_000)
})

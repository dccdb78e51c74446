/**
 * A load reads the registry and the module from peers already connected without first waiting
 * for this node's own announce of their topics to reach the DHT: the announce only helps
 * others find this node, and on a contributor tab it is a DHT walk through the relay on the
 * cold call's path. Here the DHT's bootstrap nodes are gone once the two nodes are connected,
 * so an announce cannot finish while the load runs.
 */
import b4a from 'b4a'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import crypto from 'hypercore-crypto'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ShadwNode } from '../../../../src/core/node/shadw-node.ts'
import { createPublisherKeyPair, FunctionLoader, Registry } from '../../../../src/core/registry/index.ts'
import { nodeWithStore, paddedEcho } from '../../../helpers/registry.ts'
import { testnet } from '../../../helpers/testnet.ts'

/** Whether the swarm's announce of `key`'s topic has finished, seen a few ticks from now. */
async function announced (swarm: Hyperswarm, key: string): Promise<boolean> {
  const discovery = swarm.status(crypto.discoveryKey(b4a.from(key, 'hex')))
  if (discovery === undefined || discovery === null) throw new Error('topic not joined')
  let done = false
  void discovery.flushed().then(() => { done = true }, () => { done = true })
  for (let i = 0; i < 3; i++) await new Promise(resolve => setImmediate(resolve))
  return done
}

describe('loading a function from connected peers', () => {
  it('does not wait for the registry and blob log announces to reach the DHT', async () => {
    const net = await testnet()
    const a = await nodeWithStore(net)
    const registry = await Registry.create(a.store, createPublisherKeyPair())
    onTestFinished(async () => { await registry.close() })
    const bytes = await paddedEcho(100_000, 1)
    await registry.publish(bytes, { name: 'echo', version: '1.0.0' })
    const blobKey = await registry.blobKey() as string
    await a.node.follow(registry.key)
    await a.node.follow(blobKey)

    const dht = new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1' })
    const swarm = new Hyperswarm({ dht })
    const b = new ShadwNode({ swarm, store: new Corestore(RAM.reusable()), tier: 'super' })
    onTestFinished(async () => { await b.stop(); await dht.destroy() })
    await b.start()
    // both super nodes meet on the super nodes' topic
    for (let i = 0; i < 200 && b.status().peers.length === 0; i++) await new Promise(resolve => setTimeout(resolve, 50))
    expect(b.status().peers.map(p => p.publicKey)).toContain(a.node.publicKey)
    // from now on a DHT query only meets nodes that do not answer
    await net.destroy()

    const loader = new FunctionLoader({ host: b })
    onTestFinished(async () => { await loader.close() })
    const fn = await loader.load(`${registry.key}/echo@1.0.0`)
    expect(fn.source).toBe('blob-log')
    expect(b4a.equals(fn.module, bytes)).toBe(true)
    expect(await announced(swarm, registry.key)).toBe(false)
    expect(await announced(swarm, blobKey)).toBe(false)
  })
})

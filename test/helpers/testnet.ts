import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import createTestnet, { type Testnet } from 'hyperdht/testnet'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { onTestFinished } from 'vitest'
import { ShadwNode } from '../../src/core/node/shadw-node.ts'
import type { NodeTier } from '../../src/core/node/types.ts'

/** An in-process HyperDHT on 127.0.0.1, destroyed when the calling test finishes. */
export async function testnet (size = 3): Promise<Testnet> {
  const net = await createTestnet(size, { host: '127.0.0.1' })
  onTestFinished(async () => { await net.destroy() })
  return net
}

/** A ShadwNode on the testnet with in-memory (or the given) storage, stopped after the test. */
export async function testNode (net: Testnet, opts: { storage?: unknown, tier?: NodeTier } = {}): Promise<ShadwNode> {
  const dht = new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1' })
  const swarm = new Hyperswarm({ dht })
  const store = new Corestore(opts.storage ?? RAM.reusable())
  const node = new ShadwNode({ swarm, store, tier: opts.tier ?? 'super' })
  onTestFinished(async () => { await node.stop(); await dht.destroy() })
  await node.start()
  return node
}

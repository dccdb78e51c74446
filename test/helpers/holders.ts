import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import type { Testnet } from 'hyperdht/testnet'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { onTestFinished } from 'vitest'
import { nodeIdentity, ShadwNode } from '../../src/core/node/index.ts'
import { DiskBudget, Holder, ProofChallenger, ShardHolder, type HolderOptions, type ShardHolderOptions } from '../../src/core/pinning/index.ts'
import { STORAGE_LEDGER_LOG_NAME } from '../../src/core/ledger/index.ts'
import { reedSolomon } from '../../src/super-node/reed-solomon-node.ts'
import type { NodeTier } from '../../src/core/node/types.ts'

/** A node on the testnet with its identity key pair (holders sign with it) and its store. */
export interface KeyedNode {
  node: ShadwNode
  store: Corestore
  keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }
  /** stops the node and its DHT (idempotent): what a holder that leaves looks like to the swarm */
  stop: () => Promise<void>
}

/** A started ShadwNode whose key pair the test holds; stopped after the test. */
export async function keyedNode (net: Testnet, opts: { storage?: unknown, tier?: NodeTier } = {}): Promise<KeyedNode> {
  const store = new Corestore(opts.storage ?? RAM.reusable())
  await store.ready()
  const keyPair = await nodeIdentity(store)
  const dht = new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1' })
  const swarm = new Hyperswarm({ dht, keyPair })
  const node = new ShadwNode({ swarm, store, tier: opts.tier ?? 'storm' })
  let stopping: Promise<void> | null = null
  const stop = (): Promise<void> => {
    stopping ??= (async () => { await node.stop(); await dht.destroy() })()
    return stopping
  }
  onTestFinished(stop)
  await node.start()
  return { node, store, keyPair, stop }
}

/** A node holding for others with the given budget; the holder stops before the node. */
export async function holderNode (net: Testnet, opts: Partial<Omit<HolderOptions, 'node' | 'keyPair'>> & { storage?: unknown } = {}): Promise<KeyedNode & { holder: Holder }> {
  const k = await keyedNode(net, { storage: opts.storage })
  const holder = new Holder({ node: k.node, keyPair: k.keyPair, budget: opts.budget ?? 64 * 1024 * 1024, ...opts })
  const stop = async (): Promise<void> => { holder.stop(); await k.stop() }
  onTestFinished(stop)
  await holder.announced()
  return { ...k, holder, stop }
}

/** A node holding erasure shards for others with the given budget; the shard holder stops before the node. */
export async function shardHolderNode (net: Testnet, opts: Partial<Omit<ShardHolderOptions, 'node' | 'keyPair'>> & { storage?: unknown } = {}): Promise<KeyedNode & { shards: ShardHolder }> {
  const k = await keyedNode(net, { storage: opts.storage })
  const shards = new ShardHolder({ node: k.node, keyPair: k.keyPair, rs: async () => reedSolomon(), ...opts, budget: opts.budget ?? 64 * 1024 * 1024 })
  const stop = async (): Promise<void> => { shards.stop(); await k.stop() }
  onTestFinished(stop)
  await shards.announced()
  return { ...k, shards, stop }
}

/**
 * A storing node as `shadw start` assembles one: a replica holder and a shard holder sharing
 * one budget, a storage ledger, and live proofs at the given mean interval (fast in tests).
 * Everything stops before the node.
 */
export async function provingNode (net: Testnet, opts: { storage?: unknown, budget?: number, meanMs?: number, graceMs?: number, price?: number } = {}): Promise<KeyedNode & { holder: Holder, shards: ShardHolder, proofs: ProofChallenger, ledgerKey: string }> {
  const k = await keyedNode(net, { storage: opts.storage })
  const budget = new DiskBudget(opts.budget ?? 64 * 1024 * 1024)
  const ledgerKey = (await k.node.createLog(STORAGE_LEDGER_LOG_NAME)).key
  const ledger = { append: async (blocks: Uint8Array[]) => await k.node.append(ledgerKey, blocks) }
  const holder = new Holder({ node: k.node, keyPair: k.keyPair, budget, ledger, ...(opts.graceMs === undefined ? {} : { graceMs: opts.graceMs }), ...(opts.price === undefined ? {} : { price: opts.price }) })
  const shards = new ShardHolder({ node: k.node, keyPair: k.keyPair, budget, ledger, rs: async () => reedSolomon(), ...(opts.graceMs === undefined ? {} : { graceMs: opts.graceMs }), ...(opts.price === undefined ? {} : { price: opts.price }) })
  const proofs = new ProofChallenger({ node: k.node, keyPair: k.keyPair, holder, shards, ledger, meanMs: opts.meanMs ?? 200, timeoutMs: 3_000 })
  const stop = async (): Promise<void> => { proofs.stop(); holder.stop(); shards.stop(); await k.stop() }
  onTestFinished(stop)
  await holder.start()
  shards.start()
  proofs.start()
  await Promise.all([holder.announced(), shards.announced()])
  return { ...k, holder, shards, proofs, ledgerKey, stop }
}

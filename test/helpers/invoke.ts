import b4a from 'b4a'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import type { Testnet } from 'hyperdht/testnet'
import crypto from 'hypercore-crypto'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { onTestFinished } from 'vitest'
import type { NodeTier } from '../../src/core/node/types.ts'
import { ShadwNode } from '../../src/core/node/shadw-node.ts'
import { InvokeEndpoint, InvokeService, type ByteBudget, type FunctionSource, type InvokeEndpointOptions } from '../../src/core/invoke/index.ts'
import { createNodeExecutor } from '../../src/super-node/executor/index.ts'
import { createPublisherKeyPair, FunctionLoader, Registry, type PublishOptions } from '../../src/core/registry/index.ts'
import type { ExecuteCall, ExecuteOptions, ExecuteResult, Executor } from '../../src/core/sandbox/index.ts'
import type { AccessGate } from '../../src/core/access/index.ts'
import { LedgerAnnouncer } from '../../src/core/ledger/index.ts'

/** One real worker_threads pool shared by every executor node of a test (2 cores here). */
export function sharedExecutor (size = 2): Executor {
  const executor = createNodeExecutor({ size })
  onTestFinished(async () => { await executor.close() })
  return executor
}

/** A started node whose swarm key pair the test knows (receipts are signed with it). */
export async function keyedNode (net: Testnet, tier: NodeTier): Promise<{ node: ShadwNode, store: Corestore, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }, dht: HyperDHT }> {
  const keyPair = crypto.keyPair()
  const dht = new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1' })
  const swarm = new Hyperswarm({ dht, keyPair })
  const store = new Corestore(RAM.reusable())
  const node = new ShadwNode({ swarm, store, tier })
  onTestFinished(async () => { await node.stop(); await dht.destroy() })
  await node.start()
  return { node, store, keyPair, dht }
}

/** A node that executes: endpoint + service over `executor`, ledger log, loader on the node. */
export async function executorNode (net: Testnet, executor: Executor, opts: { slots?: number, gate?: AccessGate, functions?: (loader: FunctionLoader) => FunctionSource, drives?: boolean, budget?: ByteBudget, functionCacheMs?: number } = {}): Promise<{ node: ShadwNode, endpoint: InvokeEndpoint, service: InvokeService, key: string, ledgerKey: string }> {
  const { node, keyPair } = await keyedNode(net, 'super')
  const ledger = await node.createLog('ledger')
  const loader = new FunctionLoader({ host: node })
  onTestFinished(async () => { await loader.close() })
  const service = new InvokeService({
    executor,
    functions: opts.functions?.(loader) ?? loader,
    keyPair,
    ledger: { key: b4a.from(ledger.key, 'hex'), append: async (blocks) => await node.append(ledger.key, blocks) },
    slots: opts.slots ?? 4,
    ...(opts.gate === undefined ? {} : { gate: opts.gate }),
    ...(opts.functionCacheMs === undefined ? {} : { functionCacheMs: opts.functionCacheMs }),
    // calls may mount drives, read through this node
    ...(opts.drives === true ? { drives: node } : {})
  })
  const endpoint = new InvokeEndpoint({ host: node, tier: 'super', service, ...(opts.budget === undefined ? {} : { budget: opts.budget }) })
  endpoint.start()
  // as the executor hosts do (startExecutorService, the browser's invoke host): light nodes find it on the signing topic
  await node.joinSigning('executor')
  onTestFinished(() => { endpoint.stop() })
  return { node, endpoint, service, key: node.publicKey, ledgerKey: ledger.key }
}

/**
 * An executor that announces its ledger to the signing swarm, as `shadw start` does. With
 * `serve: false` it joins the swarm but takes calls only once `serve()` is called (a node
 * that joins later would wait for a caller's next DHT refresh to be found).
 */
export async function announcingExecutor (net: Testnet, executor: Executor, opts: { serve?: boolean } = {}): Promise<{ node: ShadwNode, key: string, ledgerKey: string, serve (): void }> {
  const { node, keyPair } = await keyedNode(net, 'super')
  const ledger = await node.createLog('ledger')
  const loader = new FunctionLoader({ host: node })
  onTestFinished(async () => { await loader.close() })
  const service = new InvokeService({ executor, functions: loader, keyPair, slots: 4, ledger: { key: b4a.from(ledger.key, 'hex'), append: async (blocks) => await node.append(ledger.key, blocks) } })
  const endpoint = new InvokeEndpoint({ host: node, tier: 'super', service })
  if (opts.serve !== false) endpoint.start()
  const announcer = new LedgerAnnouncer({ host: node, ledgers: () => [ledger.key] })
  announcer.start()
  await node.joinSigning('executor')
  onTestFinished(() => { endpoint.stop(); announcer.stop() })
  return { node, key: node.publicKey, ledgerKey: ledger.key, serve: () => { endpoint.start() } }
}

/** A light node that only calls. */
export async function callerNode (net: Testnet, opts: Pick<InvokeEndpointOptions, 'onmiss'> & { drives?: boolean } = {}): Promise<{ node: ShadwNode, endpoint: InvokeEndpoint }> {
  const { node } = await keyedNode(net, 'light')
  const { drives, ...rest } = opts
  // `drives`: its calls pin their function's "latest" mounts, as a real caller's do
  const endpoint = new InvokeEndpoint({ host: node, tier: 'light', ...rest, ...(drives === true ? { drives: node } : {}) })
  endpoint.start()
  onTestFinished(() => { endpoint.stop() })
  return { node, endpoint }
}

/** A publisher node with a registry; `publish` returns the exact ref. */
export async function publisher (net: Testnet): Promise<{ registry: Registry, publish (module: Uint8Array, opts: PublishOptions): Promise<string> }> {
  const { store } = await keyedNode(net, 'super')
  const registry = await Registry.create(store, createPublisherKeyPair())
  onTestFinished(async () => { await registry.close() })
  return {
    registry,
    async publish (module, opts) {
      await registry.publish(module, opts)
      return `${registry.key}/${opts.name}@${opts.version}`
    }
  }
}

/** A test double of our own Executor interface: wraps a real one, optionally lying or holding calls. */
export class FaultyExecutor implements Executor {
  readonly inner: Executor
  calls = 0
  /** XOR mask applied to every output byte (0: honest); a lying executor */
  lie = 0
  /** when set, a call waits for this promise before running (a call "in progress") */
  hold: Promise<void> | null = null
  onCall: (() => void) | null = null

  constructor (inner: Executor) { this.inner = inner }
  get size (): number { return this.inner.size }

  async execute (call: ExecuteCall, options?: ExecuteOptions): Promise<ExecuteResult> {
    this.calls++
    this.onCall?.()
    if (this.hold !== null) await this.hold
    const result = await this.inner.execute(call, options)
    if (this.lie === 0) return result
    return { ...result, output: result.output.map(b => b ^ this.lie) }
  }

  async close (): Promise<void> {}
}

/** Waits until `fn` is true, polling; bounded. */
export async function until (what: string, fn: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

/**
 * The node worker's life: the leader tab's init message starts the origin's one shadw node
 * (OPFS storage, the relay; a contributor who offered disk holds pinned drives and erasure
 * shards in it), its contribution and publisher hosts with one verified-module
 * cache between them and the bridge, the bridge that answers every context of the origin,
 * and direct WebRTC links once the page sends their control port. The entry file
 * (workers/node.worker.ts) only hands its global scope to {@link serveNodeWorker}.
 */
import { serializeError } from '../core/errors.ts'
import { enableLog } from '../core/log.ts'
import { LinkManager } from '../core/links/link-manager.ts'
import { parseWebrtcWorkerInit, type WebrtcWorkerInit } from '../core/links/link-protocol.ts'
import { FunctionLoader, StorageModuleStore } from '../core/registry/index.ts'
import { BridgeServer, MODULE_CACHE_ROOT, type BridgePort } from './bridge-server.ts'
import { BrowserNode } from './browser-node.ts'
import { ContributionHost } from './contribution-host.ts'
import type { ExecutorWrapper } from './invoke-host.ts'
import { parseNodeWorkerInit, type NodeWorkerInit, type NodeWorkerReply } from './node-worker-protocol.ts'
import { opfsStorage } from './opfs-storage.ts'
import { PublisherHost } from './publisher-host.ts'
import { DriveHost } from './drive-host.ts'
import { DiskBudget, Holder, ShardHolder } from '../core/pinning/index.ts'
import { STORAGE_LEDGER_LOG_NAME } from '../core/ledger/index.ts'
import { holderBudget } from './holder-budget.ts'
import { reedSolomonBrowser } from './reed-solomon-browser.ts'
import sodium from 'sodium-universal'
import { useFastEd25519, type SodiumSign } from './sodium-ed25519.ts'
import { traceToChannel, wantsTrace } from './trace-channel.ts'

// every signature the node makes or checks (receipts, Hypercore, the DHT) is made or checked here
useFastEd25519(sodium as unknown as SodiumSign)

/** What the node worker needs of its global scope (a DedicatedWorkerGlobalScope). */
export interface NodeWorkerScope {
  postMessage (message: NodeWorkerReply): void
  onmessage: ((ev: MessageEvent) => void) | null
  readonly location: { readonly host: string }
  /** the worker's `navigator`: its storage estimate caps a holder's budget */
  readonly navigator?: { readonly storage?: { estimate (): Promise<{ quota?: number, usage?: number }> } }
}

/** Options of {@link serveNodeWorker}. */
export interface NodeWorkerOptions {
  /** wraps the executor of every executor role the node starts (a test's entry injects faults; the app's passes none) */
  wrapExecutor?: ExecutorWrapper
}

/**
 * Answers the leader tab's messages on `scope`: the init message starts the node (once; a
 * malformed one is answered `failed`), a `webrtc` message hands over the control port of the
 * page's peer connections, a `bridge` message hands over the leader tab's own bridge port
 * (see {@link BridgeServer.attach}).
 */
export function serveNodeWorker (scope: NodeWorkerScope, opts: NodeWorkerOptions = {}): void {
  let host: BrowserNode | null = null
  let bridge: BridgeServer | null = null
  /** direct WebRTC links: the page sends their control port beside init (it owns the peer connections) */
  let webrtc: WebrtcWorkerInit | null = null
  let links: LinkManager | null = null
  /** the leader tab's own bridge port, if it came before the bridge was up */
  let bridgePort: BridgePort | null = null

  const startLinks = (): void => {
    if (host === null || webrtc === null || links !== null) return
    links = new LinkManager({ node: host.node, keyPair: host.keyPair, port: webrtc.port, config: webrtc.config })
    links.start()
  }

  const start = async (init: NodeWorkerInit): Promise<void> => {
    if (init.debug !== undefined) enableLog(init.debug)
    if (wantsTrace(init.debug)) traceToChannel('node')
    const node = await BrowserNode.start({
      relayUrl: init.relayUrl,
      storage: opfsStorage(init.storageRoot),
      storageKind: 'opfs',
      leader: init.leader,
      tier: init.tier,
      onEvent: (name, data) => { bridge?.publish(name, data) }
    })
    host = node
    // one cache of verified modules for every loader of the node (the bridge's, the roles'):
    // a module fetched once is not fetched again, whoever loads it next
    const modules = new StorageModuleStore(opfsStorage(MODULE_CACHE_ROOT))
    // the origin's invocation endpoint (and executor role when the contributor opted in);
    // tenants' SIWE auth names this app's host
    const contribution = new ContributionHost(node, {
      domain: scope.location.host,
      modules,
      ...(init.execute === undefined ? {} : { execute: init.execute }),
      ...(opts.wrapExecutor === undefined ? {} : { wrapExecutor: opts.wrapExecutor })
    })
    await contribution.start()
    // a contributor who offered disk holds pinned drives while the tab is open, within the quota
    const budget = await holderBudget(init.diskBudget ?? 0, scope.navigator?.storage === undefined ? undefined : async () => await scope.navigator!.storage!.estimate())
    if (budget > 0) {
      // one budget for whole replicas and erasure shards, both in the origin's OPFS
      const disk = new DiskBudget(budget)
      // its storage receipts go to its own storage ledger, which the page reads for its credits
      const ledger = (await node.node.createLog(STORAGE_LEDGER_LOG_NAME)).key
      const holder = new Holder({ node: node.node, keyPair: node.keyPair, budget: disk, ledger: { append: async blocks => await node.node.append(ledger, blocks) } })
      await holder.start()
      // calls over the drives this tab holds are routed to it, as to a Node holder
      contribution.setHoldings(() => holder.holdings())
      // a closing tab is churn like any holder's: its co-holders repair its slots
      new ShardHolder({ node: node.node, keyPair: node.keyPair, budget: disk, rs: reedSolomonBrowser }).start()
    }
    bridge = new BridgeServer(node, {
      contribution,
      publisher: new PublisherHost(node),
      drives: new DriveHost(node),
      createLoader: () => new FunctionLoader({ host: node.node, cache: modules })
    })
    bridge.publish('ready', node.status())
    if (bridgePort !== null) bridge.attach(bridgePort)
    bridgePort = null
    startLinks()
    scope.postMessage({ type: 'started', status: node.status() })
  }

  scope.onmessage = (ev: MessageEvent) => {
    const type = (ev.data as { type?: unknown } | null)?.type
    if (type === 'bridge') {
      const port = (ev.data as { port?: unknown }).port
      if (!(port instanceof MessagePort)) return
      if (bridge !== null) bridge.attach(port)
      else bridgePort = port
      return
    }
    if (type === 'webrtc') {
      try {
        webrtc ??= parseWebrtcWorkerInit(ev.data)
        startLinks()
      } catch (err) {
        // links stay off and the node runs on the relay; the page's init reply is not this one's to give
        console.warn('shadw: direct links disabled:', (err as Error).message)
      }
      return
    }
    let init: NodeWorkerInit
    try {
      init = parseNodeWorkerInit(ev.data)
    } catch (err) {
      scope.postMessage({ type: 'failed', error: serializeError(err) })
      return
    }
    if (host !== null) return
    start(init).catch(err => { scope.postMessage({ type: 'failed', error: serializeError(err) }) })
  }
}

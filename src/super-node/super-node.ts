import { DRIVE_PREFIX } from '../core/drive/index.ts'
import { driveServer } from './drive-server.ts'
import Corestore from 'corestore'
import type { Server } from 'node:http'
import HyperDHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import b4a from 'b4a'
import { ShadwError } from '../core/errors.ts'
import { log } from '../core/log.ts'
import { fileStorage } from './file-storage.ts'
import { widenSocketBuffers } from './socket-buffers.ts'
import { startCallKeys, startKeyHolder, type KeyHolderRole } from './key-holder.ts'
import { nodeIdentity, ShadwNode, type NodeStatus } from '../core/node/index.ts'
import { followPublishers } from '../core/registry/index.ts'
import { AppServer } from './app-server.ts'
import { startLocalDht, type LocalDht } from './local-dht.ts'
import { RelayServer } from './relay-server.ts'
import { DEFAULT_MEMORY_BUDGET_BYTES, MemoryBudget } from './memory-budget.ts'
import { parseTier, TIER_ROLES } from '../core/node/index.ts'
import type { LightSigningService } from '../core/attest/index.ts'
import { creditsFromLedgers, STORAGE_LEDGER_LOG_NAME } from '../core/ledger/index.ts'
import type { NodeTier } from '../core/node/index.ts'
import { storageError } from './storage-error.ts'
import { NEUTRAL_REPUTATION } from '../core/reputation/index.ts'
import { startExecutorService, type ExecutorService } from './executor-service.ts'
import { endpointGateway, FN_PREFIX } from '../core/gateway/index.ts'
import { MAX_INPUT_BYTES } from '../core/invoke/index.ts'
import { startCallerRole, startSigningRole, type CallerRole } from '../core/roles/index.ts'
import { createNodeExecutor } from './executor/index.ts'
import type { WebrtcConfig } from '../core/links/link-protocol.ts'
import { startWebrtcLinks, type WebrtcLinks } from './webrtc-links.ts'
import { DiskBudget, Holder, ProofChallenger, ShardHolder } from '../core/pinning/index.ts'
import { reedSolomon } from './reed-solomon-node.ts'
import { Catalogue } from '../core/catalogue/index.ts'
import { mountCatalogue } from './catalogue-routes.ts'

import { DEFAULT_PORT } from './defaults.ts'

const debug = log('super-node')

export { DEFAULT_PORT } from './defaults.ts'
/** Loopback by default: a node is exposed to a network only when its operator says so. */
export const DEFAULT_HOST = '127.0.0.1'
/** Path of the WebSocket DHT relay on the app's port. */
export const RELAY_PATH = '/relay'
/** Disk a node of a storing tier holds for others when its operator sets no `--disk-budget`: 1 GiB. */
export const DEFAULT_DISK_BUDGET = 1024 ** 3
/** The methods the `/fn/*` gateway answers; any other is a 405. */
const FN_METHODS: readonly string[] = ['POST', 'OPTIONS']
/** How long the super node waits for its DHT to bootstrap before calling it unreachable. */
export const BOOTSTRAP_TIMEOUT_MS = 15_000

export interface SuperNodeOptions {
  /** directory of the node's logs */
  storage: string
  /** directory of the built web app */
  appRoot: string
  port?: number
  host?: string
  /** `host:port` entries of an existing DHT; none = start an embedded local DHT */
  bootstrap?: string[]
  /** join the public HyperDHT instead of a local one */
  public?: boolean
  /** executor worker threads (default: CPU count − 1); 0 = do not execute functions for the swarm */
  workers?: number
  /**
   * Take direct WebRTC links from browsers (`@roamhq/wrtc`), so their replication leaves the
   * relay: `true` for the defaults (no ICE servers), or ICE servers and the connect timeout.
   */
  webrtc?: boolean | Partial<WebrtcConfig>
  /**
   * which lite-paper tier this node serves as (default `super`; see TIER_ROLES): only a super
   * node runs the relay; light nodes do not execute
   */
  tier?: NodeTier
  /**
   * bytes of pinned drives this node holds for others (tiers that store; default
   * {@link DEFAULT_DISK_BUDGET}); 0 = hold nothing
   */
  diskBudget?: number
  /** silence after which a co-holder of a drive is gone and its replica re-pinned (or its erasure slot rebuilt), ms */
  repinGraceMs?: number
  /** mean time between two storage challenges of one co-holder, ms (default `DEFAULT_PROOF_INTERVAL_MS`) */
  proofIntervalMs?: number
  /** JSON-RPC endpoints per chain (Lit chain names) the executor reads access conditions' chain state from */
  rpc?: Record<string, string[]>
  /** hold shares of condition-gated keys for dealers (docs/access.md, "Key holders over the wire"); off by default */
  keyHolder?: boolean
  /**
   * bytes of unfinished `/fn` request bodies, pre-handshake relay messages, relayed streams'
   * queues and relay clients' unread backlogs buffered at once, over all clients (default
   * DEFAULT_MEMORY_BUDGET_BYTES); beyond it, typed refusals (503, a relay stream or client closed)
   */
  memoryBudgetBytes?: number
}

/** What an operator (and `/api/status`) needs to know about a running super node. */
export interface SuperNodeInfo {
  appUrl: string
  relayUrl: string
  bootstrap: string[]
  publicKey: string
}

interface Parts { localDht: LocalDht | null, dht: HyperDHT, relayDht: HyperDHT, app: AppServer, relay: RelayServer, executor: ExecutorService | null, caller: CallerRole | null, links: WebrtcLinks | null, signing: LightSigningService | null, stopSigning: () => Promise<void>, holder: Holder | null, catalogue: Catalogue | null, shards?: ShardHolder | null, proofs?: ProofChallenger | null, keys: KeyHolderRole | null }

/** Parses `host:port` entries, refusing anything else with a typed error. */
export function parseBootstrap (entries: string[]): Array<{ host: string, port: number }> {
  return entries.map(entry => {
    const m = /^([a-zA-Z0-9.-]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(entry.trim())
    const port = m === null ? NaN : Number(m[2])
    if (m === null || m[1] === undefined || !(port > 0 && port < 65536)) throw ShadwError.INVALID_BOOTSTRAP(entry)
    return { host: m[1], port }
  })
}

/**
 * A super node: native Hyperswarm on a HyperDHT (embedded on loopback unless told otherwise),
 * logs in a Corestore on disk, a WebSocket DHT relay for browsers, and the web app.
 */
export class SuperNode {
  readonly node: ShadwNode
  readonly info: SuperNodeInfo
  readonly #parts: Parts
  #stopping: Promise<void> | null = null

  private constructor (node: ShadwNode, info: SuperNodeInfo, parts: Parts) {
    this.node = node
    this.info = info
    this.#parts = parts
  }

  /** Starts every part; on any failure, stops what already started and throws a typed error. */
  static async start (opts: SuperNodeOptions): Promise<SuperNode> {
    const host = opts.host ?? DEFAULT_HOST
    const bootstrapArg = opts.bootstrap !== undefined && opts.bootstrap.length > 0 ? parseBootstrap(opts.bootstrap) : null
    const cleanup: Array<() => Promise<void>> = []
    const undo = async (): Promise<void> => { for (const fn of cleanup.reverse()) await fn().catch(() => {}) }
    try {
      let localDht: LocalDht | null = null
      let bootstrap = bootstrapArg
      if (bootstrap === null && opts.public !== true) {
        localDht = await startLocalDht({ host: '127.0.0.1' })
        cleanup.push(() => localDht?.destroy() ?? Promise.resolve())
        bootstrap = localDht.bootstrap
      }
      // On loopback every DHT node must bind 127.0.0.1: with the default 0.0.0.0 bind the Noise
      // handshake completes but no data reaches a server on this machine.
      // A fresh node on loopback cannot tell it is reachable (its NAT sampling needs peers on
      // other hosts) and calls itself firewalled; peers then holepunch instead of dialling it
      // and the connection can open on one side only. On our own loopback DHT it is not.
      // A node joining another's loopback DHT (--bootstrap 127.0.0.1:…) is on loopback too: bound
      // to 0.0.0.0 and calling itself firewalled it could dial out but nobody could dial it, so
      // a caller reached only the first super node of a local swarm.
      const loopback = localDht !== null || (bootstrap !== null && bootstrap.every(b => b.host === '127.0.0.1' || b.host === 'localhost'))
      const dhtOpts = bootstrap === null ? {} : loopback ? { bootstrap, host: '127.0.0.1', firewalled: false } : { bootstrap }
      const dht = new HyperDHT(dhtOpts)
      // see socket-buffers.ts: a pipelining peer's bursts must not overflow the kernel's default
      widenSocketBuffers(dht)
      cleanup.push(() => dht.destroy())
      await bootstrapped(dht, bootstrap)
      // The relay gets a DHT node of its own: browsers' proxied servers and the super node's
      // own server must not share one UDP socket's routing state.
      const relayDht = new HyperDHT(dhtOpts)
      widenSocketBuffers(relayDht)
      cleanup.push(() => relayDht.destroy())
      await bootstrapped(relayDht, bootstrap)

      // the files Corestore would open for the path, read and written without thread-pool
      // round trips (see file-storage.ts)
      const store = new Corestore(fileStorage(opts.storage))
      await store.ready().catch(err => { throw storageError(opts.storage, err) })
      const keyPair = await nodeIdentity(store)
      const swarm = new Hyperswarm({ dht, keyPair })
      const tier = opts.tier ?? 'super'
      const roles = TIER_ROLES[parseTier(tier)]
      const node = new ShadwNode({ swarm, store, tier })
      cleanup.push(() => node.stop())
      await node.start()
      const links = opts.webrtc === undefined || opts.webrtc === false ? null : await startWebrtcLinks(node, keyPair, opts.webrtc === true ? {} : opts.webrtc)
      if (links !== null) cleanup.push(async () => { links.stop() })
      // registries that `shadw publish` wrote into this storage are served to the swarm
      const served = await followPublishers(node, store)

      const budget = new MemoryBudget(opts.memoryBudgetBytes ?? DEFAULT_MEMORY_BUDGET_BYTES)
      const app = new AppServer({ root: opts.appRoot, budget })
      const relay = new RelayServer({ dht: relayDht, server: app.server, path: RELAY_PATH, budget, local: ownServer(swarm) })
      cleanup.push(() => app.close(), () => relay.stop()) // undone in reverse: relay, then app
      if (roles.relays) {
        app.claimUpgrade(RELAY_PATH)
        await relay.start()
      }
      const address = await app.listen(opts.port ?? DEFAULT_PORT, host)
      const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address
      // tenants' SIWE auth names the app's host, as their pages see it
      // key holders before the executor: an executor that holds keys fetches its calls' keys over the same channel
      const keys = opts.keyHolder === true ? await startKeyHolder(node, keyPair, { domain: `${urlHost}:${address.port}`, storage: opts.storage, ...(opts.rpc === undefined ? {} : { rpc: opts.rpc }) }) : null
      if (keys !== null) cleanup.push(async () => { keys.stop() })
      const executes = opts.workers !== 0 && roles.computes
      const callKeys = executes ? startCallKeys(node, keyPair, keys) : null
      if (callKeys !== null) cleanup.push(async () => { callKeys.stop() })
      const executor = !executes ? null : await startExecutorService(node, keyPair, { domain: `${urlHost}:${address.port}`, budget, ...(opts.workers === undefined ? {} : { workers: opts.workers }), ...(opts.rpc === undefined ? {} : { rpc: opts.rpc }), ...(callKeys === null ? {} : { keys: callKeys.keys }) })
      if (executor !== null) cleanup.push(() => executor.stop())
      // light nodes co-sign the receipts of the executors that announce their ledgers to them,
      // and re-run audited calls in a sandbox of their own (one worker: checking, not serving)
      let signing: LightSigningService | null = null
      let stopSigning = async (): Promise<void> => {}
      if (roles.signs) {
        const role = await startSigningRole(node, { executor: createNodeExecutor({ size: 1 }), keyPair })
        stopSigning = role.stop
        cleanup.push(stopSigning)
        signing = role.signing
      }
      // the `/fn/*` gateway for tenants' pages on any origin (CORS) and for the SDK, on every
      // super node: calling is the caller's job, so one that does not execute calls executors
      // elsewhere in the swarm through an endpoint of its own
      const caller = executor === null ? startCallerRole(node, { audit: !roles.signs }) : null
      if (caller !== null) cleanup.push(async () => { caller.stop() })
      if (executor !== null) app.mount(FN_PREFIX, endpointGateway(executor.endpoint, { executes: true }), MAX_INPUT_BYTES, FN_METHODS)
      if (caller !== null) app.mount(FN_PREFIX, endpointGateway(caller.endpoint, { executes: false }), MAX_INPUT_BYTES, FN_METHODS)
      // `/drive/*`: files of any drive the swarm holds, streamed (GET and HEAD only, no body)
      const drives = driveServer(node)
      cleanup.push(() => drives.close())
      app.mount(DRIVE_PREFIX, drives.handler, 0, ['GET', 'HEAD', 'OPTIONS'])
      // a storing tier keeps pinned drives within its disk budget
      const diskBudget = opts.diskBudget ?? DEFAULT_DISK_BUDGET
      // one budget for whole replicas and erasure shards alike
      const disk = roles.stores && diskBudget > 0 ? new DiskBudget(diskBudget) : null
      const storageLedger = disk !== null ? (await node.createLog(STORAGE_LEDGER_LOG_NAME)).key : null
      const ledger = storageLedger === null ? undefined : { append: async (blocks: Uint8Array[]) => await node.append(storageLedger, blocks) }
      // a co-holder that a quorum of storage proofs fails now is the last choice for a re-pin
      let proofs: ProofChallenger | null = null
      const reputation = (key: string): number => proofs !== null && proofs.book.failuresOf(key).length > 0 ? 0 : NEUTRAL_REPUTATION
      const holder = disk !== null && ledger !== undefined ? new Holder({ node, keyPair, budget: disk, ledger, reputation, ...(opts.repinGraceMs === undefined ? {} : { graceMs: opts.repinGraceMs }) }) : null
      if (holder !== null) {
        cleanup.push(async () => { holder.stop() })
        await holder.start()
        // calls over the drives this node holds are routed here (docs/performance.md)
        executor?.endpoint.setHoldings(() => holder.holdings())
      }
      const shards = disk !== null ? new ShardHolder({ node, keyPair, budget: disk, ledger, rs: async () => reedSolomon(), ...(opts.repinGraceMs === undefined ? {} : { graceMs: opts.repinGraceMs }) }) : null
      if (shards !== null) {
        cleanup.push(async () => { shards.stop() })
        shards.start()
      }
      // holders challenge the other holders of what they hold, and record the verdicts
      proofs = disk !== null ? new ProofChallenger({ node, keyPair, shards, holder, ledger, ...(opts.proofIntervalMs === undefined ? {} : { meanMs: opts.proofIntervalMs }) }) : null
      if (proofs !== null) {
        const p = proofs
        cleanup.push(async () => { p.stop() })
        p.start()
      }
      // the functions this node learns of from the registries peers announce (docs/functions.md)
      const catalogue = new Catalogue({ host: node, publicKey: node.publicKey, executes: executor !== null, served: () => served })
      cleanup.push(async () => { catalogue.stop() })
      catalogue.start()
      mountCatalogue(app, catalogue)
      const info: SuperNodeInfo = {
        appUrl: `http://${urlHost}:${address.port}/`,
        relayUrl: `ws://${urlHost}:${address.port}${RELAY_PATH}`,
        bootstrap: (bootstrap ?? []).map(b => `${b.host}:${b.port}`),
        publicKey: node.publicKey
      }
      const superNode = new SuperNode(node, info, { localDht, dht, relayDht, app, relay, links, executor, caller, signing, stopSigning, holder, catalogue, shards, proofs, keys })
      app.route('/api/status', () => superNode.status())
      app.route('/api/credits', async () => await superNode.credits())
      debug('started', info)
      return superNode
    } catch (err) {
      await undo()
      throw err
    }
  }

  /**
   * Stops the relay only (browsers lose their swarm access; the node, DHT and app stay up):
   * what an operator does to restart a misbehaving relay, and what fault drills exercise.
   */
  async stopRelay (): Promise<void> {
    await this.#parts.relay.stop()
  }

  /** Starts the relay again after {@link stopRelay}; browsers re-dial it on their own. */
  async startRelay (): Promise<void> {
    await this.#parts.relay.start()
  }

  /**
   * This node's own view of its credits (docs/pricing.md): recomputed from the receipts in its
   * ledger on every call, so it is exactly what any replica of it computes. µcredits.
   */
  async credits (): Promise<{ earned: Record<string, number>, spent: Record<string, number>, counted: number, unpriced: number, rejected: number }> {
    const executor = this.#parts.executor
    if (executor === null) return { earned: {}, spent: {}, counted: 0, unpriced: 0, rejected: 0 }
    const key = executor.ledgerKey
    const c = await creditsFromLedgers([{ length: this.node.logInfo(key).length, get: async (i: number) => await this.node.get(key, i) }])
    return { earned: Object.fromEntries(c.earned), spent: Object.fromEntries(c.spent), counted: c.counted, unpriced: c.unpriced, rejected: c.rejected.length }
  }

  /** The HTTP server of the app, the API, the gateway and the relay (for its connection count). */
  get httpServer (): Server {
    return this.#parts.app.server
  }

  /** The catalogue of functions this node knows of. */
  get catalogue (): Catalogue | null {
    return this.#parts.catalogue
  }

  /** The light-node signing service (tier `light`), or null. */
  get signing (): LightSigningService | null {
    return this.#parts.signing
  }

  /** The holder of pinned drives (tiers that store, with a disk budget), or null. */
  get holder (): Holder | null {
    return this.#parts.holder
  }

  /** The erasure shard holder (tiers that store), or null. */
  get shards (): ShardHolder | null {
    return this.#parts.shards ?? null
  }

  /** The live storage proofs (tiers that store): verdicts, failed holders, `onHolderFailed`. */
  get proofs (): ProofChallenger | null {
    return this.#parts.proofs ?? null
  }

  /** the key-holder role, when started with `keyHolder` */
  get keys (): KeyHolderRole | null {
    return this.#parts.keys
  }

  /** The executor service (invocation endpoint, ledger), or null when started with `workers: 0`. */
  get executor (): ExecutorService | null {
    return this.#parts.executor
  }

  /** `/api/status`: the node, where to reach it, and every log it holds. */
  status (): NodeStatus & SuperNodeInfo & { relay: ReturnType<RelayServer['stats']>, memory: ReturnType<MemoryBudget['stats']> } {
    return { ...this.node.status(), ...this.info, relay: this.#parts.relay.stats(), memory: this.#parts.app.budget.stats() }
  }

  /** Stops everything, most dependent part first. Safe to call twice. */
  stop (): Promise<void> {
    this.#stopping ??= (async () => {
      const { app, relay, dht, relayDht, localDht } = this.#parts
      // relay first: its upgraded sockets would hold the HTTP server's close() open
      await relay.stop()
      await app.close()
      await this.#parts.executor?.stop()
      this.#parts.proofs?.stop()
      this.#parts.holder?.stop()
      this.#parts.shards?.stop()
      this.#parts.keys?.stop()
      this.#parts.caller?.stop()
      await this.#parts.stopSigning()
      this.#parts.catalogue?.stop()
      this.#parts.links?.stop()
      await this.node.stop()
      await relayDht.destroy()
      await dht.destroy()
      await localDht?.destroy()
      debug('stopped')
    })()
    return this.#stopping
  }
}

/**
 * A browser dialling this node through its relay reaches the swarm's own server in memory
 * rather than over a loopback UDX stream from the relay's DHT node to the node's (see
 * relay-server.ts).
 */
export function ownServer (swarm: Hyperswarm): (publicKey: Uint8Array) => unknown {
  return (publicKey) => {
    const server = swarm.server
    return server.listening && !server.closed && b4a.equals(publicKey, swarm.keyPair.publicKey) ? server : null
  }
}

async function bootstrapped (dht: HyperDHT, bootstrap: Array<{ host: string, port: number }> | null): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => { reject(ShadwError.TIMEOUT('DHT bootstrap', BOOTSTRAP_TIMEOUT_MS)) }, BOOTSTRAP_TIMEOUT_MS)
  })
  try {
    await Promise.race([dht.fullyBootstrapped(), timeout])
  } catch (err) {
    throw ShadwError.BOOTSTRAP_UNREACHABLE((bootstrap ?? []).map(b => `${b.host}:${b.port}`), err)
  } finally {
    clearTimeout(timer)
  }
  // fullyBootstrapped() also resolves when nobody answered: an empty routing table says so
  if (dht.toArray().length === 0) throw ShadwError.BOOTSTRAP_UNREACHABLE((bootstrap ?? []).map(b => `${b.host}:${b.port}`))
}

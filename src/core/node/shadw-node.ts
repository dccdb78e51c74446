import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import crypto from 'hypercore-crypto'
import type Hyperswarm from 'hyperswarm'
import type { SwarmConnection } from 'hyperswarm'
import { ShadwError } from '../errors.ts'
import { keyToHex, parseKey } from '../keys.ts'
import { log } from '../log.ts'
import { Connections, type ConnectionClassifier } from './connections.ts'
import { Emitter } from './emitter.ts'
import { LogStore, type DownloadResult } from './log-store.ts'
import { isSwitchableTier, SWITCHABLE_TIERS } from './tiers.ts'
import { networkTopic, superTopic, Topics, type SigningRole } from './topics.ts'
import type { LogInfo, NodeStatus, NodeTier, PeerStatus } from './types.ts'

const debug = log('node')

/** Narrow dependencies of a node: the host builds them for its runtime. */
export interface ShadwNodeOptions {
  swarm: Hyperswarm
  store: Corestore
  tier: NodeTier
  classifyConnection?: ConnectionClassifier
  /** longest wait between lookups of the network topic, ms (default `REDISCOVER_MAX_MS`) */
  rediscoverMs?: number
}

/** Events a node emits for its host (status pages, the app). */
export type ShadwNodeEvents = {
  append: [log: { key: string, length: number }]
  peer: [peer: PeerStatus, state: 'open' | 'closed']
  /** every live connection as it opens (swarm or attached), for protocols that ride on it (signalling) */
  connection: [conn: SwarmConnection, peer: PeerStatus]
}

/**
 * A shadw node: one Hyperswarm identity, a Corestore of logs, replication on every
 * connection. Isomorphic: the host (super node in Node.js, node worker in browsers) builds the
 * swarm and store for its runtime and hands them in. This class is the node's lifecycle and
 * public surface; its topics, held logs and connections are parts of their own.
 *
 * @example
 * ```ts
 * const node = new ShadwNode({ swarm, store, tier: 'super' })
 * await node.start()
 * const log = await node.createLog('ledger')
 * await node.append(log.key, [b4a.from('hello')])
 * ```
 */
export class ShadwNode extends Emitter<ShadwNodeEvents> {
  #tier: NodeTier
  #swarm: Hyperswarm
  readonly #store: Corestore
  readonly #topics: Topics
  readonly #logs: LogStore
  readonly #connections: Connections
  #starting: Promise<void> | null = null
  #stopping: Promise<void> | null = null
  /** hex key -> why its topic could not be joined, for a log followed without awaiting its announce */
  readonly #joinFailures = new Map<string, unknown>()
  /**
   * The rejecters of the network waits under way (#onNetwork), called with NODE_CLOSED once
   * stop() begins. A set each wait leaves, not one promise every wait races against: a
   * long-lived promise keeps a reaction per race until it settles, a leak over a node's life.
   */
  readonly #onStop = new Set<(err: ShadwError) => void>()

  constructor (opts: ShadwNodeOptions) {
    super()
    this.#tier = opts.tier
    this.#swarm = opts.swarm
    this.#store = opts.store
    this.#topics = new Topics({ swarm: () => this.#swarm, stopping: () => this.#stopping !== null, rediscoverMs: opts.rediscoverMs })
    this.#logs = new LogStore(opts.store, async (core, key, awaitAnnounce) => { await this.#hold(core, key, awaitAnnounce) })
    this.#connections = new Connections({
      classify: opts.classifyConnection,
      replicate: conn => { this.#store.replicate(conn) },
      cores: () => this.#logs.cores(),
      onPeer: (peer, state) => { this.emit('peer', peer, state) },
      onConnection: (conn, peer) => { this.emit('connection', conn, peer) }
    })
  }

  /** The tier this node serves as now (a browser contributor can switch between light and shadow). */
  get tier (): NodeTier {
    return this.#tier
  }

  /**
   * Switches the tier of a running node between light and shadow ({@link SWITCHABLE_TIERS}):
   * what it announces in status. The services that go with a tier (executor, signing
   * service) are the host's to swap, and they take the node onto the signing topic and off
   * it ({@link joinSigning}); adverts carry the tier their endpoint was made with.
   *
   * @throws ShadwError `INVALID_ARGUMENT` for any other tier, or on a node that is neither
   *   light nor shadow; `NODE_CLOSED` once stopped
   */
  async setTier (tier: NodeTier): Promise<void> {
    this.#assertOpen()
    if (!isSwitchableTier(tier) || !isSwitchableTier(this.#tier)) {
      throw ShadwError.INVALID_ARGUMENT(`a running node switches between ${SWITCHABLE_TIERS.join(' and ')} only; this one is ${this.#tier}, asked for ${String(tier)}`)
    }
    this.#tier = tier
  }

  /**
   * Puts the node on the signing topic for as long as a service of `role` runs: an executor
   * joins as server (every light node finds it), a light signing service as server and client
   * (it dials every executor, and light nodes find each other). Ref-counted per role; the
   * topic is joined in the union of the running roles' modes and left when none runs. Resolves
   * once the announce is on the DHT (bounded by `ANNOUNCE_WAIT_MS`), with the function
   * that ends this membership (safe to call twice, never rejects; a no-op once the node stopped).
   *
   * @example
   * ```ts
   * const leave = await node.joinSigning('executor')
   * // ... serve calls ...
   * await leave()
   * ```
   * @throws ShadwError `INVALID_ARGUMENT` for another role; `NODE_CLOSED` when not running.
   *   If joining fails the node is back on the topic as it was, and the error is rethrown.
   */
  async joinSigning (role: SigningRole): Promise<() => Promise<void>> {
    this.#assertOpen()
    return await this.#topics.joinSigning(role)
  }

  /**
   * Joins a topic a service on this node needs (the holders' topic): announced (`server`),
   * looked up (`client`) or both, kept across a swarm swap; resolves once the announce is on
   * the DHT (bounded by `ANNOUNCE_WAIT_MS`). A topic joined already stays as it is.
   * @throws ShadwError `NODE_CLOSED` when not running
   */
  async joinTopic (topic: Uint8Array, mode: { server: boolean, client: boolean }): Promise<void> {
    this.#assertOpen()
    await this.#topics.join(topic, mode)
  }

  /** The node's swarm identity (ed25519 public key), hex. */
  get publicKey (): string {
    return keyToHex(this.#swarm.keyPair.publicKey)
  }

  /** Opens storage, re-opens held logs and joins the swarm. Safe to call twice. */
  start (): Promise<void> {
    this.#starting ??= this.#start()
    return this.#starting
  }

  async #start (): Promise<void> {
    await this.#store.ready()
    this.#connections.listen(this.#swarm)
    await this.#logs.open()
    // Super nodes wait to be dialled on the network topic (every browser dials them), and
    // find each other on a topic of their own.
    // The topics' announces go to the DHT together: one round of waiting, not one per topic.
    // The signing topic is the running services' to join (joinSigning), not the tier's.
    await Promise.all([
      this.#topics.join(networkTopic(), { server: true, client: this.tier !== 'super' }),
      this.tier === 'super' ? this.#topics.join(superTopic()) : null
    ])
    if (this.tier !== 'super') this.#topics.startRediscovery()
    debug('started', this.publicKey, 'logs:', this.#logs.size)
  }

  /** Leaves the swarm and closes every log. Safe to call twice; the node cannot restart. */
  stop (): Promise<void> {
    this.#stopping ??= this.#stop()
    return this.#stopping
  }

  async #stop (): Promise<void> {
    const closed = ShadwError.NODE_CLOSED('node stopped')
    for (const stop of this.#onStop) stop(closed)
    await this.#starting?.catch(() => {})
    this.#topics.stop()
    await this.#swarm.destroy()
    this.#connections.destroyAttached()
    await this.#logs.close()
    await this.#store.close()
    debug('stopped')
  }

  /** Creates (or re-opens) a log this node writes, by local name. */
  async createLog (name: string): Promise<LogInfo> {
    this.#assertOpen()
    return this.logInfo(await this.#logs.create(name))
  }

  /**
   * Starts replicating someone else's log, sparsely: blocks come when asked for. A
   * `tentative` follow (a log that may not exist anywhere) is not remembered across restarts
   * until {@link keep}; {@link forget} leaves its topic and deletes it. `awaitAnnounce: false`
   * resolves once the log is open, with its topic being joined meanwhile: a reader that wants
   * blocks now gets them from peers already connected (and from those the lookup finds) without
   * first waiting for this node's own announce to reach the DHT, which only helps others find
   * it (one DHT walk, through the relay in a browser). Reads still wait for the first lookup
   * before giving up on finding a peer.
   */
  async follow (key: Uint8Array | string, opts: { tentative?: boolean, awaitAnnounce?: boolean } = {}): Promise<LogInfo> {
    this.#assertOpen()
    return this.logInfo(await this.#logs.follow(key, opts))
  }

  /** Whether this node holds the log for good (written here, or a lasting follow): a restart keeps it. */
  lasting (key: Uint8Array | string): boolean {
    return this.#logs.lasting(key)
  }

  /** Makes a tentative follow lasting (it was found). */
  async keep (key: Uint8Array | string): Promise<void> {
    this.#assertOpen()
    await this.#logs.keep(key)
  }

  /**
   * Stops following a log: leaves its topic, drops it from the held logs and deletes its
   * blocks (a tentative follow nobody served; a holder's pin that failed after it began
   * fetching). A log not held is left alone. @throws ShadwError `INVALID_ARGUMENT` for a log
   * this node writes
   */
  async forget (key: Uint8Array | string): Promise<void> {
    this.#assertOpen()
    this.#joinFailures.delete(keyToHex(parseKey(key)))
    if (await this.#logs.forget(key)) await this.#topics.leave(crypto.discoveryKey(parseKey(key)))
  }

  /** Appends blocks to a log this node writes (at most `MAX_APPEND_BLOCKS` of `MAX_BLOCK_BYTES` each); returns the new length. */
  async append (key: Uint8Array | string, blocks: Uint8Array[]): Promise<number> {
    this.#assertOpen()
    return await this.#logs.append(key, blocks)
  }

  /**
   * Reads one block, fetching it from peers (with a Merkle proof Hypercore verifies) when it
   * is not local. `wait: false` answers from local storage only.
   */
  async get (key: Uint8Array | string, index: number, opts: { wait?: boolean, timeout?: number, signal?: AbortSignal } = {}): Promise<Uint8Array | null> {
    this.#assertOpen()
    return await this.#logs.get(key, index, opts)
  }

  /**
   * Makes every block of `[start, end)` local, fetching what is missing from peers (each
   * block verified against the log's Merkle tree), in one Hypercore range request rather than
   * a `get` per block. `end` defaults to the length known now; an `end` beyond it waits for
   * the log to grow, within the same timeout. On timeout the range request is cancelled and
   * the blocks already fetched stay stored.
   */
  async download (key: Uint8Array | string, range: { start?: number, end?: number } = {}, opts: { timeout?: number, signal?: AbortSignal } = {}): Promise<DownloadResult> {
    this.#assertOpen()
    return await this.#onNetwork(key, this.#logs.download(key, range, opts))
  }

  /**
   * A new session on a held log, for readers that need the Hypercore itself (a Hyperbee
   * over a followed registry). It replicates like the log; the caller closes it.
   */
  session (key: Uint8Array | string): Hypercore {
    this.#assertOpen()
    return this.#logs.session(key)
  }

  /**
   * A session on the node's Corestore, for structures built over several logs (a drive: a
   * Hyperbee and a blob log). Its cores replicate on every connection like held logs; the
   * caller closes the session, and `stop()` closes the store under it.
   */
  storeSession (): Corestore {
    this.#assertOpen()
    return this.#store.session()
  }

  /**
   * Puts the node on a log's discovery topic (announced and looked up), so peers that hold
   * or want that log connect. Reads on the store wait for peers until the first lookup has
   * flushed rather than failing at once for want of a connection.
   */
  async announce (discoveryKey: Uint8Array): Promise<void> {
    this.#assertOpen()
    const done = this.#store.findingPeers()
    try {
      await this.#topics.join(discoveryKey)
    } catch (err) {
      done()
      throw err
    }
    this.#swarm.flush().then(done, done)
  }

  /** True when block `index` is stored locally (no network). */
  async has (key: Uint8Array | string, index: number): Promise<boolean> {
    this.#assertOpen()
    return await this.#logs.has(key, index)
  }

  /**
   * Waits until the log's known length reaches `length` (a live append arrived); resolves
   * with the length. @throws ShadwError `TIMEOUT` after `timeoutMs`
   */
  async waitForLength (key: Uint8Array | string, length: number, timeoutMs: number): Promise<number> {
    this.#assertOpen()
    return await this.#onNetwork(key, this.#logs.waitForLength(key, length, timeoutMs))
  }

  /** What this node knows about one log. */
  logInfo (key: Uint8Array | string): LogInfo {
    this.#assertOpen()
    return this.#logs.info(key)
  }

  /** A snapshot for status pages and `/api/status`. */
  status (): NodeStatus {
    return {
      publicKey: this.publicKey,
      tier: this.tier,
      peers: this.#connections.peers(),
      logs: this.#logs.keys().map(k => this.logInfo(k)),
      topics: this.#topics.keys()
    }
  }

  /**
   * Swaps in a new swarm, keeping storage and logs: a browser whose relay connection dropped
   * gets a fresh relay-backed DHT, and a swarm cannot change its DHT. Topics are re-joined;
   * the old swarm is destroyed within `timeoutMs` (a dead relay can leave it hanging).
   */
  async replaceSwarm (swarm: Hyperswarm, timeoutMs = 2_000): Promise<void> {
    this.#assertOpen()
    const old = this.#swarm
    this.#swarm = swarm
    this.#connections.listen(swarm)
    this.#topics.rejoinAll(swarm)
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([
      old.destroy().catch(() => {}),
      new Promise<void>(resolve => { timer = setTimeout(resolve, timeoutMs) })
    ])
    clearTimeout(timer)
    debug('swarm replaced; topics re-joined:', this.#topics.size)
  }

  /** Live connections and what status says about each (swarm and attached ones). */
  connections (): Array<[SwarmConnection, PeerStatus]> {
    return this.#connections.list()
  }

  /**
   * Adds a connection that did not come from the swarm: a Noise secret stream the host
   * opened over a direct link (a WebRTC data channel). It is listed in status peers with
   * the given transport and replicates every shared log, exactly like a swarm connection.
   * The host must have checked `conn.remotePublicKey` (the Noise handshake proved it) before
   * attaching; the node closes it on `stop()`. While a 'webrtc' connection to a node is up,
   * this node sends its block requests there rather than over a relayed connection to the
   * same node (`DirectPreference`).
   */
  attachConnection (conn: SwarmConnection, transport: PeerStatus['transport']): void {
    this.#assertOpen()
    this.#connections.attach(conn, transport)
  }

  /**
   * A wait for a log's blocks from peers: it ends with NODE_CLOSED once the node stops, and
   * its failure names the log's topic join as its cause when that join failed (a follow
   * that did not await its announce returned before the join could fail), rather than
   * reading as a peer that was merely slow.
   */
  async #onNetwork<T> (key: Uint8Array | string, wait: Promise<T>): Promise<T> {
    wait.catch(() => {}) // when the node stops first, its failure is not the one reported
    let stop: (err: ShadwError) => void = () => {}
    const stopped = new Promise<never>((_resolve, reject) => { stop = reject })
    this.#onStop.add(stop)
    try {
      return await Promise.race([wait, stopped])
    } catch (err) {
      const failure = this.#joinFailures.get(keyToHex(parseKey(key)))
      if (failure === undefined || !(err instanceof ShadwError)) throw err
      throw new ShadwError(err.code, `${err.message.slice(err.code.length + 2)} (the log's topic could not be joined)`, { cause: failure, details: err.details })
    } finally {
      this.#onStop.delete(stop)
    }
  }

  #assertOpen (): void {
    if (this.#stopping !== null) throw ShadwError.NODE_CLOSED()
    if (!this.#logs.opened) throw ShadwError.NODE_CLOSED('node is not started')
  }

  /** Takes a log the store opened: block requests, append events, and its topic. */
  async #hold (core: Hypercore, key: Uint8Array, awaitAnnounce = true): Promise<void> {
    const keyHex = keyToHex(key)
    this.#connections.watch(core)
    core.on('append', () => { this.emit('append', { key: keyHex, length: core.length }) })
    // Peers may reach us through any log's topic; a done() after the first flush tells
    // Hypercore when to stop waiting for peers that might have a block.
    const done = core.findingPeers()
    const joined = this.#topics.join(crypto.discoveryKey(key))
    if (!awaitAnnounce) {
      joined.then(
        () => { this.#joinFailures.delete(keyHex) },
        (err: unknown) => {
          // kept for the reads that wait on this log (#onNetwork), which alone can report it
          debug('join of a followed log failed', keyHex.slice(0, 8), err)
          this.#joinFailures.set(keyHex, err)
        }
      )
      joined.then(async () => { await this.#swarm.flush() }).catch(() => {}).finally(done)
      return
    }
    await joined
    this.#swarm.flush().then(done, done)
  }
}

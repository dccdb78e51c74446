import b4a from 'b4a'
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import crypto from 'hypercore-crypto'
import type Hyperswarm from 'hyperswarm'
import type { PeerInfo, SwarmConnection } from 'hyperswarm'
import { ShadwError } from '../errors.ts'
import { keyToHex, parseKey } from '../keys.ts'
import { log } from '../log.ts'
import { DirectPreference } from './direct-preference.ts'
import { Emitter } from './emitter.ts'
import { LogIndex } from './log-index.ts'
import { isSwitchableTier, SWITCHABLE_TIERS } from './tiers.ts'
import type { LogInfo, NodeStatus, NodeTier, PeerStatus } from './types.ts'

const debug = log('node')

/**
 * Every shadw node joins this topic, so nodes find each other (and super nodes find
 * browsers) before they share any log. Versioned so a future incompatible protocol gets a
 * swarm of its own.
 */
export const NETWORK_TOPIC_NAME = 'shadw/v1/nodes'

/** Name of the local, never-announced Hypercore that indexes the logs a node holds. */
const LOG_INDEX_NAME = 'shadw-local-log-index'

/** Upper bound on blocks in one `append` call from a page or peer: keeps a batch in memory. */
export const MAX_APPEND_BLOCKS = 10_000

/** Upper bound on one block's size (Hypercore itself has no limit; a page must not OOM us). */
export const MAX_BLOCK_BYTES = 4 * 1024 * 1024

/**
 * Longest a node waits for a topic's announce to reach the DHT before going on; a slow DHT
 * must not stall start-up, it only delays discovery.
 */
export const ANNOUNCE_WAIT_MS = 10_000

/** How often a waiting reader re-checks the log's length between append events. */
const UPGRADE_POLL_MS = 200

/** Default wait for a block that is not local yet. */
export const DEFAULT_GET_TIMEOUT_MS = 10_000

/**
 * Default bound on one `download` of a range: long enough for ~100 MiB through a browser
 * relay on a slow machine, short enough that a lost peer surfaces as an error.
 */
export const DEFAULT_DOWNLOAD_TIMEOUT_MS = 60_000

/** What one `download` of a range did. */
export interface DownloadResult {
  /** blocks in the range; every one of them is local when the call resolves */
  blocks: number
  /** blocks this call fetched from peers (the rest were already local) */
  fetched: number
  /** payload bytes of the fetched blocks */
  bytes: number
  /** from the range request to the last block stored, in milliseconds */
  ms: number
}

/** The BLAKE2b-256 topic of the shadw network. */
export function networkTopic (): Uint8Array {
  return crypto.hash(b4a.from(NETWORK_TOPIC_NAME))
}

/** The topic on which super nodes find each other. */
export function superTopic (): Uint8Array {
  return crypto.hash(b4a.from(NETWORK_TOPIC_NAME + '/super'))
}

/**
 * The topic of the light-node signing swarm: light nodes look it up and announce on it (so
 * they find every executor and each other), executors only announce on it (so every light
 * node finds them without depending on whom the network topic happened to connect).
 */
export function signingTopic (): Uint8Array {
  return crypto.hash(b4a.from(NETWORK_TOPIC_NAME + '/signing'))
}

/**
 * Why a node is on the signing topic: an executor service runs (light nodes must find it, it
 * need not dial anyone there), or a light signing service runs (it dials every executor and
 * is found by other light nodes). What runs decides, not the tier: a tab that never opted in
 * to contribute computes nothing and must not be dialled by every light node.
 */
export type SigningRole = 'executor' | 'light'

/** The signing topic's hex, the key under which {@link ShadwNode} records it among its topics. */
const SIGNING_HEX = keyToHex(signingTopic())

interface JoinMode { server: boolean, client: boolean }

/** What the host knows about a connection that the core cannot see (how its bytes travel). */
export type ConnectionClassifier = (conn: SwarmConnection) => PeerStatus['transport']

/**
 * First lookup of the network topic again after joining it, ms; the wait then doubles up to
 * {@link REDISCOVER_MAX_MS}. Super nodes only wait to be dialled there, and Hyperswarm looks
 * a topic up again only every 10 minutes: without this a tenant or contributor never sees a
 * super node that started after it (or a node that restarted) for that long.
 */
export const REDISCOVER_FIRST_MS = 1_000
/**
 * Longest wait between lookups of the network topic. A refresh of a topic joined as server
 * and client is a lookup plus an announce (Hyperswarm's PeerDiscovery), through the relay for
 * a browser: a minute keeps that to one small DHT exchange per node per minute, while a node
 * that just started (when peers are likeliest missing) looks at 1, 3, 7, 15, 31 s.
 */
export const REDISCOVER_MAX_MS = 60_000

/** Narrow dependencies of a node: the host builds them for its runtime. */
export interface ShadwNodeOptions {
  swarm: Hyperswarm
  store: Corestore
  tier: NodeTier
  classifyConnection?: ConnectionClassifier
  /** longest wait between lookups of the network topic, ms (default {@link REDISCOVER_MAX_MS}) */
  rediscoverMs?: number
}

/** Events a node emits for its host (status pages, the app). */
export type ShadwNodeEvents = {
  append: [log: { key: string, length: number }]
  peer: [peer: PeerStatus, state: 'open' | 'closed']
  /** every live connection as it opens (swarm or attached), for protocols that ride on it (signalling) */
  connection: [conn: SwarmConnection, peer: PeerStatus]
}

interface HeldLog {
  core: Hypercore
  name: string | null
}

/**
 * A shadw node: one Hyperswarm identity, a Corestore of logs, replication on every
 * connection. Isomorphic: the host (super node in Node.js, node worker in browsers) builds the
 * swarm and store for its runtime and hands them in.
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
  readonly #classify: ConnectionClassifier
  readonly #logs = new Map<string, HeldLog>()
  readonly #peers = new Map<SwarmConnection, PeerStatus>()
  /** hex topic -> topic and how it was joined, re-joined when the host swaps in a new swarm */
  readonly #topics = new Map<string, { topic: Uint8Array, mode: JoinMode }>()
  readonly #rediscoverMax: number
  #rediscoverTimer: ReturnType<typeof setTimeout> | undefined
  /** block requests go to a direct link, not its relayed twin, while the link is up */
  readonly #preference = new DirectPreference(() => [...this.#logs.values()].map(h => h.core), conn => this.#peers.get(conn))
  #index: LogIndex | null = null
  #starting: Promise<void> | null = null
  #stopping: Promise<void> | null = null
  /** services of each role now on the signing topic: the topic's mode is the union of theirs */
  readonly #signingRefs: Record<SigningRole, number> = { executor: 0, light: 0 }
  /** serialises re-joins of the signing topic, so two services starting at once see one mode */
  #signingSync: Promise<void> = Promise.resolve()

  constructor (opts: ShadwNodeOptions) {
    super()
    this.#tier = opts.tier
    this.#swarm = opts.swarm
    this.#store = opts.store
    this.#classify = opts.classifyConnection ?? (() => 'udx')
    this.#rediscoverMax = opts.rediscoverMs ?? REDISCOVER_MAX_MS
    if (!Number.isSafeInteger(this.#rediscoverMax) || this.#rediscoverMax < REDISCOVER_FIRST_MS) throw ShadwError.INVALID_ARGUMENT(`rediscoverMs must be an integer of at least ${REDISCOVER_FIRST_MS}`)
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
   * once the announce is on the DHT (bounded by {@link ANNOUNCE_WAIT_MS}), with the function
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
    if (role !== 'executor' && role !== 'light') throw ShadwError.INVALID_ARGUMENT(`signing role is executor or light, got ${String(role)}`)
    this.#signingRefs[role]++
    try {
      await this.#syncSigning()
    } catch (err) {
      this.#signingRefs[role]--
      // best effort back to the mode the other services need; the failure is what the caller hears
      await this.#syncSigning().catch((e: unknown) => { debug('signing topic not restored', e) })
      throw err
    }
    let left = false
    return async () => {
      if (left) return
      left = true
      this.#signingRefs[role]--
      // called on services' stop paths, which must finish: a failed leave is logged, and the
      // topic is left with the swarm on the node's own stop
      if (this.#stopping === null) await this.#syncSigning().catch((err: unknown) => { debug('signing topic not left', err) })
    }
  }

  /** Joins, re-joins or leaves the signing topic so its mode is what the running services need. */
  #syncSigning (): Promise<void> {
    const run = this.#signingSync.then(async () => {
      if (this.#stopping !== null) return
      const want: JoinMode | null = this.#signingRefs.light > 0
        ? { server: true, client: true }
        : this.#signingRefs.executor > 0 ? { server: true, client: false } : null
      const have = this.#topics.get(SIGNING_HEX)?.mode ?? null
      if (want?.server === have?.server && want?.client === have?.client) return
      await this.#rejoin(signingTopic(), want)
    })
    this.#signingSync = run.catch(() => {})
    return run
  }

  /** Leaves `topic` if joined, then joins it as `mode` (null: stays off it). */
  async #rejoin (topic: Uint8Array, mode: JoinMode | null): Promise<void> {
    const hex = keyToHex(topic)
    if (this.#topics.has(hex)) {
      await this.#swarm.leave(topic)
      this.#topics.delete(hex)
    }
    if (mode === null) return
    try {
      await this.#join(topic, mode)
    } catch (err) {
      // not joined: a later replaceSwarm must not join it as this mode
      this.#topics.delete(hex)
      throw err
    }
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
    this.#listen(this.#swarm)
    const indexCore = this.#store.get({ name: LOG_INDEX_NAME })
    this.#index = new LogIndex(indexCore)
    await this.#index.ready()
    for (const { key, record } of await this.#index.list()) {
      await this.#open(parseKey(key), record.name)
    }
    // Super nodes wait to be dialled on the network topic (every browser dials them), and
    // find each other on a topic of their own.
    // The topics' announces go to the DHT together: one round of waiting, not one per topic.
    // The signing topic is the running services' to join (joinSigning), not the tier's.
    await Promise.all([
      this.#join(networkTopic(), { server: true, client: this.tier !== 'super' }),
      this.tier === 'super' ? this.#join(superTopic()) : null
    ])
    if (this.tier !== 'super') this.#rediscover(REDISCOVER_FIRST_MS)
    debug('started', this.publicKey, 'logs:', this.#logs.size)
  }

  /** Leaves the swarm and closes every log. Safe to call twice; the node cannot restart. */
  stop (): Promise<void> {
    this.#stopping ??= this.#stop()
    return this.#stopping
  }

  async #stop (): Promise<void> {
    await this.#starting?.catch(() => {})
    clearTimeout(this.#rediscoverTimer)
    await this.#swarm.destroy()
    // attached connections (direct links) are not the swarm's to close
    for (const [conn, peer] of this.#peers) if (peer.transport === 'webrtc') conn.destroy()
    for (const held of this.#logs.values()) await held.core.close()
    this.#logs.clear()
    await this.#index?.close()
    await this.#store.close()
    debug('stopped')
  }

  /** Creates (or re-opens) a log this node writes, by local name. */
  async createLog (name: string): Promise<LogInfo> {
    this.#assertOpen()
    if (typeof name !== 'string' || name.length === 0 || name.length > 128 || name === LOG_INDEX_NAME) {
      throw ShadwError.INVALID_ARGUMENT('log name must be 1-128 characters and not reserved')
    }
    const core = this.#store.get({ name })
    await core.ready()
    const keyHex = keyToHex(keyOf(core))
    if (!this.#logs.has(keyHex)) {
      await this.#index?.put(keyHex, { name, writable: true, addedAt: Date.now() })
      await this.#hold(core, name)
    } else {
      await core.close()
    }
    return this.logInfo(keyHex)
  }

  /** Starts replicating someone else's log, sparsely: blocks come when asked for. */
  async follow (key: Uint8Array | string): Promise<LogInfo> {
    this.#assertOpen()
    const k = parseKey(key)
    const keyHex = keyToHex(k)
    if (!this.#logs.has(keyHex)) {
      await this.#open(k, null)
      await this.#index?.put(keyHex, { name: null, writable: this.#logs.get(keyHex)?.core.writable ?? false, addedAt: Date.now() })
    }
    return this.logInfo(keyHex)
  }

  /** Appends blocks to a log this node writes; returns the new length. */
  async append (key: Uint8Array | string, blocks: Uint8Array[]): Promise<number> {
    const held = this.#held(key)
    if (!held.core.writable) throw ShadwError.INVALID_ARGUMENT(`log ${keyToHex(keyOf(held.core))} is not writable here`)
    if (!Array.isArray(blocks) || blocks.length === 0 || blocks.length > MAX_APPEND_BLOCKS) {
      throw ShadwError.INVALID_ARGUMENT(`append takes 1-${MAX_APPEND_BLOCKS} blocks`)
    }
    for (const block of blocks) {
      if (!(block instanceof Uint8Array) || block.byteLength > MAX_BLOCK_BYTES) {
        throw ShadwError.INVALID_ARGUMENT(`each block must be a Uint8Array of at most ${MAX_BLOCK_BYTES} bytes`)
      }
    }
    const { length } = await held.core.append(blocks)
    return length
  }

  /**
   * Reads one block, fetching it from peers (with a Merkle proof Hypercore verifies) when it
   * is not local. `wait: false` answers from local storage only.
   */
  async get (key: Uint8Array | string, index: number, opts: { wait?: boolean, timeout?: number, signal?: AbortSignal } = {}): Promise<Uint8Array | null> {
    const held = this.#held(key)
    if (!Number.isSafeInteger(index) || index < 0) throw ShadwError.INVALID_ARGUMENT('block index must be a non-negative integer')
    opts.signal?.throwIfAborted()
    const timeout = opts.timeout ?? DEFAULT_GET_TIMEOUT_MS
    const wait = opts.wait ?? true
    // past the known length, wait for a longer log within the same bound (update() alone
    // can wait for peers indefinitely)
    const deadline = Date.now() + timeout
    if (wait && index >= held.core.length) await this.waitForLength(key, index + 1, timeout)
    try {
      return await held.core.get(index, { wait, timeout: Math.max(1, deadline - Date.now()) })
    } catch (err) {
      if ((err as { code?: string }).code === 'REQUEST_TIMEOUT') throw ShadwError.TIMEOUT(`block ${index}`, timeout)
      throw err
    }
  }

  /**
   * Makes every block of `[start, end)` local, fetching what is missing from peers (each
   * block verified against the log's Merkle tree), in one Hypercore range request rather than
   * a `get` per block. `end` defaults to the length known now; an `end` beyond it waits for
   * the log to grow, within the same timeout. On timeout the range request is cancelled and
   * the blocks already fetched stay stored.
   */
  async download (key: Uint8Array | string, range: { start?: number, end?: number } = {}, opts: { timeout?: number, signal?: AbortSignal } = {}): Promise<DownloadResult> {
    const core = this.#held(key).core
    const start = range.start ?? 0
    const end = range.end ?? core.length
    if (!Number.isSafeInteger(start) || start < 0) throw ShadwError.INVALID_ARGUMENT('range start must be a non-negative integer')
    if (!Number.isSafeInteger(end) || end < start) throw ShadwError.INVALID_ARGUMENT('range end must be an integer not below start')
    const timeout = opts.timeout ?? DEFAULT_DOWNLOAD_TIMEOUT_MS
    opts.signal?.throwIfAborted()
    const deadline = Date.now() + timeout
    if (end > core.length) await this.waitForLength(key, end, timeout)

    let fetched = 0
    let bytes = 0
    const onDownload = (index: number, byteLength: number): void => {
      if (index >= start && index < end) { fetched++; bytes += byteLength }
    }
    core.on('download', onDownload)
    const t0 = performance.now()
    const request = core.download({ start, end })
    let timer: ReturnType<typeof setTimeout> | undefined
    let onAbort: (() => void) | undefined
    try {
      await Promise.race([
        request.done(),
        new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => { reject(ShadwError.TIMEOUT(`download of blocks ${start}-${end}`, timeout)) }, Math.max(0, deadline - Date.now()))
        }),
        new Promise<never>((_resolve, reject) => {
          onAbort = () => { reject(ShadwError.ABORTED('download aborted')) }
          opts.signal?.addEventListener('abort', onAbort, { once: true })
        })
      ])
      return { blocks: end - start, fetched, bytes, ms: performance.now() - t0 }
    } catch (err) {
      request.destroy()
      throw err
    } finally {
      clearTimeout(timer)
      if (onAbort !== undefined) opts.signal?.removeEventListener('abort', onAbort)
      core.off('download', onDownload)
    }
  }

  /**
   * A new session on a held log, for readers that need the Hypercore itself (a Hyperbee
   * over a followed registry). It replicates like the log; the caller closes it.
   */
  session (key: Uint8Array | string): Hypercore {
    return this.#held(key).core.session()
  }

  /** True when block `index` is stored locally (no network). */
  async has (key: Uint8Array | string, index: number): Promise<boolean> {
    return await this.#held(key).core.has(index)
  }

  /**
   * Waits until the log's known length reaches `length`: a live append arrived. Hypercore
   * applies a peer's advertised upgrade by itself; one update request covers the case where
   * the peer advertised before we were listening. (Repeating update() requests while the
   * upgrade is in flight delays it: they queue behind each other.)
   */
  async waitForLength (key: Uint8Array | string, length: number, timeoutMs: number): Promise<number> {
    const core = this.#held(key).core
    const deadline = Date.now() + timeoutMs
    let wake: (() => void) | null = null
    const onAppend = (): void => { wake?.() }
    core.on('append', onAppend)
    if (core.length < length) core.update({ wait: true }).then(onAppend, onAppend)
    try {
      while (core.length < length) {
        const left = deadline - Date.now()
        if (left <= 0) throw ShadwError.TIMEOUT(`log length ${length}`, timeoutMs)
        await new Promise<void>(resolve => {
          const timer = setTimeout(resolve, Math.min(left, UPGRADE_POLL_MS))
          wake = () => { clearTimeout(timer); resolve() }
        })
      }
      return core.length
    } finally {
      core.off('append', onAppend)
    }
  }

  /** What this node knows about one log. */
  logInfo (key: Uint8Array | string): LogInfo {
    const held = this.#held(key)
    const core = held.core
    const k = keyOf(core)
    return {
      key: keyToHex(k),
      discoveryKey: keyToHex(crypto.discoveryKey(k)),
      name: held.name,
      writable: core.writable,
      length: core.length,
      contiguousLength: core.contiguousLength,
      byteLength: core.byteLength,
      peers: core.peers.length
    }
  }

  /** A snapshot for status pages and `/api/status`. */
  status (): NodeStatus {
    return {
      publicKey: this.publicKey,
      tier: this.tier,
      peers: [...this.#peers.values()],
      logs: [...this.#logs.keys()].map(k => this.logInfo(k)),
      topics: [...this.#topics.keys()]
    }
  }

  #assertOpen (): void {
    if (this.#stopping !== null) throw ShadwError.NODE_CLOSED()
    if (this.#index === null) throw ShadwError.NODE_CLOSED('node is not started')
  }

  #held (key: Uint8Array | string): HeldLog {
    this.#assertOpen()
    const keyHex = keyToHex(parseKey(key))
    const held = this.#logs.get(keyHex)
    if (held === undefined) throw ShadwError.LOG_NOT_FOUND(keyHex)
    return held
  }

  async #open (key: Uint8Array, name: string | null): Promise<void> {
    const core = name === null ? this.#store.get({ key }) : this.#store.get({ name })
    try {
      await core.ready()
    } catch (err) {
      await core.close().catch(() => {})
      throw ShadwError.STORAGE_CORRUPT(`log ${keyToHex(key)}`, err)
    }
    // A named core whose files were damaged can come back as a brand-new core with another
    // key; writing to it would silently fork the log, so it is refused instead.
    if (!b4a.equals(keyOf(core), key)) {
      await core.close()
      throw ShadwError.STORAGE_CORRUPT(`log ${keyToHex(key)} (${name ?? 'followed'}) reopened with another key`)
    }
    await this.#hold(core, name)
  }

  async #hold (core: Hypercore, name: string | null): Promise<void> {
    const keyHex = keyToHex(keyOf(core))
    this.#logs.set(keyHex, { core, name })
    this.#preference.watch(core)
    core.on('append', () => { this.emit('append', { key: keyHex, length: core.length }) })
    // Peers may reach us through any log's topic; a done() after the first flush tells
    // Hypercore when to stop waiting for peers that might have a block.
    const done = core.findingPeers()
    await this.#join(crypto.discoveryKey(keyOf(core)))
    this.#swarm.flush().then(done, done)
  }

  /** Looks the network topic up again after `ms`, then at doubling intervals up to the maximum. */
  #rediscover (ms: number): void {
    this.#rediscoverTimer = setTimeout(() => {
      if (this.#stopping !== null) return
      const topic = networkTopic()
      this.#swarm.status(topic)?.refresh().catch((err: unknown) => { debug('network lookup failed', err) })
      this.#rediscover(Math.min(ms * 2, this.#rediscoverMax))
    }, ms)
    // the lookups never keep a process alive on their own
    ;(this.#rediscoverTimer as { unref?: () => void }).unref?.()
  }

  /**
   * Joins a topic and waits (bounded) until the announce is on the DHT, so a peer that looks
   * the topic up right after this resolves finds us.
   */
  async #join (topic: Uint8Array, mode: JoinMode = { server: true, client: true }): Promise<void> {
    const hex = keyToHex(topic)
    if (this.#topics.has(hex)) return
    this.#topics.set(hex, { topic, mode })
    const discovery = this.#swarm.join(topic, mode)
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([
      discovery.flushed().catch(err => { debug('announce failed', hex.slice(0, 8), err) }),
      new Promise<void>(resolve => { timer = setTimeout(resolve, ANNOUNCE_WAIT_MS) })
    ])
    clearTimeout(timer)
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
    this.#listen(swarm)
    for (const { topic, mode } of this.#topics.values()) swarm.join(topic, mode)
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
    return [...this.#peers]
  }

  /**
   * Adds a connection that did not come from the swarm: a Noise secret stream the host
   * opened over a direct link (a WebRTC data channel). It is listed in status peers with
   * the given transport and replicates every shared log, exactly like a swarm connection.
   * The host must have checked `conn.remotePublicKey` (the Noise handshake proved it) before
   * attaching; the node closes it on `stop()`. While a 'webrtc' connection to a node is up,
   * this node sends its block requests there rather than over a relayed connection to the
   * same node ({@link DirectPreference}).
   */
  attachConnection (conn: SwarmConnection, transport: PeerStatus['transport']): void {
    this.#assertOpen()
    this.#onConnection(conn, { publicKey: conn.remotePublicKey, topics: [], client: conn.isInitiator }, transport)
    if (transport !== 'webrtc') return
    const key = keyToHex(conn.remotePublicKey)
    this.#preference.opened(key)
    conn.on('close', () => { this.#preference.closed(key) })
  }

  #listen (swarm: Hyperswarm): void {
    swarm.on('connection', (conn: SwarmConnection, info: PeerInfo) => { this.#onConnection(conn, info) })
  }

  #onConnection (conn: SwarmConnection, info: PeerInfo, transport?: PeerStatus['transport']): void {
    const peer: PeerStatus = {
      publicKey: keyToHex(info.publicKey),
      transport: transport ?? this.#classify(conn),
      initiator: conn.isInitiator
    }
    this.#peers.set(conn, peer)
    this.emit('peer', peer, 'open')
    debug('peer open', peer.publicKey.slice(0, 8), peer.transport)
    conn.on('error', (err: Error) => { debug('connection error', err.message) })
    conn.on('close', () => {
      debug('peer closed', peer.publicKey.slice(0, 8), peer.transport)
      this.#peers.delete(conn)
      this.emit('peer', peer, 'closed')
    })
    this.emit('connection', conn, peer)
    this.#store.replicate(conn)
  }
}

function keyOf (core: Hypercore): Uint8Array {
  if (core.key === null) throw ShadwError.INTERNAL('hypercore has no key after ready()')
  return core.key
}

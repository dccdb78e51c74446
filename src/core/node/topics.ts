/**
 * The swarm topics a node is on: the network topic every node joins, the super nodes' topic,
 * the signing topic the running services put it on, and one topic per held log. Each is
 * remembered with how it was joined, so a host that swaps in a new swarm gets them back.
 */
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import type Hyperswarm from 'hyperswarm'
import { ShadwError } from '../errors.ts'
import { keyToHex } from '../keys.ts'
import { log } from '../log.ts'

const debug = log('node')

/**
 * Every shadw node joins this topic, so nodes find each other (and super nodes find
 * browsers) before they share any log. Versioned so a future incompatible protocol gets a
 * swarm of its own.
 */
export const NETWORK_TOPIC_NAME = 'shadw/v1/nodes'

/**
 * Longest a node waits for a topic's announce to reach the DHT before going on; a slow DHT
 * must not stall start-up, it only delays discovery.
 */
export const ANNOUNCE_WAIT_MS = 10_000

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

/** How a topic is joined: announced (server), looked up (client), or both. */
export interface JoinMode { server: boolean, client: boolean }

/** The signing topic's hex, the key under which it is recorded among the topics. */
const SIGNING_HEX = keyToHex(signingTopic())

/** What the topics need from the node that owns them. */
export interface TopicsOptions {
  /** the node's swarm now (the host may swap in another) */
  swarm: () => Hyperswarm
  /** true once the node is stopping: no topic is joined or looked up after that */
  stopping: () => boolean
  /** longest wait between lookups of the network topic, ms (default {@link REDISCOVER_MAX_MS}) */
  rediscoverMs?: number | undefined
}

/** The topics one node is on (see the module comment). */
export class Topics {
  readonly #opts: TopicsOptions
  /** hex topic -> topic and how it was joined, re-joined when the host swaps in a new swarm */
  readonly #joined = new Map<string, { topic: Uint8Array, mode: JoinMode }>()
  readonly #rediscoverMax: number
  #rediscoverTimer: ReturnType<typeof setTimeout> | undefined
  /** services of each role now on the signing topic: the topic's mode is the union of theirs */
  readonly #signingRefs: Record<SigningRole, number> = { executor: 0, light: 0 }
  /** serialises re-joins of the signing topic, so two services starting at once see one mode */
  #signingSync: Promise<void> = Promise.resolve()

  /** @throws ShadwError `INVALID_ARGUMENT` for a `rediscoverMs` below {@link REDISCOVER_FIRST_MS} */
  constructor (opts: TopicsOptions) {
    this.#opts = opts
    this.#rediscoverMax = opts.rediscoverMs ?? REDISCOVER_MAX_MS
    if (!Number.isSafeInteger(this.#rediscoverMax) || this.#rediscoverMax < REDISCOVER_FIRST_MS) throw ShadwError.INVALID_ARGUMENT(`rediscoverMs must be an integer of at least ${REDISCOVER_FIRST_MS}`)
  }

  /** The hex of every topic joined now, for status. */
  keys (): string[] {
    return [...this.#joined.keys()]
  }

  /**
   * Joins a topic and waits (bounded by {@link ANNOUNCE_WAIT_MS}) until the announce is on
   * the DHT, so a peer that looks the topic up right after this resolves finds us. A topic
   * joined already is left as it is.
   */
  async join (topic: Uint8Array, mode: JoinMode = { server: true, client: true }): Promise<void> {
    const hex = keyToHex(topic)
    if (this.#joined.has(hex)) return
    this.#joined.set(hex, { topic, mode })
    const discovery = this.#opts.swarm().join(topic, mode)
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([
      discovery.flushed().catch(err => { debug('announce failed', hex.slice(0, 8), err) }),
      new Promise<void>(resolve => { timer = setTimeout(resolve, ANNOUNCE_WAIT_MS) })
    ])
    clearTimeout(timer)
  }

  /** Leaves a topic joined with {@link join}; nothing for a topic not joined. */
  async leave (topic: Uint8Array): Promise<void> {
    const hex = keyToHex(topic)
    if (!this.#joined.delete(hex)) return
    await this.#opts.swarm().leave(topic).catch((err: unknown) => { debug('leave failed', hex.slice(0, 8), err) })
  }

  /** Joins every remembered topic on `swarm`, as it was joined: the host swapped swarms. */
  rejoinAll (swarm: Hyperswarm): void {
    for (const { topic, mode } of this.#joined.values()) swarm.join(topic, mode)
  }

  /** How many topics are joined. */
  get size (): number {
    return this.#joined.size
  }

  /**
   * Counts a service of `role` onto the signing topic; see `ShadwNode.joinSigning`, whose
   * contract this is. Resolves with the function that ends this membership.
   */
  async joinSigning (role: SigningRole): Promise<() => Promise<void>> {
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
      if (!this.#opts.stopping()) await this.#syncSigning().catch((err: unknown) => { debug('signing topic not left', err) })
    }
  }

  /** Joins, re-joins or leaves the signing topic so its mode is what the running services need. */
  #syncSigning (): Promise<void> {
    const run = this.#signingSync.then(async () => {
      if (this.#opts.stopping()) return
      const want: JoinMode | null = this.#signingRefs.light > 0
        ? { server: true, client: true }
        : this.#signingRefs.executor > 0 ? { server: true, client: false } : null
      const have = this.#joined.get(SIGNING_HEX)?.mode ?? null
      if (want?.server === have?.server && want?.client === have?.client) return
      await this.#rejoin(signingTopic(), want)
    })
    this.#signingSync = run.catch(() => {})
    return run
  }

  /** Leaves `topic` if joined, then joins it as `mode` (null: stays off it). */
  async #rejoin (topic: Uint8Array, mode: JoinMode | null): Promise<void> {
    const hex = keyToHex(topic)
    if (this.#joined.has(hex)) {
      await this.#opts.swarm().leave(topic)
      this.#joined.delete(hex)
    }
    if (mode === null) return
    try {
      await this.join(topic, mode)
    } catch (err) {
      // not joined: a later replaceSwarm must not join it as this mode
      this.#joined.delete(hex)
      throw err
    }
  }

  /** Starts looking the network topic up again: after {@link REDISCOVER_FIRST_MS}, then at doubling intervals. */
  startRediscovery (): void {
    this.#rediscover(REDISCOVER_FIRST_MS)
  }

  /** Stops the lookups; the topics are left with the swarm. */
  stop (): void {
    clearTimeout(this.#rediscoverTimer)
  }

  /** Looks the network topic up again after `ms`, then at doubling intervals up to the maximum. */
  #rediscover (ms: number): void {
    this.#rediscoverTimer = setTimeout(() => {
      if (this.#opts.stopping()) return
      const topic = networkTopic()
      this.#opts.swarm().status(topic)?.refresh().catch((err: unknown) => { debug('network lookup failed', err) })
      this.#rediscover(Math.min(ms * 2, this.#rediscoverMax))
    }, ms)
    // the lookups never keep a process alive on their own
    ;(this.#rediscoverTimer as { unref?: () => void }).unref?.()
  }
}

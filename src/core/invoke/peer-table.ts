/**
 * The peers an endpoint talks to: an {@link InvokeChannel} on every connection of its node,
 * and what it knows of each peer — its capacity adverts, the round trip of its capacity
 * queries, its reputation, and when it was last heard from (liveness).
 */
import type Protomux from 'protomux'
import type { SwarmConnection } from 'hyperswarm'
import { ShadwError } from '../errors.ts'
import { log } from '../log.ts'
import { ConnectionChannels, type ConnectionHost } from '../connection-channels.ts'
import { InvokeChannel } from './invoke-channel.ts'
import { INVOKE_PROTOCOL, type CapacityMessage, type CapacityQueryMessage, type InvokeMessage } from './protocol.ts'
import { isExecutor, type PeerState } from './router.ts'

const debug = log('invoke')

/**
 * How long an executor whose channel closed may still be on its way back, ms: a connection
 * the swarm replaced by a newer one to the same peer (both sides dialled at once) is back
 * after one round trip, a dropped one after Hyperswarm's first redial (1-2 s with jitter,
 * batched by its timer). A call with a slot no executor is left for waits this long at most
 * for it, instead of failing the slot with NO_EXECUTORS in that window.
 */
export const REJOIN_MS = 5_000
/** Most recently lost executors remembered; the oldest is forgotten first. */
const MAX_LOST = 1024
/** Most wake-ups one {@link PeerTable.waitForRejoin} handles: each is a channel event. */
const MAX_REJOIN_WAKES = 256

/** The parts of a node the endpoint uses (ShadwNode implements them). */
export type InvokeHost = ConnectionHost

/** A message about a call: what the table hands on to the caller and the server. */
export type CallMessage = Exclude<InvokeMessage, CapacityMessage | CapacityQueryMessage>

/** One connected peer. */
export interface Peer {
  readonly channel: InvokeChannel
  /** what the router knows about it */
  readonly state: PeerState
  /** when the peer last sent anything on this connection (the table's clock) */
  heardAt: number
  /** next message id on this channel: requests and capacity queries share the space */
  nextId: number
  /** capacity queries in flight, by id: when each left (performance.now()) */
  readonly probes: Map<number, number>
  /** stops listening to the connection's raw bytes */
  unlisten: () => void
  /** when the channel was made (the table's clock): debug lines say how long a peer has been known */
  readonly since: number
}

/** Options of {@link PeerTable}. */
export interface PeerTableOptions {
  host: InvokeHost
  now: () => number
  /** this node's capacity advert: answers query `id`, and goes out (id 0) when a channel opens */
  capacity: (id: number) => CapacityMessage
  /** a message about a call, from `peer` */
  onmessage: (peer: Peer, msg: CallMessage) => void
  /** `peer`'s channel closed (`err`: a protocol violation); it is out of the table */
  onclose: (peer: Peer, err: ShadwError | null) => void
  /** how far a peer is trusted, (0, 1], from ledgers (src/reputation); default 1 for all */
  reputation?: (key: string) => number
}

/** The peers of an endpoint; `start()` and `stop()` are safe to call twice, and a stopped table stays stopped. */
export class PeerTable {
  readonly #opts: PeerTableOptions
  readonly #now: () => number
  readonly #channels: ConnectionChannels<InvokeChannel>
  readonly #peers = new Map<InvokeChannel, Peer>()
  readonly #waiters = new Set<() => void>()
  /** executors whose channel closed (node key → when), while they may be reconnecting ({@link REJOIN_MS}) */
  readonly #lost = new Map<string, number>()
  #reputation: ((key: string) => number) | undefined
  #stopped = false

  constructor (opts: PeerTableOptions) {
    this.#opts = opts
    this.#now = opts.now
    this.#reputation = opts.reputation
    this.#channels = new ConnectionChannels(opts.host, INVOKE_PROTOCOL, (conn, mux) => this.#open(conn, mux))
  }

  /** Opens the channel on every current and future connection. */
  start (): void {
    if (this.#stopped) return
    this.#channels.start()
  }

  /** Closes every channel (each peer's onclose runs) and wakes every waiter. */
  stop (): void {
    if (this.#stopped) return
    this.#stopped = true
    this.#channels.stop()
    for (const wake of this.#waiters) wake()
  }

  /** A snapshot of what the router knows about each connected peer. */
  states (): PeerState[] {
    return [...this.#peers.values()].map(p => ({ ...p.state, capacity: p.state.capacity === null ? null : { ...p.state.capacity } }))
  }

  /** The peers the router may choose now (channel open), their reputation brought up to date. */
  candidates (): PeerState[] {
    const peers = [...this.#peers.values()].filter(p => p.channel.opened).map(p => p.state)
    const rep = this.#reputation
    if (rep !== undefined) for (const p of peers) p.reputation = rep(p.key)
    return peers
  }

  /** The peer with node key `key` whose channel is open. */
  find (key: string): Peer | undefined {
    for (const p of this.#peers.values()) if (p.state.key === key && p.channel.opened) return p
    return undefined
  }

  /** The peers for a debug line: key, slots advertised (`-` before the first advert), ms since the channel was made. */
  describe (): string {
    const now = this.#now()
    return [...this.#peers.values()].map(p => `${p.state.key.slice(0, 8)}:${p.state.capacity?.total ?? '-'}${p.channel.opened ? '' : '(opening)'}@${now - p.since}ms`).join(' ') || 'none'
  }

  /** Replaces the reputation source the router weighs peers by. */
  setReputation (reputation: (key: string) => number): void {
    this.#reputation = reputation
  }

  /** Counts one dissent (a result that disagreed with an accepted quorum) against `key`. */
  dissented (key: string): void {
    for (const p of this.#peers.values()) if (p.state.key === key) p.state.dissents++
  }

  /** Sends `peer` a capacity query: its answer measures the round trip and proves it alive. */
  probe (peer: Peer): void {
    const id = peer.nextId++
    peer.probes.set(id, performance.now())
    peer.channel.send({ type: 'capacity-query', id })
  }

  /** Sends every peer a capacity query. */
  probeAll (): void {
    for (const p of this.#peers.values()) this.probe(p)
  }

  /** Sends this node's capacity advert to every peer. */
  advertise (): void {
    for (const p of this.#peers.values()) p.channel.send(this.#opts.capacity(0))
  }

  /** Waits (bounded) until at least `n` executors have advertised capacity; resolves to their number. */
  async waitForExecutors (n: number, opts: { timeoutMs: number, signal?: AbortSignal }): Promise<number> {
    // executors, not channels: while the swarm settles a duplicate connection to one peer
    // has a channel of its own, and counting it would let a caller start with one short
    const count = (): number => new Set([...this.#peers.values()].filter(p => isExecutor(p.state)).map(p => p.state.key)).size
    const end = this.#now() + opts.timeoutMs
    while (count() < n) {
      if (this.#stopped) throw ShadwError.NODE_CLOSED()
      opts.signal?.throwIfAborted()
      const left = end - this.#now()
      if (left <= 0) throw ShadwError.TIMEOUT(`${n} executor(s) to connect`, opts.timeoutMs)
      await this.#nextEvent(left)
    }
    return count()
  }

  /**
   * Waits (at most `timeoutMs`) while an executor outside `exclude` is on its way: its
   * channel closed within {@link REJOIN_MS} (a replaced or dropped connection being redialled),
   * or a peer opened its side and its capacity advert (sent on open) has not come yet; a peer
   * that never opens the channel (it executes nothing) is no reason to wait. True once an executor
   * outside `exclude` has an open channel and has advertised; false when none is on its way,
   * at the timeout, on `signal` or when the table stops. With `arrivals`, any executor yet to
   * connect counts as on its way: the wait lasts until one advertises or the timeout.
   */
  async waitForRejoin (exclude: ReadonlySet<string>, timeoutMs: number, signal?: AbortSignal, arrivals = false): Promise<boolean> {
    const end = this.#now() + timeoutMs
    for (let wakes = 0; wakes < MAX_REJOIN_WAKES; wakes++) {
      if (this.#stopped || signal?.aborted === true) return false
      const peers = [...this.#peers.values()].filter(p => !exclude.has(p.state.key))
      if (peers.some(p => p.channel.opened && isExecutor(p.state))) return true
      const now = this.#now()
      const left = end - now
      const lost = [...this.#lost].some(([key, at]) => !exclude.has(key) && now - at < REJOIN_MS)
      if (left <= 0 || (!arrivals && !lost && !peers.some(p => p.channel.opened && p.state.capacity === null))) return false
      // a lost executor stops counting once REJOIN_MS passed, with no event to say so
      await this.#nextEvent(arrivals ? left : Math.min(left, REJOIN_MS), signal)
    }
    return false
  }

  /** Resolves at the next capacity advert, closed channel or stop, after `ms`, or when `signal` aborts. */
  async #nextEvent (ms: number, signal?: AbortSignal): Promise<void> {
    await new Promise<void>(resolve => {
      const waiters = this.#waiters
      const done = (): void => { clearTimeout(timer); waiters.delete(done); signal?.removeEventListener('abort', done); resolve() }
      const timer = setTimeout(done, ms)
      waiters.add(done)
      signal?.addEventListener('abort', done, { once: true })
    })
  }

  #open (conn: SwarmConnection, _mux: Protomux): InvokeChannel | null {
    if (this.#stopped) return null
    for (const p of this.#peers.values()) if (p.channel.conn === conn) return null
    const channel = new InvokeChannel(conn, {
      onopen: (ch) => {
        const peer = this.#peers.get(ch)
        if (peer === undefined) return
        ch.send(this.#opts.capacity(0))
        this.probe(peer)
      },
      onmessage: (msg, ch) => { const peer = this.#peers.get(ch); if (peer !== undefined) this.#onmessage(peer, msg) },
      onclose: (ch, err) => { this.#onclose(ch, err) }
    })
    if (channel.closed) return null
    const peer: Peer = {
      channel,
      state: { key: channel.remoteKey, capacity: null, rtt: null, inflight: 0, dissents: 0, full: false },
      heardAt: this.#now(),
      nextId: 1,
      probes: new Map(),
      unlisten: () => {},
      since: this.#now()
    }
    this.#peers.set(channel, peer)
    // any bytes from the peer prove it alive, replication included, and arrive packet by
    // packet, while a message (a large result) is heard only once it is whole
    const raw = (conn as { rawStream?: { on (e: 'data', l: () => void): unknown, off (e: 'data', l: () => void): unknown } | null }).rawStream
    if (raw !== null && raw !== undefined) {
      const heard = (): void => { peer.heardAt = this.#now() }
      raw.on('data', heard)
      peer.unlisten = () => { raw.off('data', heard) }
    }
    return channel
  }

  #onmessage (peer: Peer, msg: InvokeMessage): void {
    peer.heardAt = this.#now()
    switch (msg.type) {
      case 'capacity': {
        const t0 = peer.probes.get(msg.id)
        if (t0 !== undefined) { peer.probes.delete(msg.id); peer.state.rtt = performance.now() - t0 }
        if (peer.state.capacity === null) debug('peer', peer.state.key.slice(0, 8), 'advertised', msg.total, 'slot(s),', this.#now() - peer.since, 'ms after its channel was made')
        peer.state.capacity = msg
        peer.state.full = msg.free === 0
        if (isExecutor(peer.state)) this.#lost.delete(peer.state.key)
        for (const wake of [...this.#waiters]) wake()
        return
      }
      case 'capacity-query':
        peer.channel.send(this.#opts.capacity(msg.id))
        return
      default:
        this.#opts.onmessage(peer, msg)
    }
  }

  #onclose (channel: InvokeChannel, err: ShadwError | null): void {
    const peer = this.#peers.get(channel)
    if (peer === undefined) return
    this.#peers.delete(channel)
    peer.unlisten()
    debug('channel with', peer.state.key.slice(0, 8), 'closed after', this.#now() - peer.since, 'ms', err === null ? '' : `: ${err.message}`)
    if (isExecutor(peer.state) && this.find(peer.state.key) === undefined) {
      const now = this.#now()
      for (const [key, at] of this.#lost) if (now - at >= REJOIN_MS) this.#lost.delete(key)
      this.#lost.delete(peer.state.key)
      this.#lost.set(peer.state.key, now)
      if (this.#lost.size > MAX_LOST) this.#lost.delete(this.#lost.keys().next().value as string)
    }
    this.#opts.onclose(peer, err)
    for (const wake of [...this.#waiters]) wake()
  }
}

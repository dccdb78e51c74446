/**
 * One Protomux channel of a protocol on every connection a node has and will have: what the
 * ledger announcer, the audit channels and the invocation endpoint all need. The peer may
 * start its side later (a tab switching tier), so each connection is also paired: the peer's
 * late open makes ours.
 */
import Protomux, { type ProtomuxChannel } from 'protomux'
import type { SwarmConnection } from 'hyperswarm'
import type { PeerStatus } from './node/index.ts'

/** The parts of a node that per-connection protocols use (ShadwNode implements them). */
export interface ConnectionHost {
  on (event: 'connection', listener: (conn: SwarmConnection, peer: PeerStatus) => void): () => void
  connections (): Array<[SwarmConnection, PeerStatus]>
}

/** What the helper needs of a channel: to close it on stop, and to know when it closed. */
export interface ClosableChannel {
  readonly closed: boolean
  close (): void
}

/**
 * Opens `protocol`'s channel on every connection; `start()` and `stop()` are safe to call
 * twice. `C` is the channel as its protocol wraps it (a bare Protomux channel by default).
 */
export class ConnectionChannels<C extends ClosableChannel = ProtomuxChannel> {
  readonly #host: ConnectionHost
  readonly #protocol: string
  readonly #open: (conn: SwarmConnection, mux: Protomux) => C | null
  /** connections attached while started, with the mux our pairing sits on (undone by stop) */
  readonly #attached = new Map<SwarmConnection, Protomux>()
  /** open channels; closed ones are pruned as new ones come */
  #channels = new Set<C>()
  #off: (() => void) | null = null

  /** `open` creates (unique) and opens this side's channel on `conn`; null when one is open already. */
  constructor (host: ConnectionHost, protocol: string, open: (conn: SwarmConnection, mux: Protomux) => C | null) {
    this.#host = host
    this.#protocol = protocol
    this.#open = open
  }

  start (): void {
    if (this.#off !== null) return
    this.#off = this.#host.on('connection', (conn) => { this.#attach(conn) })
    for (const [conn] of this.#host.connections()) this.#attach(conn)
  }

  /**
   * Stops, closes every channel and unpairs the protocol, so a successor on the same
   * connections (or this instance started again) opens channels of its own and the peers'
   * pairing answers them.
   */
  stop (): void {
    this.#off?.()
    this.#off = null
    for (const ch of this.#channels) ch.close()
    this.#channels.clear()
    for (const mux of this.#attached.values()) mux.unpair({ protocol: this.#protocol })
    this.#attached.clear()
  }

  #attach (conn: SwarmConnection): void {
    if (this.#off === null || this.#attached.has(conn)) return
    // a closed connection is never attached again: the map must not hold it. It is pruned
    // here, against the host's open connections, not by a 'close' listener of each protocol's
    // own: those come before the replicator lifts the stream's listener limit, and a node
    // speaking every protocol (an executor with its key channel) passed ten on each new
    // connection
    const live = new Set(this.#host.connections().map(([c]) => c))
    for (const c of this.#attached.keys()) if (!live.has(c)) this.#attached.delete(c)
    const mux = Protomux.from(conn)
    this.#attached.set(conn, mux)
    const open = (): void => {
      if (this.#off === null) return
      const channel = this.#open(conn, mux)
      if (channel === null) return
      this.#channels = new Set([...this.#channels].filter(ch => !ch.closed))
      this.#channels.add(channel)
    }
    mux.pair({ protocol: this.#protocol }, open)
    open()
  }
}

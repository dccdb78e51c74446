/**
 * A node's live connections: the swarm's and the ones the host attaches (direct WebRTC
 * links), what status says about each, replication on every one, and where block requests
 * go while a direct link is up.
 */
import type Hypercore from 'hypercore'
import type Hyperswarm from 'hyperswarm'
import type { PeerInfo, SwarmConnection } from 'hyperswarm'
import { keyToHex } from '../keys.ts'
import { log } from '../log.ts'
import { DirectPreference } from './direct-preference.ts'
import type { PeerStatus } from './types.ts'

const debug = log('node')

/** What the host knows about a connection that the core cannot see (how its bytes travel). */
export type ConnectionClassifier = (conn: SwarmConnection) => PeerStatus['transport']

/** What the connections need from the node that owns them. */
export interface ConnectionsOptions {
  /** the host's transport for swarm connections (default: every one is 'udx') */
  classify?: ConnectionClassifier | undefined
  /** starts replicating the node's logs on a new connection */
  replicate: (conn: SwarmConnection) => void
  /** the logs held now: block requests on each go to a direct link while one is up */
  cores: () => Iterable<Hypercore>
  /** a connection opened or closed (the node's 'peer' event) */
  onPeer: (peer: PeerStatus, state: 'open' | 'closed') => void
  /** a connection opened, after `onPeer`: protocols that ride on it start (the node's 'connection' event) */
  onConnection: (conn: SwarmConnection, peer: PeerStatus) => void
}

/** The live connections of one node (see the module comment). */
export class Connections {
  readonly #opts: ConnectionsOptions
  readonly #classify: ConnectionClassifier
  readonly #peers = new Map<SwarmConnection, PeerStatus>()
  /** block requests go to a direct link, not its relayed twin, while the link is up */
  readonly #preference: DirectPreference

  constructor (opts: ConnectionsOptions) {
    this.#opts = opts
    this.#classify = opts.classify ?? (() => 'udx')
    this.#preference = new DirectPreference(opts.cores, conn => this.#peers.get(conn))
  }

  /** Takes every connection `swarm` opens from now on. */
  listen (swarm: Hyperswarm): void {
    swarm.on('connection', (conn: SwarmConnection, info: PeerInfo) => { this.#onConnection(conn, info) })
  }

  /**
   * Takes a connection that did not come from the swarm (see `ShadwNode.attachConnection`):
   * while a 'webrtc' one to a node is up, block requests go there rather than to a relayed
   * connection to the same node.
   */
  attach (conn: SwarmConnection, transport: PeerStatus['transport']): void {
    this.#onConnection(conn, { publicKey: conn.remotePublicKey, topics: [], client: conn.isInitiator }, transport)
    if (transport !== 'webrtc') return
    const key = keyToHex(conn.remotePublicKey)
    this.#preference.opened(key)
    conn.on('close', () => { this.#preference.closed(key) })
  }

  /** Applies the direct-link preference to a log the node holds now and to its later peers. */
  watch (core: Hypercore): void {
    this.#preference.watch(core)
  }

  /** Live connections and what status says about each. */
  list (): Array<[SwarmConnection, PeerStatus]> {
    return [...this.#peers]
  }

  /** What status says about each live connection. */
  peers (): PeerStatus[] {
    return [...this.#peers.values()]
  }

  /** Closes the attached direct links: they are not the swarm's to close. */
  destroyAttached (): void {
    for (const [conn, peer] of this.#peers) if (peer.transport === 'webrtc') conn.destroy()
  }

  #onConnection (conn: SwarmConnection, info: PeerInfo, transport?: PeerStatus['transport']): void {
    const peer: PeerStatus = {
      publicKey: keyToHex(info.publicKey),
      transport: transport ?? this.#classify(conn),
      initiator: conn.isInitiator
    }
    this.#peers.set(conn, peer)
    this.#opts.onPeer(peer, 'open')
    debug('peer open', peer.publicKey.slice(0, 8), peer.transport)
    conn.on('error', (err: Error) => { debug('connection error', err.message) })
    conn.on('close', () => {
      debug('peer closed', peer.publicKey.slice(0, 8), peer.transport)
      this.#peers.delete(conn)
      this.#opts.onPeer(peer, 'closed')
    })
    this.#opts.onConnection(conn, peer)
    this.#opts.replicate(conn)
  }
}

import type Hypercore from 'hypercore'
import type { SwarmConnection } from 'hyperswarm'
import type { PeerStatus } from './types.ts'

/** The part of a Hypercore 10 replication peer this reads and sets (lib/replicator.js `Peer`). */
interface ReplicationPeer {
  /** the connection the peer replicates over */
  stream: SwarmConnection
  /**
   * Hypercore skips paused peers when it picks where to send a request (`Peer.isActive`);
   * a paused peer still serves the remote's requests and hears its appends.
   */
  paused: boolean
}

/**
 * Moves a node's block requests to a direct link while one is up. Two nodes linked directly
 * are also connected through the relay (kept as signalling path and fallback, see
 * docs/protocol.md), and Hypercore spreads requests over every peer of a log: measured, half
 * the bytes still crossed the relay. So, for each log, the replication peer on the relayed
 * connection to a node we have a direct link with is paused; it is resumed (and Hypercore
 * re-plans its requests) the moment the last direct link to that node closes, so the relay
 * takes over with nothing to re-dial. Only pauses set here are ever lifted: Hypercore's own
 * (fork conflicts, storage full) are left alone.
 */
export class DirectPreference {
  /** remote public key (hex) -> live direct connections to it */
  readonly #direct = new Map<string, number>()
  readonly #paused = new WeakSet<ReplicationPeer>()
  readonly #cores: () => Iterable<Hypercore>
  readonly #peerOf: (conn: SwarmConnection) => PeerStatus | undefined

  /** `cores`: the logs held now; `peerOf`: what status knows about a connection. */
  constructor (cores: () => Iterable<Hypercore>, peerOf: (conn: SwarmConnection) => PeerStatus | undefined) {
    this.#cores = cores
    this.#peerOf = peerOf
  }

  /** Applies the preference to a log now and to every replication peer it gains later. */
  watch (core: Hypercore): void {
    core.on('peer-add', () => { this.#apply(core) })
    this.#apply(core)
  }

  /** A direct connection to `publicKey` is replicating: stop asking its relayed twin. */
  opened (publicKey: string): void {
    this.#direct.set(publicKey, (this.#direct.get(publicKey) ?? 0) + 1)
    for (const core of this.#cores()) this.#apply(core)
  }

  /** A direct connection closed: when it was the last one, ask the relayed twin again. */
  closed (publicKey: string): void {
    const left = (this.#direct.get(publicKey) ?? 1) - 1
    if (left > 0) {
      this.#direct.set(publicKey, left)
      return
    }
    this.#direct.delete(publicKey)
    for (const core of this.#cores()) {
      let resumed = false
      for (const peer of peersOf(core)) {
        if (!this.#paused.has(peer) || this.#peerOf(peer.stream)?.publicKey !== publicKey) continue
        this.#paused.delete(peer)
        peer.paused = false
        resumed = true
      }
      if (resumed) replicatorOf(core)?.updateAll()
    }
  }

  #apply (core: Hypercore): void {
    if (this.#direct.size === 0) return
    for (const peer of peersOf(core)) {
      const status = this.#peerOf(peer.stream)
      if (status === undefined || status.transport === 'webrtc' || !this.#direct.has(status.publicKey)) continue
      if (peer.paused) continue
      peer.paused = true
      this.#paused.add(peer)
    }
  }
}

function peersOf (core: Hypercore): ReplicationPeer[] {
  return (core as unknown as { peers: ReplicationPeer[] }).peers
}

function replicatorOf (core: Hypercore): { updateAll (): void } | undefined {
  return (core as unknown as { replicator?: { updateAll (): void } }).replicator
}

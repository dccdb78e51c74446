/**
 * How light nodes find the ledgers to check: Protomux protocol `shadw/ledgers/v1` on every
 * connection, whose open handshake is the list of ledger log keys the node writes (executors:
 * their receipt ledger; everyone else: none). Nothing else is sent; a malformed handshake
 * closes the channel only. Light nodes meet executors on the signing topic (`signingTopic()`),
 * and this channel then tells them which logs to replicate.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import type Protomux from 'protomux'
import type { ProtomuxChannel } from 'protomux'
import type { SwarmConnection } from 'hyperswarm'
import { ConnectionChannels, type ConnectionHost } from '../connection-channels.ts'

/** Protomux protocol name. */
export const LEDGERS_PROTOCOL = 'shadw/ledgers/v1'
/** A node writes a handful of ledgers; more in one handshake is not a node we trust to list them. */
export const MAX_ANNOUNCED_LEDGERS = 16

/** The parts of a node the announcer uses (ShadwNode implements them). */
export type AnnounceHost = ConnectionHost

/** Options of {@link LedgerAnnouncer}. */
export interface LedgerAnnouncerOptions {
  host: AnnounceHost
  /** the ledger keys (hex) this node announces */
  ledgers: () => string[]
  /** a peer announced its ledgers (hex keys, at most {@link MAX_ANNOUNCED_LEDGERS}) */
  onledgers?: (keys: string[], peer: string) => void
}

/** The keys, concatenated: 32 bytes each. */
const HANDSHAKE = c.buffer

/** Opens the channel on every connection; `start()` and `stop()` are safe to call twice. */
export class LedgerAnnouncer {
  readonly #opts: LedgerAnnouncerOptions
  readonly #channels: ConnectionChannels

  constructor (opts: LedgerAnnouncerOptions) {
    this.#opts = opts
    this.#channels = new ConnectionChannels(opts.host, LEDGERS_PROTOCOL, (conn, mux) => this.#open(conn, mux))
  }

  start (): void {
    this.#channels.start()
  }

  /**
   * Stops listening and closes its channels, so a successor on the same connections (a
   * browser switching tiers) opens channels of its own and hears the peers' ledgers again.
   */
  stop (): void {
    this.#channels.stop()
  }

  #open (conn: SwarmConnection, mux: Protomux): ProtomuxChannel | null {
    const keys = b4a.concat(this.#opts.ledgers().slice(0, MAX_ANNOUNCED_LEDGERS).map(k => b4a.from(k, 'hex')))
    const channel = mux.createChannel({
      protocol: LEDGERS_PROTOCOL,
      unique: true,
      handshake: HANDSHAKE,
      onopen: (remote: unknown) => {
        const bytes = remote ?? new Uint8Array(0)
        if (!(bytes instanceof Uint8Array) || bytes.byteLength % 32 !== 0 || bytes.byteLength > MAX_ANNOUNCED_LEDGERS * 32) { channel?.close(); return }
        const peer = b4a.toString(conn.remotePublicKey, 'hex')
        const keys: string[] = []
        for (let i = 0; i < bytes.byteLength; i += 32) keys.push(b4a.toString(bytes.subarray(i, i + 32), 'hex'))
        if (keys.length > 0) this.#opts.onledgers?.(keys, peer)
      }
    })
    channel?.open(keys)
    return channel
  }
}

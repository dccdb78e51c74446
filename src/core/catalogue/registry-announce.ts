/**
 * How nodes learn which function registries exist: Protomux protocol `shadw/registries/v1`
 * on every connection, whose open handshake says whether the node executes and lists the
 * publisher registries it serves (its own and those it mirrors). Nothing else is sent; a
 * malformed handshake closes the channel only. What a peer announces is a hint: every
 * manifest read from an announced registry is verified before it is indexed.
 */
import b4a from 'b4a'
import c, { type State } from 'compact-encoding'
import type Protomux from 'protomux'
import type { ProtomuxChannel } from 'protomux'
import type { SwarmConnection } from 'hyperswarm'
import { ConnectionChannels, type ConnectionHost } from '../connection-channels.ts'

/** Protomux protocol name. */
export const REGISTRIES_PROTOCOL = 'shadw/registries/v1'
/** Registries listed in one handshake, at most: a node serves a handful of publishers, a big mirror a few dozen. */
export const MAX_ANNOUNCED_REGISTRIES = 64

/** What a peer announced. */
export interface RegistryAnnouncement {
  /** the peer's public key, hex */
  peer: string
  /** the peer executes functions for the swarm */
  executes: boolean
  /** publisher keys, hex, distinct */
  registries: string[]
}

/** Options of {@link RegistryAnnouncer}. */
export interface RegistryAnnouncerOptions {
  host: ConnectionHost
  /** whether this node executes */
  executes: boolean
  /** the publisher keys (hex) this node serves */
  registries: () => string[]
  onannounce: (a: RegistryAnnouncement) => void
  /** a peer that announced has gone */
  onclose?: (peer: string) => void
}

interface Handshake { flags: number, keys: Uint8Array }

/** Flags byte, then the keys concatenated, 32 bytes each. */
const HANDSHAKE = {
  preencode (s: State, m: Handshake): void { c.uint8.preencode(s, m.flags); c.buffer.preencode(s, m.keys) },
  encode (s: State, m: Handshake): void { c.uint8.encode(s, m.flags); c.buffer.encode(s, m.keys) },
  decode (s: State): { flags: number, keys: Uint8Array | null } { return { flags: c.uint8.decode(s), keys: c.buffer.decode(s) } }
}
/** Flag bit: the node executes functions for the swarm. */
const EXECUTES = 1

/** Opens the channel on every connection; `start()` and `stop()` are safe to call twice. */
export class RegistryAnnouncer {
  readonly #opts: RegistryAnnouncerOptions
  readonly #channels: ConnectionChannels

  constructor (opts: RegistryAnnouncerOptions) {
    this.#opts = opts
    this.#channels = new ConnectionChannels(opts.host, REGISTRIES_PROTOCOL, (conn, mux) => this.#open(conn, mux))
  }

  start (): void {
    this.#channels.start()
  }

  stop (): void {
    this.#channels.stop()
  }

  #open (conn: SwarmConnection, mux: Protomux): ProtomuxChannel | null {
    const keys = b4a.concat(this.#opts.registries().slice(0, MAX_ANNOUNCED_REGISTRIES).map(k => b4a.from(k, 'hex')))
    const peer = b4a.toString(conn.remotePublicKey, 'hex')
    let heard = false
    const channel = mux.createChannel({
      protocol: REGISTRIES_PROTOCOL,
      unique: true,
      handshake: HANDSHAKE,
      onopen: (remote: unknown) => {
        const m = remote as { flags?: unknown, keys?: unknown } | null
        const bytes = m?.keys ?? new Uint8Array(0)
        if (typeof m?.flags !== 'number' || !(bytes instanceof Uint8Array) || bytes.byteLength % 32 !== 0 || bytes.byteLength > MAX_ANNOUNCED_REGISTRIES * 32) { channel?.close(); return }
        const registries = new Set<string>()
        for (let i = 0; i < bytes.byteLength; i += 32) registries.add(b4a.toString(bytes.subarray(i, i + 32), 'hex'))
        heard = true
        this.#opts.onannounce({ peer, executes: (m.flags & EXECUTES) !== 0, registries: [...registries] })
      },
      onclose: () => { if (heard) this.#opts.onclose?.(peer) }
    })
    channel?.open({ flags: this.#opts.executes ? EXECUTES : 0, keys })
    return channel
  }
}

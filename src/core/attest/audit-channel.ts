/**
 * Protomux protocol `shadw/audit/v1`, on every connection: how a tenant who chose to be
 * audited hands (receipt, input) pairs to light nodes, the only way a light node can re-run a
 * call (it never sees inputs otherwise; a gated function's input may be private, so revealing
 * it is the tenant's choice, call by call). The open handshake says whether this side takes
 * audits (a light node that re-executes) or only sends them; a malformed message closes the
 * channel, never the connection. Each peer's audits are rate-limited before they are even
 * decoded (hashing a 4 MiB input is work): beyond the rate they are dropped and counted.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import type Protomux from 'protomux'
import type { ProtomuxChannel, ProtomuxMessage } from 'protomux'
import type { SwarmConnection } from 'hyperswarm'
import { log } from '../log.ts'
import { ConnectionChannels, type ConnectionHost } from '../connection-channels.ts'
import { decodeAudit, encodeAudit, type Audit } from './audit-message.ts'
import { TokenBucket } from './token-bucket.ts'

const debug = log('audit')

/** Protomux protocol name. */
export const AUDIT_PROTOCOL = 'shadw/audit/v1'
/**
 * Light nodes one audited call is sent to: enough for a 2-of-3 attestation from re-execution
 * alone, few enough that an input is revealed to a handful of nodes, not the swarm.
 */
export const DEFAULT_AUDITORS = 3
/** Handshake flag: this side re-executes audits sent to it. */
const ACCEPTS_AUDITS = 1
/**
 * Audits one peer may send in a burst, and per second after it: a light node re-runs calls
 * on a pool of one or two workers, so one peer sending more could not be served anyway, and
 * an honest caller sends one audit per audited call (a sample of its calls).
 */
export const AUDIT_BURST = 16
export const AUDIT_RATE_PER_S = 4
/** Peers whose rate is tracked at once (least recently heard forgotten first): bounds the buckets. */
const MAX_RATED_PEERS = 1024

interface Link { channel: ProtomuxChannel, message: ProtomuxMessage, peer: string, accepts: boolean }

/** Options of {@link AuditChannels}. */
export interface AuditChannelsOptions {
  host: ConnectionHost
  /** set on a light node: each valid audit a peer sends (peer = its node key, hex) */
  onaudit?: (audit: Audit, peer: string) => void
  /** audits per peer: burst and sustained rate (default {@link AUDIT_BURST}, {@link AUDIT_RATE_PER_S}) */
  rate?: { burst: number, perSecond: number }
  random?: () => number
  now?: () => number
}

/**
 * @example
 * ```ts
 * // tenant side
 * const audits = new AuditChannels({ host: node }); audits.start()
 * audits.submit({ receipt, input })            // → light nodes it reached
 * // light node side
 * new AuditChannels({ host: node, onaudit: (a) => signing.audit(a) }).start()
 * ```
 */
export class AuditChannels {
  readonly #opts: AuditChannelsOptions
  readonly #links = new Set<Link>()
  readonly #channels: ConnectionChannels
  readonly #random: () => number
  /** peer key -> its bucket; a Map's order is insertion, so re-inserting on use keeps it LRU */
  readonly #buckets = new Map<string, TokenBucket>()
  /** audits refused as malformed (the sender's channel was closed) */
  refused = 0
  /** audits dropped because their sender was over its rate */
  rateLimited = 0

  constructor (opts: AuditChannelsOptions) {
    this.#opts = opts
    this.#random = opts.random ?? Math.random
    this.#channels = new ConnectionChannels(opts.host, AUDIT_PROTOCOL, (conn, mux) => this.#open(conn, mux))
  }

  /** Opens the channel on every current and future connection. Safe to call twice. */
  start (): void {
    this.#channels.start()
  }

  /** Closes every channel. Safe to call twice. */
  stop (): void {
    this.#channels.stop()
    this.#links.clear()
  }

  /** Node keys of connected peers that take audits (light nodes), each once. */
  auditors (): string[] {
    return [...new Set([...this.#links].filter(l => l.accepts).map(l => l.peer))]
  }

  /**
   * Sends an audit to up to `max` light nodes, chosen at random among those connected (never
   * the receipt's executor); returns their keys. Checks the audit first.
   *
   * @throws ShadwError `AUDIT_INVALID` when the input does not match the receipt or is too large
   */
  submit (audit: Audit, max = DEFAULT_AUDITORS): string[] {
    const bytes = encodeAudit(audit)
    const byPeer = new Map<string, Link>()
    for (const l of this.#links) if (l.accepts && l.peer !== audit.receipt.executor) byPeer.set(l.peer, l)
    const chosen = [...byPeer.values()]
    for (let i = chosen.length - 1; i > 0; i--) {
      const j = Math.floor(this.#random() * (i + 1))
      const t = chosen[i] as Link
      chosen[i] = chosen[j] as Link
      chosen[j] = t
    }
    const sent = chosen.slice(0, Math.max(0, max))
    for (const l of sent) l.message.send(bytes)
    debug('audit of', audit.receipt.fn, 'sent to', sent.length)
    return sent.map(l => l.peer)
  }

  #open (conn: SwarmConnection, mux: Protomux): ProtomuxChannel | null {
    const peer = b4a.toString(conn.remotePublicKey, 'hex')
    let link: Link | null = null
    const channel = mux.createChannel({
      protocol: AUDIT_PROTOCOL,
      unique: true,
      handshake: c.uint,
      onopen: (remote: unknown) => {
        if (link === null) return
        if (typeof remote !== 'number' || !Number.isSafeInteger(remote)) { channel?.close(); return }
        link.accepts = (remote & ACCEPTS_AUDITS) !== 0
      },
      onclose: () => { if (link !== null) this.#links.delete(link) }
    })
    if (channel === null) return null
    const message = channel.addMessage<Uint8Array>({ encoding: c.raw, onmessage: (bytes) => { this.#receive(bytes, peer, channel) } })
    link = { channel, message, peer, accepts: false }
    this.#links.add(link)
    channel.open(this.#opts.onaudit === undefined ? 0 : ACCEPTS_AUDITS)
    return channel
  }

  #receive (bytes: Uint8Array, peer: string, channel: ProtomuxChannel): void {
    const onaudit = this.#opts.onaudit
    // a node that takes no audits was sent one anyway: not a protocol it agreed to
    if (onaudit === undefined) { channel.close(); return }
    if (!this.#bucket(peer).take()) { this.rateLimited++; return }
    let audit: Audit
    try {
      audit = decodeAudit(bytes)
    } catch (err) {
      this.refused++
      debug('refused audit from', peer.slice(0, 8), (err as Error).message)
      channel.close()
      return
    }
    onaudit(audit, peer)
  }

  #bucket (peer: string): TokenBucket {
    let bucket = this.#buckets.get(peer)
    if (bucket === undefined) {
      const rate = this.#opts.rate ?? { burst: AUDIT_BURST, perSecond: AUDIT_RATE_PER_S }
      bucket = new TokenBucket({ ...rate, ...(this.#opts.now === undefined ? {} : { now: this.#opts.now }) })
    }
    // kept across channels: closing and reopening the channel does not refill it
    this.#buckets.delete(peer)
    this.#buckets.set(peer, bucket)
    if (this.#buckets.size > MAX_RATED_PEERS) this.#buckets.delete(this.#buckets.keys().next().value as string)
    return bucket
  }
}

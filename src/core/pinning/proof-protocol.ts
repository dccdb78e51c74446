/**
 * The proof protocol: Protomux protocol `shadw/proof/v1` on every connection of a holder that
 * runs proofs (proof-challenger.ts) or of a status reader. JSON messages, bounded:
 *
 * - `block` asks a holder of a replicated pin for one block with its Merkle proof
 *   (block-proof.ts), answered by `block-proof` or `refused`. Erasure shards are challenged
 *   over the shard protocol, whose holder answers from the shard on its disk.
 * - `gossip` carries signed verdicts to the other holders of the drive they judge.
 * - `query` asks what verdicts a holder knows for a drive, answered by `verdicts`.
 *
 * Requests carry an id the answer repeats; a malformed message closes the channel.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import type Protomux from 'protomux'
import type { ProtomuxChannel, ProtomuxMessage } from 'protomux'
import type { SwarmConnection } from 'hyperswarm'
import { ConnectionChannels, type ConnectionHost } from '../connection-channels.ts'
import { ShadwError, isErrorCode, type ErrorCode } from '../errors.ts'
import { isHexKey } from '../hex.ts'
import { log } from '../log.ts'
import { MAX_BLOCK_PROOF_BYTES } from './block-proof.ts'

const debug = log('pinning')

/** Protomux protocol name. */
export const PROOF_PROTOCOL = 'shadw/proof/v1'
/** A block of up to 1 MiB in hex, its path and roots (64 nodes each at most) and the envelope. */
export const MAX_PROOF_MESSAGE_BYTES = 2 * MAX_BLOCK_PROOF_BYTES + 64 * 1024
/** Verdicts in one message: a drive's holders × their challengers, latest each. */
export const MAX_VERDICTS = 256

/** Requests, each answered with the same id. */
export type ProofRequest =
  | { type: 'block', key: string, length: number, index: number }
  | { type: 'query', drive: string }

export type ProofMessage =
  | (ProofRequest & { id: number })
  | { type: 'gossip', verdicts: unknown[] }
  | { type: 'block-proof', id: number, answer: unknown }
  | { type: 'verdicts', id: number, verdicts: unknown[] }
  | { type: 'refused', id: number, code: ErrorCode, message: string }

/** An answer: what {@link ProofPeer.request} resolves with. */
export type ProofAnswer = Extract<ProofMessage, { type: 'block-proof' | 'verdicts' }>

function bad (why: string): never {
  throw ShadwError.PIN_PROTOCOL(why)
}

function uint (v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(`${what} must be a non-negative integer`)
  return v
}

function key (v: unknown, what: string): string {
  if (!isHexKey(v)) bad(`${what} must be 64 hex characters`)
  return v
}

function verdicts (v: unknown): unknown[] {
  if (!Array.isArray(v) || v.length > MAX_VERDICTS) bad(`verdicts must be a list of at most ${MAX_VERDICTS}`)
  return v
}

/** Decodes and checks one message's envelope (verdicts and answers are checked by whoever uses them). @throws ShadwError `PIN_PROTOCOL` */
export function decodeProofMessage (bytes: Uint8Array): ProofMessage {
  if (!(bytes instanceof Uint8Array)) bad('message is not bytes')
  if (bytes.byteLength > MAX_PROOF_MESSAGE_BYTES) bad('message too large')
  let v: unknown
  try { v = JSON.parse(b4a.toString(bytes)) } catch { bad('message is not JSON') }
  if (typeof v !== 'object' || v === null) bad('message is not an object')
  const m = v as Record<string, unknown>
  switch (m.type) {
    case 'block': return { type: 'block', id: uint(m.id, 'id'), key: key(m.key, 'key'), length: uint(m.length, 'length'), index: uint(m.index, 'index') }
    case 'query': return { type: 'query', id: uint(m.id, 'id'), drive: key(m.drive, 'drive') }
    case 'gossip': return { type: 'gossip', verdicts: verdicts(m.verdicts) }
    case 'block-proof': return { type: 'block-proof', id: uint(m.id, 'id'), answer: m.answer }
    case 'verdicts': return { type: 'verdicts', id: uint(m.id, 'id'), verdicts: verdicts(m.verdicts) }
    case 'refused': return { type: 'refused', id: uint(m.id, 'id'), code: isErrorCode(m.code) ? m.code : 'INTERNAL', message: typeof m.message === 'string' ? m.message.slice(0, 500) : '' }
    default: return bad('unknown message type')
  }
}

/** One peer's end: sends, and requests with answers. */
export class ProofPeer {
  readonly publicKey: string
  readonly #channel: ProtomuxChannel
  readonly #message: ProtomuxMessage
  #nextId = 1
  readonly #pending = new Map<number, { resolve: (m: ProofAnswer) => void, reject: (err: Error) => void, timer: ReturnType<typeof setTimeout> }>()

  constructor (publicKey: string, channel: ProtomuxChannel, message: ProtomuxMessage) {
    this.publicKey = publicKey
    this.#channel = channel
    this.#message = message
  }

  get closed (): boolean {
    return this.#channel.closed
  }

  send (m: ProofMessage): void {
    if (!this.#channel.closed) this.#message.send(b4a.from(JSON.stringify(m)))
  }

  /** Sends a request; a `refused` answer rejects with the peer's typed error. @throws ShadwError `TIMEOUT`, `NODE_CLOSED` */
  async request (m: ProofRequest, timeoutMs: number): Promise<ProofAnswer> {
    if (this.#channel.closed) throw ShadwError.NODE_CLOSED('proof channel closed')
    const id = this.#nextId++
    return await new Promise<ProofAnswer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(ShadwError.TIMEOUT(`${m.type} answer from ${this.publicKey.slice(0, 8)}`, timeoutMs))
      }, timeoutMs)
      this.#pending.set(id, { resolve, reject, timer })
      this.send({ ...m, id })
    })
  }

  /** Settles the request an answer names; false when the message is not an answer. */
  settle (m: ProofMessage): boolean {
    if (m.type !== 'block-proof' && m.type !== 'verdicts' && m.type !== 'refused') return false
    const p = this.#pending.get(m.id)
    if (p === undefined) return true
    this.#pending.delete(m.id)
    clearTimeout(p.timer)
    if (m.type === 'refused') p.reject(new ShadwError(m.code, m.message.replace(/^[A-Z_]+: /, ''), { details: { holder: this.publicKey } }))
    else p.resolve(m)
    return true
  }

  fail (): void {
    for (const p of this.#pending.values()) { clearTimeout(p.timer); p.reject(ShadwError.NODE_CLOSED('proof channel closed')) }
    this.#pending.clear()
  }
}

/** The protocol on every connection; `start()`/`stop()` are safe to call twice. */
export class ProofChannels {
  readonly #channels: ConnectionChannels
  readonly #peers = new Map<ProtomuxChannel, ProofPeer>()
  readonly #onrequest: ((peer: ProofPeer, m: ProofMessage) => void) | null

  constructor (host: ConnectionHost, opts: { onrequest?: (peer: ProofPeer, m: ProofMessage) => void } = {}) {
    this.#onrequest = opts.onrequest ?? null
    this.#channels = new ConnectionChannels(host, PROOF_PROTOCOL, (conn, mux) => this.#open(conn, mux))
  }

  start (): void {
    this.#channels.start()
  }

  stop (): void {
    this.#channels.stop()
    for (const p of this.#peers.values()) p.fail()
    this.#peers.clear()
  }

  /** Open peers, one per connection. */
  peers (): ProofPeer[] {
    return [...this.#peers.values()].filter(p => !p.closed)
  }

  /** The open peer with this key, if connected. */
  peer (publicKey: string): ProofPeer | undefined {
    return this.peers().find(p => p.publicKey === publicKey)
  }

  #open (conn: SwarmConnection, mux: Protomux): ProtomuxChannel | null {
    const publicKey = b4a.toString(conn.remotePublicKey, 'hex')
    let peer: ProofPeer | null = null
    const channel = mux.createChannel({
      protocol: PROOF_PROTOCOL,
      unique: true,
      onclose: () => { peer?.fail(); if (channel !== null) this.#peers.delete(channel) }
    })
    if (channel === null) return null
    const message = channel.addMessage({
      encoding: c.buffer,
      onmessage: (bytes: Uint8Array) => {
        if (peer === null) return
        let m: ProofMessage
        try { m = decodeProofMessage(bytes) } catch (err) {
          debug('closing proof channel of', publicKey.slice(0, 8), err)
          channel.close()
          return
        }
        if (peer.settle(m)) return
        this.#onrequest?.(peer, m)
      }
    })
    peer = new ProofPeer(publicKey, channel, message)
    this.#peers.set(channel, peer)
    channel.open()
    return channel
  }
}

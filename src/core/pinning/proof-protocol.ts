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
 * It runs on a request channel (request-channels.ts): requests carry an id the answer
 * repeats; a malformed message closes the channel.
 */
import type { ConnectionHost } from '../connection-channels.ts'
import { ShadwError, isErrorCode, type ErrorCode } from '../errors.ts'
import { isHexKey } from '../hex.ts'
import { decodeChannelMessage, RequestChannels, RequestPeer, type RequestProtocol } from '../request-channels.ts'
import { MAX_BLOCK_PROOF_BYTES } from './block-proof.ts'

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

/** Checks one message's envelope (verdicts and answers are checked by whoever uses them). @throws ShadwError `PIN_PROTOCOL` */
export function parseProofMessage (m: Record<string, unknown>): ProofMessage {
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

const PROTOCOL: RequestProtocol<ProofMessage> = {
  protocol: PROOF_PROTOCOL,
  label: 'proof',
  maxMessageBytes: MAX_PROOF_MESSAGE_BYTES,
  decode: parseProofMessage,
  answers: new Set(['block-proof', 'verdicts'])
}

/** Decodes one message as sent without a payload (JSON bytes). @throws ShadwError `PIN_PROTOCOL` */
export function decodeProofMessage (bytes: Uint8Array): ProofMessage {
  return decodeChannelMessage(PROTOCOL, bytes)
}

/** One peer's end: sends, and requests with answers. */
export class ProofPeer extends RequestPeer<ProofMessage, ProofRequest, ProofAnswer> {}

/** The protocol on every connection; `start()`/`stop()` are safe to call twice. */
export class ProofChannels {
  readonly #channels: RequestChannels<ProofMessage, ProofPeer>

  constructor (host: ConnectionHost, opts: { onrequest?: (peer: ProofPeer, m: ProofMessage) => void } = {}) {
    this.#channels = new RequestChannels(host, PROTOCOL, {
      peer: (key, wire, proto) => new ProofPeer(key, wire, proto),
      ...(opts.onrequest === undefined ? {} : { onmessage: opts.onrequest })
    })
  }

  start (): void {
    this.#channels.start()
  }

  stop (): void {
    this.#channels.stop()
  }

  /** Open peers, one per connection. */
  peers (): ProofPeer[] {
    return this.#channels.peers()
  }

  /** The open peer with this key, if connected. */
  peer (publicKey: string): ProofPeer | undefined {
    return this.#channels.peer(publicKey)
  }
}

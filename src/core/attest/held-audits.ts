/**
 * The inputs tenants revealed in audits, held until the call's receipts are read from their
 * executors' ledgers (or for {@link AUDIT_TTL_MS} at most). An audit proves nothing about a
 * call — any key can sign a receipt — so it is never evidence: it only brings the input, and
 * the input hashes to the call's `inputHash`, so it is the input of every receipt of that
 * call. Inputs are therefore held by call (function, nonce, input hash), and one audit lets a
 * light node re-run every executor's receipt of the call; a re-run's result is kept with the
 * input, so the k receipts of one call cost one execution.
 */
import type { SignedReceipt } from '../ledger/index.ts'
import { MAX_INPUT_BYTES } from '../invoke/index.ts'
import type { Rerun } from './light-signer.ts'

/**
 * How long an input waits for its call's receipts: the audit is sent after the answer, and
 * the receipts reach the light node's replicas of the executors' ledgers within a round trip
 * or two; one that has not come by then is not coming soon.
 */
export const AUDIT_TTL_MS = 30_000
/** Audited inputs held at once: a flood of audits is dropped, not buffered. */
export const MAX_HELD_AUDITS = 64
/**
 * Bytes of audited input held at once: eight inputs of the largest size a call carries
 * (`MAX_INPUT_BYTES`, 4 MiB). Most inputs are small, so the count bound binds first.
 */
export const MAX_HELD_AUDIT_BYTES = 8 * MAX_INPUT_BYTES
/** Inputs one peer can have held at once: a single peer cannot fill the light node's room for everyone. */
export const MAX_HELD_AUDITS_PER_PEER = 16

/** The fields of a receipt that name its call: every executor's receipt of one call has the same. */
export function callKey (r: Pick<SignedReceipt, 'fn' | 'nonce' | 'inputHash'>): string {
  return `${r.nonce}:${r.inputHash}:${r.fn}`
}

interface Held {
  input: Uint8Array
  peer: string
  timer: ReturnType<typeof setTimeout>
  /** manifest signature + module hash -> the re-run of that version on this input */
  reruns: Map<string, Promise<Rerun | null>>
}

/** What {@link HeldAudits.hold} did with an input. */
export type HoldResult = 'held' | 'duplicate' | 'full'

/** Options of {@link HeldAudits}; the bounds default to the constants above. */
export interface HeldAuditsOptions {
  ttlMs?: number
  maxCount?: number
  maxBytes?: number
  maxPerPeer?: number
}

/** Bounded, expiring store of audited inputs, by call. `clear()` drops everything and its timers. */
export class HeldAudits {
  readonly #byCall = new Map<string, Held>()
  readonly #perPeer = new Map<string, number>()
  readonly #ttlMs: number
  readonly #maxCount: number
  readonly #maxBytes: number
  readonly #maxPerPeer: number
  #bytes = 0

  constructor (opts: HeldAuditsOptions = {}) {
    this.#ttlMs = opts.ttlMs ?? AUDIT_TTL_MS
    this.#maxCount = opts.maxCount ?? MAX_HELD_AUDITS
    this.#maxBytes = opts.maxBytes ?? MAX_HELD_AUDIT_BYTES
    this.#maxPerPeer = opts.maxPerPeer ?? MAX_HELD_AUDITS_PER_PEER
  }

  /** Inputs held now. */
  get size (): number { return this.#byCall.size }
  /** Bytes held now. */
  get bytes (): number { return this.#bytes }

  /** Holds `input` for `key`'s call until it expires; refused when a bound is reached. */
  hold (key: string, input: Uint8Array, peer: string): HoldResult {
    if (this.#byCall.has(key)) return 'duplicate'
    const mine = this.#perPeer.get(peer) ?? 0
    if (this.#byCall.size >= this.#maxCount || this.#bytes + input.byteLength > this.#maxBytes || mine >= this.#maxPerPeer) return 'full'
    const timer = setTimeout(() => { this.delete(key) }, this.#ttlMs)
    this.#byCall.set(key, { input, peer, timer, reruns: new Map() })
    this.#perPeer.set(peer, mine + 1)
    this.#bytes += input.byteLength
    return 'held'
  }

  has (key: string): boolean {
    return this.#byCall.has(key)
  }

  /**
   * Re-runs `receipt`'s call on the held input (once per function version the receipts name;
   * later receipts of the call share the result); null when no input is held for it. A re-run
   * that could not tell (null) is not kept, so the next receipt tries again.
   */
  async rerun (receipt: SignedReceipt, run: (input: Uint8Array) => Promise<Rerun | null>): Promise<Rerun | null> {
    const held = this.#byCall.get(callKey(receipt))
    if (held === undefined) return null
    const version = `${receipt.manifestSignature}:${receipt.moduleHash}`
    let pending = held.reruns.get(version)
    if (pending === undefined) {
      pending = run(held.input).catch(() => null)
      held.reruns.set(version, pending)
    }
    const result = await pending
    if (result === null && held.reruns.get(version) === pending) held.reruns.delete(version)
    return result
  }

  delete (key: string): void {
    const held = this.#byCall.get(key)
    if (held === undefined) return
    clearTimeout(held.timer)
    this.#byCall.delete(key)
    this.#bytes -= held.input.byteLength
    const left = (this.#perPeer.get(held.peer) ?? 1) - 1
    if (left > 0) this.#perPeer.set(held.peer, left)
    else this.#perPeer.delete(held.peer)
  }

  clear (): void {
    for (const key of [...this.#byCall.keys()]) this.delete(key)
  }
}

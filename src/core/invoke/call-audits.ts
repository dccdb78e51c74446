/**
 * Audited calls: which of this node's calls a tenant chose to reveal to light nodes (all, or a
 * share of them), and handing each one's receipt and input to the light nodes once it is
 * answered, so they re-execute it and co-sign (or refute) its receipts.
 */
import { ShadwError } from '../errors.ts'
import { log } from '../log.ts'
import type { SignedReceipt } from '../ledger/index.ts'
import type { InvokeOptions, InvokeResult } from './invoke-call.ts'

const debug = log('invoke')

/** Where audited calls go: light nodes that re-execute them (src/attest: AuditChannels implements it). */
export interface AuditSink {
  /** hands (receipt, input) to some light nodes; returns their keys (none connected: empty) */
  submit (audit: { receipt: SignedReceipt, input: Uint8Array }): string[]
}

/** Decides and sends the audits of one endpoint's calls. */
export class CallAudits {
  #sink: AuditSink | undefined
  readonly #random: () => number

  constructor (sink: AuditSink | undefined, random: () => number) {
    this.#sink = sink
    this.#random = random
  }

  /** Replaces where audited calls go. */
  set (sink: AuditSink): void {
    this.#sink = sink
  }

  /**
   * Whether a call with option `audit` is audited (decided before it runs); never when there
   * is nowhere to send it.
   *
   * @throws ShadwError `INVALID_ARGUMENT` for anything but a boolean or a share in [0, 1]
   */
  chosen (audit: InvokeOptions['audit']): boolean {
    if (audit === undefined || audit === false || this.#sink === undefined) return false
    if (audit === true) return true
    if (typeof audit !== 'number' || !(audit >= 0 && audit <= 1)) throw ShadwError.INVALID_ARGUMENT('audit must be true, false or a share of calls in [0, 1]')
    return this.#random() < audit
  }

  /**
   * After the answer: an audit that reaches no light node costs the call nothing. One audit
   * per call, not per receipt: light nodes hold the input for the call (every receipt of it
   * has the same function, nonce and input hash) and re-run each receipt they read from its
   * executor's ledger, so sending the input once per receipt would only multiply its bytes.
   */
  submit (result: InvokeResult, input: Uint8Array): void {
    const receipt = result.receipts[0] ?? result.dissenters[0]
    if (receipt === undefined) return
    try {
      this.#sink?.submit({ receipt, input })
    } catch (err) {
      debug('audit not sent:', (err as Error).message)
    }
  }
}

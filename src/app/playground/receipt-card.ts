import { sha256 } from '../../core/sha256.ts'
import { verifyReceipt, type SignedReceipt } from '../../core/ledger/index.ts'
import { box, el, short } from '../dom.ts'

/** What the page checked about one receipt. */
export interface ReceiptCheck {
  signature: boolean
  /** null when the page does not have the bytes to compare */
  input: boolean | null
  output: boolean | null
  error?: string
}

/**
 * Checks a receipt in the page, with the same code `shadw verify-receipt` runs: the executor's
 * ed25519 signature over the encoded body, and the input and output hashes when known.
 */
export function checkReceipt (r: SignedReceipt, input?: Uint8Array, output?: Uint8Array): ReceiptCheck {
  let signature = false
  let error: string | undefined
  try {
    verifyReceipt(r)
    signature = true
  } catch (err) {
    error = (err as Error).message
  }
  return {
    signature,
    input: input === undefined ? null : sha256(input) === r.inputHash,
    output: output === undefined ? null : sha256(output) === r.outputHash,
    ...(error === undefined ? {} : { error })
  }
}

/** A receipt as a definition list, with its checks spelled out (never colour alone). */
export function receiptCard (r: SignedReceipt, check: ReceiptCheck, title = 'Receipt'): HTMLElement {
  const mark = (ok: boolean | null, what: string): HTMLElement => ok === null
    ? el('li', `${what}: not checked here`, { class: 'muted' })
    : el('li', `${ok ? '✓' : '✗'} ${what} ${ok ? 'matches' : 'does NOT match'}`, { class: ok ? 'ok' : 'error' })
  const row = (k: string, v: string, full?: string): HTMLElement[] => [el('dt', k), el('dd', v, full === undefined ? {} : { title: full })]
  const allOk = check.signature && check.input !== false && check.output !== false
  return box('article', { class: `receipt ${allOk ? 'verified' : 'refused'}`, 'data-verified': String(allOk) },
    el('h4', `${title} · ${allOk ? 'verified' : 'NOT verified'}`),
    box('ul', { class: 'checks' },
      el('li', `${check.signature ? '✓ executor signature valid' : `✗ signature invalid: ${check.error ?? ''}`}`, { class: check.signature ? 'ok' : 'error' }),
      mark(check.input, 'input hash'), mark(check.output, 'output hash')),
    box('dl', {},
      ...row('function', r.fn),
      ...row('executor', short(r.executor), r.executor),
      ...row('tenant', short(r.tenant), r.tenant),
      ...row('fuel', String(r.fuel)),
      ...row('bytes moved', String(r.bytes)),
      // µcredits per million fuel and per MiB, as docs/pricing.md states them
      ...row('price', `${r.price.fuelPrice} µcr/Mfuel · ${r.price.bytePrice} µcr/MiB at ${(r.price.utilisationPpm / 10_000).toFixed(1)}% load`),
      ...row('total', `${r.total} µcredits`),
      ...row('signed at', new Date(r.time).toLocaleString()),
      ...row('deadline', `${new Date(r.deadline).toLocaleString()}${r.time > r.deadline ? ' (late)' : ''}`),
      ...row('signature', short(r.signature), r.signature))
  )
}

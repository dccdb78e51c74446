/**
 * The tenant SDK: invoke a function from any web page (or Node) through a `/fn/*` gateway,
 * and check every receipt before trusting the answer. A page of the shadw app's own origin
 * uses the origin's gateway (its service worker routes the call to the origin's node); any
 * other page uses a super node's gateway (`url`: the super node's app URL, CORS allowed). See
 * docs/protocol.md, "Tenant SDK and `/fn/*` gateway".
 *
 * @example
 * ```ts
 * import { connect } from 'shadw/client'
 * const shadw = connect({ url: 'https://node.example/' })
 * const { output, receipts } = await shadw.invoke(`${publisher}/upper@^1`, new TextEncoder().encode('hi'), { redundancy: 3 })
 * ```
 */
import b4a from 'b4a'
import { ShadwError, deserializeError } from '../errors.ts'
import { FN_PREFIX } from './fn-gateway.ts'
import { invokeOptionHeaders, type WireInvokeOptions } from './invoke-options.ts'
import { MAX_INPUT_BYTES, MAX_OUTPUT_BYTES } from '../invoke/index.ts'
import { majority } from '../invoke/index.ts'
import { parseReceiptJson, verifyReceipt, type SignedReceipt } from '../ledger/index.ts'
import { sha256 } from '../sha256.ts'
import { SpendingCap, type SpendingLimits } from '../pricing/index.ts'

/** Failures that ran nothing anywhere: a session reservation for them is released, not booked. */
const NOTHING_RAN = new Set(['SPENDING_CAP_EXCEEDED', 'BUSY', 'NO_EXECUTORS', 'INVALID_ARGUMENT', 'INVALID_FUNCTION_REF', 'INPUT_TOO_LARGE', 'ABORTED'])

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** the gateway's base URL (default: the page's own origin) */
  url?: string
  /** default: the global `fetch` */
  fetch?: typeof fetch
  /**
   * the tenant's caps in µcredits (docs/pricing.md): `perCall` is sent as each call's
   * `maxCharge` (per executor), `perSession` bounds the sum of every call's worst case
   */
  spending?: SpendingLimits
}

/**
 * Options of one call: the invocation's options that travel as `shadw-*` headers (see
 * `InvokeOptions`; the gateway's node draws each call's nonce) and an abort signal.
 * `deadline` is enforced by the gateway's node; `auth` is the tenant's Lit AuthSig (e.g. from
 * `signAuth`) for gated functions; `maxCharge` defaults to the session's `perCall`; `audit`
 * is off by default.
 */
export interface ClientInvokeOptions extends Omit<WireInvokeOptions, 'nonce'> {
  signal?: AbortSignal
}

/** A verified answer. */
export interface ClientResult {
  output: Uint8Array
  /** receipts that agreed, each checked: executor signature, input hash, output hash */
  receipts: SignedReceipt[]
  /** receipts of executors that returned another result */
  dissenters: SignedReceipt[]
  /** executors asked, retries included (as the gateway reports it; at least the receipts') */
  attempts: number
}

/** A connection to a gateway. */
export interface ShadwClient {
  /**
   * @throws ShadwError with the code the gateway answered (`BUSY`, `QUORUM_FAILED`,
   *   `AUTH_MALFORMED`, …), or `RECEIPT_INVALID` when the answer's receipts do not check.
   */
  invoke (ref: string, input: Uint8Array, opts?: ClientInvokeOptions): Promise<ClientResult>
  /** µcredits the session has committed (receipts' totals, the cap of executors whose receipt did not come back) and may still commit; null without caps */
  spending (): { spent: number, remaining: number } | null
}

/** Connects to a gateway (nothing is sent until the first call). */
export function connect (opts: ConnectOptions = {}): ShadwClient {
  const doFetch = opts.fetch ?? globalThis.fetch.bind(globalThis)
  const base = opts.url ?? (globalThis as { location?: { origin: string } }).location?.origin
  if (base === undefined) throw ShadwError.INVALID_ARGUMENT('url is required outside a web page')
  const cap = opts.spending === undefined ? null : new SpendingCap(opts.spending)
  return {
    spending: () => cap === null ? null : { spent: cap.spent, remaining: cap.remaining },
    async invoke (ref, input, o = {}) {
      if (cap === null) return await call(ref, input, o)
      // without a per-call cap a call may use what is left of the session, shared by its executors
      const k = o.redundancy ?? 1
      const maxCharge = o.maxCharge ?? (opts.spending?.perCall ?? Math.floor(cap.remaining / k))
      // the session holds the call's worst case (every executor charging its cap) before anything is sent
      const reserved = cap.reserve(maxCharge * k)
      try {
        const result = await call(ref, input, { ...o, maxCharge })
        // each agreeing receipt (verified, one per executor) books its signed total; the call's
        // other executors may have run and billed without a receipt reaching us: they book their cap
        // (an attempt retried elsewhere may have run too: every attempt without a receipt books its cap)
        const exact = result.receipts.reduce((sum, r) => sum + r.total, 0)
        const unreceipted = Math.max(k, result.attempts) - result.receipts.length
        cap.settle(reserved, Math.min(reserved, exact + Math.max(0, unreceipted) * maxCharge))
        return result
      } catch (err) {
        cap.settle(reserved, err instanceof ShadwError && NOTHING_RAN.has(err.code) ? 0 : reserved)
        throw err
      }
    }
  }

  async function call (ref: string, input: Uint8Array, o: ClientInvokeOptions): Promise<ClientResult> {
    if (!(input instanceof Uint8Array)) throw ShadwError.INVALID_ARGUMENT('input must be bytes')
    if (input.byteLength > MAX_INPUT_BYTES) throw ShadwError.INPUT_TOO_LARGE(input.byteLength, MAX_INPUT_BYTES)
    const headers: Record<string, string> = { 'content-type': 'application/octet-stream', accept: 'application/json', ...invokeOptionHeaders(o) }
    const url = new URL(FN_PREFIX + ref.split('/').map(encodeURIComponent).join('/'), base)
    let res: Response
    try {
      res = await doFetch(url, { method: 'POST', headers, body: new Uint8Array(input), ...(o.signal === undefined ? {} : { signal: o.signal }) })
    } catch (err) {
      if (o.signal?.aborted === true) throw ShadwError.ABORTED('invocation aborted')
      throw ShadwError.NO_EXECUTORS(`gateway ${url.origin} unreachable: ${(err as Error).message}`)
    }
    const text = await res.text()
    if (text.length > MAX_OUTPUT_BYTES * 2) throw ShadwError.OUTPUT_TOO_LARGE(text.length, MAX_OUTPUT_BYTES * 2)
    let body: Record<string, unknown>
    try {
      body = JSON.parse(text) as Record<string, unknown>
    } catch {
      throw ShadwError.INTERNAL(`gateway answered ${res.status} without JSON`)
    }
    if (!res.ok) throw deserializeError(body)
    return check(body, input, o.redundancy === undefined ? 1 : majority(o.redundancy), o.quorum, o.maxCharge)
  }
}

function check (body: Record<string, unknown>, input: Uint8Array, defaultQuorum: number, quorum: number | undefined, maxCharge: number | undefined): ClientResult {
  if (typeof body['output'] !== 'string' || !Array.isArray(body['receipts'])) throw ShadwError.RECEIPT_INVALID('gateway answer has no output or receipts')
  const output = new Uint8Array(b4a.from(body['output'], 'base64'))
  const inputHash = sha256(input)
  const outputHash = sha256(output)
  const receipts = body['receipts'].map(r => verifyReceipt(parseReceiptJson(r)))
  for (const r of receipts) {
    if (r.inputHash !== inputHash) throw ShadwError.RECEIPT_INVALID('a receipt names another input', { executor: r.executor })
    if (r.outputHash !== outputHash) throw ShadwError.RECEIPT_INVALID('a receipt names another output', { executor: r.executor })
    // what the receipt bills is the tenant's to check (the gateway chose each attempt's deadline)
    if (r.bytes !== input.byteLength + output.byteLength) throw ShadwError.RECEIPT_INVALID(`a receipt counts ${r.bytes} bytes moved, not ${input.byteLength + output.byteLength}`, { executor: r.executor })
    if (maxCharge !== undefined && r.total > maxCharge) throw ShadwError.RECEIPT_INVALID(`a receipt charges ${r.total} µcredits, over the cap of ${maxCharge}`, { executor: r.executor })
  }
  // the gateway cannot pass one executor's word off as a quorum: distinct signers are counted
  const signers = new Set(receipts.map(r => r.executor)).size
  if (signers < (quorum ?? defaultQuorum)) throw ShadwError.RECEIPT_INVALID(`${signers} distinct executor(s) signed; the quorum is ${quorum ?? defaultQuorum}`)
  const dissenters = Array.isArray(body['dissenters']) ? body['dissenters'].map(r => parseReceiptJson(r)) : []
  const attempts = typeof body['attempts'] === 'number' && Number.isSafeInteger(body['attempts']) ? Math.max(body['attempts'], receipts.length) : receipts.length
  return { output, receipts, dissenters, attempts }
}

export { readDriveFile, listDrive, type DriveReadOptions, type DriveListing } from './drive-client.ts'

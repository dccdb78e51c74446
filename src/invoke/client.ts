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
import { ShadwError, deserializeError } from '../core/errors.ts'
import { FN_PREFIX } from './fn-gateway.ts'
import { MAX_INPUT_BYTES, MAX_OUTPUT_BYTES } from './protocol.ts'
import { majority } from './quorum.ts'
import { parseReceiptJson, verifyReceipt, type SignedReceipt } from './receipt.ts'
import { sha256 } from './sha256.ts'

/** Options of {@link connect}. */
export interface ConnectOptions {
  /** the gateway's base URL (default: the page's own origin) */
  url?: string
  /** default: the global `fetch` */
  fetch?: typeof fetch
}

/** Options of one call. */
export interface ClientInvokeOptions {
  /** ms the call may take (the gateway's node enforces it) */
  deadline?: number
  redundancy?: number
  quorum?: number
  /** the tenant's Lit AuthSig (e.g. from `signAuth`) for gated functions */
  auth?: unknown
  signal?: AbortSignal
}

/** A verified answer. */
export interface ClientResult {
  output: Uint8Array
  /** receipts that agreed, each checked: executor signature, input hash, output hash */
  receipts: SignedReceipt[]
  /** receipts of executors that returned another result */
  dissenters: SignedReceipt[]
}

/** A connection to a gateway. */
export interface ShadwClient {
  /**
   * @throws ShadwError with the code the gateway answered (`BUSY`, `QUORUM_FAILED`,
   *   `AUTH_MALFORMED`, …), or `RECEIPT_INVALID` when the answer's receipts do not check.
   */
  invoke (ref: string, input: Uint8Array, opts?: ClientInvokeOptions): Promise<ClientResult>
}

/** Connects to a gateway (nothing is sent until the first call). */
export function connect (opts: ConnectOptions = {}): ShadwClient {
  const doFetch = opts.fetch ?? globalThis.fetch.bind(globalThis)
  const base = opts.url ?? (globalThis as { location?: { origin: string } }).location?.origin
  if (base === undefined) throw ShadwError.INVALID_ARGUMENT('url is required outside a web page')
  return {
    async invoke (ref, input, o = {}) {
      if (!(input instanceof Uint8Array)) throw ShadwError.INVALID_ARGUMENT('input must be bytes')
      if (input.byteLength > MAX_INPUT_BYTES) throw ShadwError.INPUT_TOO_LARGE(input.byteLength, MAX_INPUT_BYTES)
      const headers: Record<string, string> = { 'content-type': 'application/octet-stream', accept: 'application/json' }
      if (o.redundancy !== undefined) headers['shadw-redundancy'] = String(o.redundancy)
      if (o.quorum !== undefined) headers['shadw-quorum'] = String(o.quorum)
      if (o.deadline !== undefined) headers['shadw-deadline'] = String(o.deadline)
      // header values are Latin-1: JSON with every non-ASCII character escaped
      if (o.auth !== undefined) headers['shadw-auth'] = JSON.stringify(o.auth).replace(/[\u007f-\uffff]/g, ch => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'))
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
      return check(body, input, o.redundancy === undefined ? 1 : majority(o.redundancy), o.quorum)
    }
  }
}

function check (body: Record<string, unknown>, input: Uint8Array, defaultQuorum: number, quorum: number | undefined): ClientResult {
  if (typeof body['output'] !== 'string' || !Array.isArray(body['receipts'])) throw ShadwError.RECEIPT_INVALID('gateway answer has no output or receipts')
  const output = new Uint8Array(b4a.from(body['output'], 'base64'))
  const inputHash = sha256(input)
  const outputHash = sha256(output)
  const receipts = body['receipts'].map(r => verifyReceipt(parseReceiptJson(r)))
  for (const r of receipts) {
    if (r.inputHash !== inputHash) throw ShadwError.RECEIPT_INVALID('a receipt names another input', { executor: r.executor })
    if (r.outputHash !== outputHash) throw ShadwError.RECEIPT_INVALID('a receipt names another output', { executor: r.executor })
  }
  // the gateway cannot pass one executor's word off as a quorum: distinct signers are counted
  const signers = new Set(receipts.map(r => r.executor)).size
  if (signers < (quorum ?? defaultQuorum)) throw ShadwError.RECEIPT_INVALID(`${signers} distinct executor(s) signed; the quorum is ${quorum ?? defaultQuorum}`)
  const dissenters = Array.isArray(body['dissenters']) ? body['dissenters'].map(r => parseReceiptJson(r)) : []
  return { output, receipts, dissenters }
}

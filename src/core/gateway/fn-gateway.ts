/**
 * The `/fn/*` HTTP gateway, as Fetch API Request → Response, so the same code answers in
 * the app's service worker (same-origin pages, routed to the origin's node worker) and on a
 * super node's HTTP server (any origin, CORS): `POST /fn/<publisher>/<name>[@<range>]` with
 * the input as the body.
 *
 * Request headers: the invocation's options (`shadw-redundancy`, `shadw-quorum`, `shadw-deadline`,
 * `shadw-auth`, `shadw-max-charge`, `shadw-audit`; read by `parseInvokeHeaders`). Success: 200 with the output as the body and the
 * receipts as JSON in the `shadw-receipts` header (and `shadw-dissenters` when any), or, when
 * the request accepts `application/json`, a JSON envelope. Failure: a status for the code and
 * `{ code, message, details? }` as JSON, the code also in `shadw-error-code`.
 */
import b4a from 'b4a'
import { ShadwError, serializeError, type ErrorCode } from '../errors.ts'
import { parseFunctionRef, formatFunctionRef } from '../registry/index.ts'
import type { InvokeResult } from '../invoke/index.ts'
import { MAX_INPUT_BYTES } from '../invoke/index.ts'
import { INVOKE_OPTION_HEADERS, parseInvokeHeaders, type WireInvokeOptions } from './invoke-options.ts'

/** Path prefix of the gateway. */
export const FN_PREFIX = '/fn/'
/** Headers a cross-origin page may send (CORS preflight answer). */
export const FN_REQUEST_HEADERS = ['content-type', 'accept', ...INVOKE_OPTION_HEADERS]
/** Headers a cross-origin page may read. */
export const FN_RESPONSE_HEADERS = ['shadw-receipts', 'shadw-dissenters', 'shadw-error-code']

/** What the gateway calls to invoke (an endpoint directly, or the node worker over the bridge). */
export type GatewayInvoke = (ref: string, input: Uint8Array, opts: WireInvokeOptions) => Promise<InvokeResult>

const STATUS: Partial<Record<ErrorCode, number>> = {
  INVALID_ARGUMENT: 400,
  INVALID_FUNCTION_REF: 400,
  AUTH_MALFORMED: 401,
  AUTH_FORGED: 401,
  AUTH_EXPIRED: 401,
  AUTH_WRONG_DOMAIN: 401,
  AUTH_WRONG_FUNCTION: 401,
  AUTH_REPLAYED: 401,
  AUTH_WRONG_CALL: 401,
  // Payment Required: the call costs more than the tenant allowed (docs/pricing.md)
  SPENDING_CAP_EXCEEDED: 402,
  ACCESS_DENIED: 403,
  FUNCTION_NOT_FOUND: 404,
  VERSION_NOT_FOUND: 404,
  FUNCTION_YANKED: 410,
  INPUT_TOO_LARGE: 413,
  // the function's manifest asks more than this node allows: the request is well formed, the
  // function cannot run here (413 is about the request's own size)
  LIMITS_EXCEEDED: 422,
  METHOD_NOT_ALLOWED: 405,
  REQUEST_REPLAYED: 409,
  TRAP: 422,
  FUEL_EXHAUSTED: 422,
  MEMORY_LIMIT: 422,
  OUTPUT_TOO_LARGE: 422,
  ABI_MISMATCH: 422,
  QUORUM_FAILED: 502,
  CHAIN_RPC_FAILED: 502,
  CHAIN_RPC_DISAGREE: 502,
  CHAIN_RATE_LIMITED: 429,
  CHAIN_UNCONFIGURED: 503,
  BUSY: 503,
  MEMORY_BUDGET_EXCEEDED: 503,
  NO_EXECUTORS: 503,
  DEADLINE_EXCEEDED: 504,
  TIMEOUT: 504
}

/** CORS headers of every gateway answer: tenants call from their own origins. */
export function corsHeaders (): Record<string, string> {
  return {
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'POST, OPTIONS',
    'access-control-allow-headers': FN_REQUEST_HEADERS.join(', '),
    'access-control-expose-headers': FN_RESPONSE_HEADERS.join(', ')
  }
}

/** The function ref a `/fn/...` path names; throws `INVALID_FUNCTION_REF`. */
export function refFromPath (pathname: string): string {
  if (!pathname.startsWith(FN_PREFIX)) throw ShadwError.INVALID_FUNCTION_REF(pathname, 'expected /fn/<publisher>/<name>[@<range>]')
  let rest: string
  try {
    rest = decodeURIComponent(pathname.slice(FN_PREFIX.length))
  } catch {
    throw ShadwError.INVALID_FUNCTION_REF(pathname, 'path is not valid percent-encoding')
  }
  return formatFunctionRef(parseFunctionRef(rest))
}

/**
 * Answers one gateway request. Never throws: every failure is a typed JSON answer. `client`
 * names who asked (the host's HTTP client address): its function lookups are bounded apart.
 *
 * @example
 * ```ts
 * self.addEventListener('fetch', ev => { if (isFn(ev.request)) ev.respondWith(handleFnRequest(ev.request, invoke)) })
 * ```
 */
export async function handleFnRequest (request: Request, invoke: GatewayInvoke, client?: string): Promise<Response> {
  if (request.method === 'OPTIONS') return new Response(null, { status: 204, headers: corsHeaders() })
  try {
    if (request.method !== 'POST') throw ShadwError.METHOD_NOT_ALLOWED(request.method, new URL(request.url).pathname, ['POST', 'OPTIONS'])
    const ref = refFromPath(new URL(request.url).pathname)
    const opts = parseInvokeHeaders(request.headers)
    const declared = Number(request.headers.get('content-length') ?? '0')
    if (declared > MAX_INPUT_BYTES) throw ShadwError.INPUT_TOO_LARGE(declared, MAX_INPUT_BYTES)
    const input = new Uint8Array(await request.arrayBuffer())
    if (input.byteLength > MAX_INPUT_BYTES) throw ShadwError.INPUT_TOO_LARGE(input.byteLength, MAX_INPUT_BYTES)
    // the client is the host's word (the socket's address), never a header's
    const result = await invoke(ref, input, client === undefined ? opts : { ...opts, client })
    if ((request.headers.get('accept') ?? '').includes('application/json')) {
      return json(200, { output: b4a.toString(result.output, 'base64'), receipts: result.receipts, ledgers: result.ledgers, dissenters: result.dissenters, failures: result.failures, attempts: result.attempts })
    }
    const headers: Record<string, string> = { ...corsHeaders(), 'content-type': 'application/octet-stream', 'cache-control': 'no-store', 'shadw-receipts': JSON.stringify(result.receipts) }
    if (result.dissenters.length > 0) headers['shadw-dissenters'] = JSON.stringify(result.dissenters)
    return new Response(new Uint8Array(result.output), { status: 200, headers })
  } catch (err) {
    const e = serializeError(err)
    return json(STATUS[e.code] ?? 500, e, { 'shadw-error-code': e.code, ...(e.code === 'METHOD_NOT_ALLOWED' ? { allow: 'POST, OPTIONS' } : {}) })
  }
}

function json (status: number, body: unknown, extra: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...corsHeaders(), 'content-type': 'application/json', 'cache-control': 'no-store', ...extra } })
}

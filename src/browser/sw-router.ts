import { ShadwError, deserializeError, serializeError, type SerializedError } from '../core/errors.ts'
import type { InvokeResult } from '../core/invoke/index.ts'
import type { WireInvokeOptions } from '../core/gateway/index.ts'
import { BRIDGE_CHANNEL, parseBridgeMessage, type BridgeMethod, type BridgeRequest, type InvokeParams } from './bridge-protocol.ts'

/** Message type a page sends the service worker to reach the node. */
export const SW_NODE_CALL = 'shadw-node-call'
/** The service worker's answer. */
export const SW_NODE_REPLY = 'shadw-node-reply'
/** A service worker may be stopped at any moment; it never waits on the node longer than this. */
export const SW_CALL_TIMEOUT_MS = 10_000

export interface SwNodeReply {
  type: typeof SW_NODE_REPLY
  id: string
  ok: boolean
  result?: unknown
  error?: SerializedError
}

/**
 * Forwards one call from a page (or, later, a `/fn/*` fetch) to the origin's node worker over
 * the bridge channel and waits for its answer. The service worker keeps no node state: the
 * node lives in the leader tab, whichever that is now.
 */
export async function routeNodeCall (data: unknown, channelName = BRIDGE_CHANNEL, timeoutMs = SW_CALL_TIMEOUT_MS): Promise<SwNodeReply> {
  const m = data as { id?: unknown, method?: unknown, params?: unknown }
  const id = typeof m.id === 'string' && m.id.length <= 128 ? m.id : ''
  try {
    const request = parseBridgeMessage({ type: 'request', id: `sw:${id}:${Math.random().toString(36).slice(2)}`, method: m.method, params: m.params ?? {} }) as BridgeRequest<BridgeMethod>
    const result = await callNode(request, channelName, timeoutMs)
    return { type: SW_NODE_REPLY, id, ok: true, result }
  } catch (err) {
    return { type: SW_NODE_REPLY, id, ok: false, error: serializeError(err) }
  }
}

/** Margin a `/fn/*` call gets beyond its own deadline for the bridge hops. */
const FN_BRIDGE_MARGIN_MS = 2_000

/**
 * Invokes through the origin's node worker: what the service worker's `/fn/*` gateway calls.
 * The wait is the call's deadline (default 10 s) plus the bridge's margin.
 */
export async function invokeThroughNode (ref: string, input: Uint8Array, opts: WireInvokeOptions, channelName = BRIDGE_CHANNEL): Promise<InvokeResult> {
  // the options as the gateway read them, whole: the node worker checks them (checkInvokeOptions)
  const params: InvokeParams = { ...opts, ref, input }
  const reply = await routeNodeCall({ id: 'fn', method: 'invoke', params }, channelName, (opts.deadline ?? SW_CALL_TIMEOUT_MS) + FN_BRIDGE_MARGIN_MS)
  if (!reply.ok) throw deserializeError(reply.error)
  return reply.result as InvokeResult
}

function callNode (request: BridgeRequest, channelName: string, timeoutMs: number): Promise<unknown> {
  const channel = new BroadcastChannel(channelName)
  return new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => { finish(); reject(ShadwError.TIMEOUT('node call through the service worker', timeoutMs)) }, timeoutMs)
    const finish = (): void => { clearTimeout(timer); channel.close() }
    channel.onmessage = (ev: MessageEvent) => {
      let msg
      try { msg = parseBridgeMessage(ev.data) } catch { return }
      if (msg.type !== 'response' || msg.id !== request.id) return
      finish()
      if (msg.ok) resolve(msg.result)
      else reject(deserializeError(msg.error))
    }
    channel.postMessage(request)
  })
}

/**
 * Serves a same-origin `/drive/*` request through the origin's node worker: the first window
 * answers with status and headers, the rest of the body is asked for window by window at the
 * version the first was read at (`driveFetch` returns where to go on), so the stream stays
 * one consistent version and no message holds much of the file.
 */
export async function driveThroughNode (request: Request, channelName = BRIDGE_CHANNEL, timeoutMs = SW_CALL_TIMEOUT_MS): Promise<Response> {
  const url = new URL(request.url)
  const params: Record<string, unknown> = { url: url.pathname + url.search, method: request.method === 'HEAD' ? 'HEAD' : 'GET' }
  const range = request.headers.get('range')
  if (range !== null) params['range'] = range
  const inm = request.headers.get('if-none-match')
  if (inm !== null) params['ifNoneMatch'] = inm
  const first = await driveWindow(params, channelName, timeoutMs)
  const headers = new Headers(first.headers)
  headers.set('x-shadw-served-by', 'browser-node')
  if (first.next === null) return new Response(first.status === 304 || first.body === null ? null : first.body as Uint8Array<ArrayBuffer>, { status: first.status, headers })
  let next: DriveWindow['next'] = first.next
  const body = new ReadableStream<Uint8Array>({
    start (ctrl) {
      if (first.body !== null) ctrl.enqueue(first.body)
    },
    async pull (ctrl) {
      if (next === null) {
        ctrl.close()
        return
      }
      try {
        const w = await driveWindow({ url: next.url, method: 'GET', range: `bytes=${next.start}-${next.last}` }, channelName, timeoutMs)
        if (w.status !== 206 || w.body === null) throw deserializeError({ code: 'DRIVE_NOT_FOUND', message: `window answered ${w.status}` })
        ctrl.enqueue(w.body)
        next = w.next
      } catch (err) {
        ctrl.error(err)
      }
    }
  })
  return new Response(body, { status: first.status, headers })
}

interface DriveWindow {
  status: number
  headers: Record<string, string>
  body: Uint8Array | null
  next: { url: string, start: number, last: number } | null
}

async function driveWindow (params: Record<string, unknown>, channelName: string, timeoutMs: number): Promise<DriveWindow> {
  const reply = await routeNodeCall({ id: 'drive', method: 'driveFetch', params }, channelName, timeoutMs)
  if (!reply.ok) throw deserializeError(reply.error)
  return reply.result as DriveWindow
}

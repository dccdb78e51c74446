/**
 * The `/fn/*` gateway on a node's own invocation endpoint, whether the node executes or only
 * calls: calling is the caller's job, so every super node is a gateway, and the browser's node
 * worker answers its origin's bridge calls the same way.
 */
import { DEFAULT_INVOKE_DEADLINE_MS, isExecutor, type InvokeOptions, type InvokeResult, type PeerState } from '../invoke/index.ts'
import { mark } from '../trace.ts'
import { handleFnRequest } from './fn-gateway.ts'
import type { WireInvokeOptions } from './invoke-options.ts'

/** What the gateway needs of a node's invocation endpoint (`InvokeEndpoint` has it). */
export interface GatewayEndpoint {
  invoke (ref: string, input: Uint8Array, opts: InvokeOptions): Promise<InvokeResult>
  peers (): PeerState[]
  waitForExecutors (n: number, opts: { timeoutMs: number }): Promise<number>
}

/**
 * Invokes through a caller's endpoint. A node that just started may not have heard any
 * executor's capacity yet: then it waits for one, within the call's deadline, and the call
 * gets the time that is left (the tenant's deadline covers the whole call).
 *
 * @throws ShadwError the codes of `InvokeEndpoint.invoke` (`NO_EXECUTORS` when none came in time)
 */
export async function invokeWhenReady (endpoint: GatewayEndpoint, ref: string, input: Uint8Array, opts: WireInvokeOptions): Promise<InvokeResult> {
  const budget = opts.deadline ?? DEFAULT_INVOKE_DEADLINE_MS
  // a deadline the call will refuse is refused without a wait
  // k slots need k executors: waiting for the first alone leaves the others nobody to ask
  const k = opts.redundancy ?? 1
  if (endpoint.peers().filter(isExecutor).length >= k || !Number.isSafeInteger(budget) || budget < 1) return await endpoint.invoke(ref, input, opts)
  const start = Date.now()
  mark('call.wait-executors')
  await endpoint.waitForExecutors(1, { timeoutMs: budget }).catch(() => {})
  mark('call.executors-found')
  // half of what is left at most: fewer than k executors may still reach a quorum
  const rest = Math.floor((budget - (Date.now() - start)) / 2)
  if (k > 1 && rest > 0) await endpoint.waitForExecutors(k, { timeoutMs: rest }).catch(() => {})
  // at least a millisecond: with nobody to ask the call then fails at once, with NO_EXECUTORS
  const left = Math.max(1, budget - (Date.now() - start))
  return await endpoint.invoke(ref, input, { ...opts, deadline: left })
}

/**
 * The gateway on `endpoint` as a Fetch API handler: what a super node mounts on `/fn/*`.
 * `executes`: the node runs calls itself (its endpoint has a service), so a call never waits
 * for another executor to be heard; a caller-only node waits as {@link invokeWhenReady} says.
 *
 * @example
 * ```ts
 * app.mount(FN_PREFIX, endpointGateway(endpoint, { executes: false }), MAX_INPUT_BYTES)
 * ```
 */
export function endpointGateway (endpoint: GatewayEndpoint, opts: { executes: boolean }): (request: Request, client?: string) => Promise<Response> {
  const invoke = opts.executes
    ? async (ref: string, input: Uint8Array, o: WireInvokeOptions) => await endpoint.invoke(ref, input, o)
    : async (ref: string, input: Uint8Array, o: WireInvokeOptions) => await invokeWhenReady(endpoint, ref, input, o)
  return async (request, client) => await handleFnRequest(request, invoke, client)
}

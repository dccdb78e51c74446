/**
 * Where the node worker's stage marks (core/trace.ts) go when the page's debug setting names
 * `trace`: a BroadcastChannel of the origin, each mark stamped in epoch milliseconds, so a
 * bench or a test lines up the tenant's, the contributor's and its executor workers' stages
 * of one call (the executor workers say theirs on the prepare channel, with the same clock).
 */
import { setTraceSink } from '../core/trace.ts'

/** The channel marks are posted on: `{ ctx, stage, at, ...detail }`. */
export const TRACE_CHANNEL = 'shadw-trace'

/** The debug setting's namespace that turns marks on. */
export const TRACE_NAMESPACE = 'trace'

/** Whether a debug spec (`localStorage.shadwDebug`) asks for marks. */
export function wantsTrace (spec: string | undefined): boolean {
  return spec !== undefined && spec.split(',').some(s => s.trim() === TRACE_NAMESPACE || s.trim() === '*')
}

/** Sends this context's marks to {@link TRACE_CHANNEL}, named `ctx`. */
export function traceToChannel (ctx: string): void {
  if (typeof BroadcastChannel === 'undefined') return
  const channel = new BroadcastChannel(TRACE_CHANNEL)
  setTraceSink((stage, detail) => { channel.postMessage({ ctx, stage, at: performance.timeOrigin + performance.now(), ...detail }) })
}

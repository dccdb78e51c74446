/**
 * Stage marks of a call, for timing a cold call across the contexts it crosses (the tenant's
 * node worker, the executor's node worker, its executor workers). Off unless a host sets a
 * sink: a mark is then one null check. The sink stamps the time itself (the browser's posts
 * epoch milliseconds with sub-millisecond resolution on a BroadcastChannel, so marks of
 * several workers and tabs line up on one clock).
 */

/** What a mark may carry besides its stage: small scalars (a ref, a hash, a size). */
export type TraceDetail = Record<string, string | number | boolean>

/** Receives each mark as it is made. */
export type TraceSink = (stage: string, detail?: TraceDetail) => void

let sink: TraceSink | null = null

/** Sets (or with null, clears) where marks go. */
export function setTraceSink (next: TraceSink | null): void {
  sink = next
}

/** Marks that `stage` was reached now; nothing when no sink is set. */
export function mark (stage: string, detail?: TraceDetail): void {
  if (sink === null) return
  try {
    sink(stage, detail)
  } catch {
    // a trace must never fail the call it watches
  }
}

/** Whether marks go anywhere (callers skip building costly details when not). */
export function tracing (): boolean {
  return sink !== null
}

/**
 * Waiting on work that cannot itself be cancelled (an RPC read, a key fetch, a module load)
 * for no longer than the caller's signal allows.
 */
import { ShadwError } from './errors.ts'

/**
 * `p`, or a rejection as soon as `signal` aborts: the signal's reason when it is a typed
 * error (a deadline), `ABORTED` otherwise. `p` goes on, unobserved.
 */
export async function untilAborted<T> (p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return await p
  if (signal.aborted) { p.catch(() => {}); throw abortReason(signal) }
  let onAbort: () => void = () => {}
  const aborted = new Promise<never>((_resolve, reject) => { onAbort = () => { reject(abortReason(signal)) } })
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    return await Promise.race([p, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
    p.catch(() => {})
  }
}

/** The error an aborted signal stands for: its reason when typed, `ABORTED` otherwise. */
export function abortReason (signal: AbortSignal): ShadwError {
  return signal.reason instanceof ShadwError ? signal.reason : ShadwError.ABORTED()
}

/**
 * Runs `fn` with a signal that aborts with `signal` or, with `reason`, after `ms`: work
 * bounded in time whatever its caller's own bound.
 */
export async function withinMs<T> (signal: AbortSignal, ms: number, reason: () => ShadwError, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const ac = new AbortController()
  const onAbort = (): void => { ac.abort(signal.reason) }
  if (signal.aborted) onAbort()
  else signal.addEventListener('abort', onAbort, { once: true })
  const timer = setTimeout(() => { ac.abort(reason()) }, ms)
  try {
    return await fn(ac.signal)
  } finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', onAbort)
  }
}

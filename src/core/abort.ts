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

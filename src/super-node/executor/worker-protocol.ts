/**
 * The envelope around sandbox requests and replies on a worker_threads port. Messages go
 * over the port directly (no RPC library): one structured clone each way per call is what
 * keeps a warm call in the tens of microseconds.
 */
import { deserializeError, ShadwError, type SerializedError } from '../../core/errors.ts'
import type { WorkerRequest } from '../../core/sandbox/index.ts'

/** Worker → pool, once, when the entry module has loaded and listens. */
export const READY_MESSAGE = 'shadw-executor-ready'

/** Pool → worker: one call; calls made in the same tick travel as an array of these. */
export interface CallMessage { id: number, req: WorkerRequest }

/** Worker → pool. */
export type ReplyMessage =
  | { id: number, ok: true, reply: unknown }
  | { id: number, ok: false, error: SerializedError }

/** Validates a worker's envelope; the reply inside is validated by the pool. */
export function parseReplyMessage (v: unknown): { id: number, reply?: unknown, error?: ShadwError } {
  if (typeof v !== 'object' || v === null) throw ShadwError.INTERNAL('worker sent a non-object message')
  const m = v as Record<string, unknown>
  if (typeof m['id'] !== 'number') throw ShadwError.INTERNAL('worker message lacks an id')
  if (m['ok'] === true) return { id: m['id'], reply: m['reply'] }
  return { id: m['id'], error: deserializeError(m['error']) }
}

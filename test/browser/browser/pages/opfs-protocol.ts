/**
 * Messages between the OPFS test page, its workers and the Node-side test. Bytes travel as
 * hex strings because playwright's evaluate carries JSON, not typed arrays.
 */

/** Which storage a command targets: the adapter under test or the in-memory reference. */
export type StorageImpl = 'opfs' | 'ram'

/** One random-access-storage call, as the compliance script and the tests issue it. */
export type StorageOp =
  | { op: 'read', offset: number, size: number }
  | { op: 'write', offset: number, hex: string }
  /** A write of `size` copies of `byte`, for sizes too big to send as hex. */
  | { op: 'fill', offset: number, size: number, byte: number }
  | { op: 'del', offset: number, size: number }
  | { op: 'truncate', offset: number }
  | { op: 'stat' }
  | { op: 'close' }
  | { op: 'unlink' }

/** Options forwarded to the adapter (functions cannot cross postMessage). */
export interface OpenOptions {
  lockRetries?: number
  lockRetryDelayMs?: number
  /** Post a `lock-retry` event to the page before each retry. */
  reportRetries?: boolean
}

export type WorkerCommand =
  | { kind: 'open', impl: StorageImpl, root: string, name: string, options?: OpenOptions }
  | { kind: 'op', sid: number, call: StorageOp }
  | { kind: 'list', root: string }
  | { kind: 'core-append', root: string, blocks: string[], close: boolean }
  | { kind: 'core-read', root: string, createIfMissing: boolean }
  | { kind: 'core-audit', root: string }
  | { kind: 'store-append', root: string, name: string, blocks: string[] }
  | { kind: 'store-read', root: string, name: string }

/** A failure as it crosses into the test: the code is what tests assert on. */
export interface WireError {
  name: string
  code: string | null
  message: string
  details?: Record<string, unknown>
  /** `name` of the error's `cause`, e.g. the DOMException a typed error was mapped from. */
  causeName?: string
}

export type WorkerReply =
  | { id: number, ok: true, value: unknown }
  | { id: number, ok: false, error: WireError }

export type WorkerEvent = { event: 'lock-retry', path: string, retry: number }

/** What the page hands back to the test: a reply without its id (never a thrown error). */
export type CallResult = { ok: true, value: unknown } | { ok: false, error: WireError }

/**
 * Messages between the OPFS test page, its workers and the Node-side test. Bytes travel as
 * hex strings because playwright's evaluate carries JSON, not typed arrays.
 */
import type { StorageCommand, StorageOp } from '../../../compliance/storage-wire.ts'

export type { StorageOp }

/** Which storage a command targets: the adapter under test or the in-memory reference. */
export type StorageImpl = 'opfs' | 'ram'

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
  /** A command of the storage compliance suites, run against OPFS in the worker. */
  | { kind: 'compliance', cmd: StorageCommand }

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

/**
 * The contract every executor implements: the browser Web Worker pool, the Node
 * worker_threads pool, and anything a test hands in its place.
 */
import type { AbortSignalLike } from './host.ts'
import type { Preopen } from './wasi-fs-tree.ts'
import type { FileSource } from './file-channel.ts'

/** The two calling conventions a module can follow (see docs/abi.md). */
export type Abi = 'raw' | 'wasi'

/** Per-call limits; every field has a default (see {@link DEFAULT_LIMITS}). */
export interface ExecutionLimits {
  /** Fuel budget: roughly one unit per WebAssembly instruction executed. */
  fuel: number
  /** Linear memory cap in 64 KiB pages. */
  memoryPages: number
  /** Wall-clock deadline, from the moment a worker takes the call. */
  deadlineMs: number
  /** Largest accepted input, in bytes. */
  maxInputBytes: number
  /** Largest accepted output (raw result or WASI stdout), in bytes. */
  maxOutputBytes: number
}

/** One invocation. */
export interface ExecuteCall {
  /** The module's bytes; treated as immutable once passed (they are copied and hashed). */
  module: Uint8Array
  abi: Abi
  /** Raw ABI: the bytes handed to `run`. WASI: stdin. */
  input?: Uint8Array
  /** WASI only: argv after the program name. */
  args?: string[]
  /** WASI only: environment as `KEY=value` strings. */
  env?: string[]
  /** Seeds the deterministic clock and random source; redundant executions must agree on it. */
  seed?: number
  limits?: Partial<ExecutionLimits>
  /**
   * WASI only: read-only directory trees mounted at guest paths. The module's writes go to
   * a per-call overlay that vanishes with the call; the trees never change.
   */
  preopens?: Preopen[]
  /** WASI only: bytes the module may write into its overlay (default 16 MiB); past it, ENOSPC. */
  scratchBytes?: number
  /**
   * WASI only: where the bytes of the preopens' `lazy` files come from. The executor fetches
   * a range when the module reads it (its worker blocks meanwhile), or, where its workers
   * cannot share memory, every lazy file before the call.
   */
  files?: FileSource
}

/** A successful invocation. */
export interface ExecuteResult {
  /** Raw ABI: the returned bytes. WASI: everything written to stdout. */
  output: Uint8Array
  /** Fuel consumed, exact and identical in every executor. */
  fuelUsed: number
  /** WASI exit code (0 for the raw ABI). */
  exitCode: number
  /** WASI stderr, truncated to a small limit; empty for the raw ABI. */
  stderr: Uint8Array
  /** SHA-256 of the module bytes, lowercase hex. */
  moduleHash: string
  /** Wall-clock time the worker spent, for display only (never part of a result's identity). */
  durationMs: number
}

/** Options of one call. */
export interface ExecuteOptions {
  /** Aborting rejects with ABORTED; a running call's worker is terminated and replaced. */
  signal?: AbortSignalLike
}

/**
 * Runs WebAssembly functions in isolation.
 *
 * Every failure rejects with a {@link ShadwError} whose `code` is one of INVALID_MODULE,
 * ABI_MISMATCH, FUEL_EXHAUSTED, MEMORY_LIMIT, DEADLINE_EXCEEDED, TRAP, INPUT_TOO_LARGE,
 * OUTPUT_TOO_LARGE, BUSY, EXECUTOR_CLOSED, ABORTED or INVALID_ARGUMENT.
 *
 * @example
 * ```ts
 * const result = await executor.execute({ module, abi: 'raw', input, limits: { fuel: 1e6 } })
 * console.log(result.output, result.fuelUsed)
 * ```
 */
export interface Executor {
  /** Number of workers. */
  readonly size: number
  execute (call: ExecuteCall, options?: ExecuteOptions): Promise<ExecuteResult>
  /** Terminates every worker and rejects queued calls with EXECUTOR_CLOSED; safe to call twice. */
  close (): Promise<void>
}

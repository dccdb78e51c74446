/**
 * The few host APIs the isomorphic sandbox core needs, typed structurally.
 *
 * The core is checked against lib ES2022 only (no DOM, no Node), which declares neither
 * `WebAssembly` nor WebCrypto, timers or `TextEncoder`. Both Node 20 and every browser
 * provide them as globals with these shapes, so we read them from `globalThis` once, here,
 * instead of letting host-specific type libraries leak into the core.
 */

/** A compiled WebAssembly module (opaque to the core). */
export interface WasmModule { readonly __wasmModule?: never }

/** A linear memory. */
export interface WasmMemory {
  readonly buffer: ArrayBuffer
  grow (delta: number): number
}

/** A WebAssembly global; i64 globals read and write as `bigint`. */
export interface WasmGlobal { value: unknown }

/** An instantiated module. */
export interface WasmInstance { readonly exports: Record<string, unknown> }

/** One entry of `WebAssembly.Module.imports()`. */
export interface WasmImportDescriptor { module: string, name: string, kind: string }

interface WasmApi {
  Module: { new (bytes: Uint8Array): WasmModule, imports (m: WasmModule): WasmImportDescriptor[] }
  Instance: new (m: WasmModule, imports: Record<string, Record<string, unknown>>) => WasmInstance
  Memory: new (desc: { initial: number, maximum?: number }) => WasmMemory
  Global: new (desc: { value: string, mutable: boolean }, v: unknown) => WasmGlobal
  RuntimeError: new (...args: unknown[]) => Error
  CompileError: new (...args: unknown[]) => Error
  LinkError: new (...args: unknown[]) => Error
  compile (bytes: Uint8Array): Promise<WasmModule>
  validate (bytes: Uint8Array): boolean
}

interface HostGlobals {
  WebAssembly: WasmApi
  crypto: { subtle: { digest (algorithm: string, data: Uint8Array): Promise<ArrayBuffer> } }
  TextEncoder: new () => { encode (s: string): Uint8Array }
  TextDecoder: new (label?: string, options?: { fatal?: boolean }) => { decode (b: Uint8Array): string }
  setTimeout (fn: () => void, ms: number): unknown
  clearTimeout (handle: unknown): void
  performance: { now (): number, readonly timeOrigin: number }
}

const host = globalThis as unknown as HostGlobals

/** The host's `WebAssembly` namespace. */
export const wasmApi: WasmApi = host.WebAssembly

/** Starts a timer; returns an opaque handle for {@link clearTimer}. */
export function startTimer (fn: () => void, ms: number): unknown {
  return host.setTimeout(fn, ms)
}

/** Cancels a timer started by {@link startTimer}. */
export function clearTimer (handle: unknown): void {
  host.clearTimeout(handle)
}

/** Milliseconds from a monotonic clock, for reporting durations (never for results). */
export function nowMs (): number {
  return host.performance.now()
}

/**
 * A {@link nowMs} reading as epoch milliseconds (the context's time origin plus it): marks of
 * several workers and tabs on one machine line up on this clock, to a fraction of a ms.
 */
export function epochMs (monotonic: number = nowMs()): number {
  return host.performance.timeOrigin + monotonic
}

const encoder = new host.TextEncoder()

/** UTF-8 encodes a string. */
export function utf8Encode (s: string): Uint8Array {
  return encoder.encode(s)
}

/** UTF-8 decodes bytes; `fatal` rejects malformed input instead of replacing it. */
export function utf8Decode (b: Uint8Array, fatal = false): string {
  return new host.TextDecoder('utf-8', { fatal }).decode(b)
}

/** SHA-256 of `bytes` as lowercase hex, via WebCrypto (present in Node 20 and browsers). */
export async function sha256Hex (bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await host.crypto.subtle.digest('SHA-256', bytes))
  let hex = ''
  for (const b of digest) hex += b.toString(16).padStart(2, '0')
  return hex
}

/** Minimal AbortSignal shape shared by Node and browsers. */
export interface AbortSignalLike {
  readonly aborted: boolean
  addEventListener (type: 'abort', fn: () => void, options?: { once?: boolean }): void
  removeEventListener (type: 'abort', fn: () => void): void
}

/**
 * A persistent place for instrumented modules, so a worker that starts afresh (a browser tab
 * reloaded, a worker respawned) compiles a module it has seen without instrumenting it again:
 * fuel instrumentation is the largest stage of a cold call. Implementations live with their
 * storage (Cache Storage in the browser executor worker); the sandbox only asks and offers.
 *
 * An entry is keyed by what decides the instrumented bytes: the module's content hash (checked
 * against the bytes before the store is asked), the ABI it was checked against, the memory cap
 * and {@link METERING_VERSION}. A store returns only entries whose own hash it verified, so a
 * torn or altered entry costs an instrumentation, never a wrong run.
 */
import type { Abi } from './executor.ts'
import type { WasmModule } from './host.ts'
import type { InstrumentedModule } from './instrument.ts'

/**
 * Version of the metering pass's output. Bump it with any change to what `instrumentModule`
 * emits (fuel costs, the charge points, the start-function or memory rewriting): entries of an
 * older version are then never read, so a reload cannot run a module metered the old way.
 */
export const METERING_VERSION = 1

/** What a later call needs besides the bytes. */
export interface InstrumentedEntry {
  bytes: Uint8Array
  importedMemory: InstrumentedModule['importedMemory']
  hasStart: boolean
}

/** A verified entry; `module` when the store compiled it itself (from a response V8 may hold compiled code for). */
export interface InstrumentedHit extends InstrumentedEntry {
  module?: WasmModule
}

export interface InstrumentedStore {
  /** The entry under `key`, verified, or null (absent, unreadable, or failing its hash). */
  get (key: string): Promise<InstrumentedHit | null>
  /** Keeps `entry` under `key`; may evict older entries to stay within its bounds. */
  put (key: string, entry: InstrumentedEntry): Promise<void>
}

/** The key of a module's instrumented form. */
export function instrumentedKey (hash: string, abi: Abi, memoryPages: number): string {
  return `v${METERING_VERSION}/${hash}/${abi}/${memoryPages}`
}

/** The stages of one preparation, ms (a stage not taken is absent). */
export interface PrepareStages {
  /** SHA-256 of the module's bytes against the call's module hash */
  hashMs: number
  /** the store's read, its entry hashed again (and, in the browser, compiled from the response) */
  storeMs?: number
  /** validation, ABI check and fuel instrumentation */
  instrumentMs?: number
  /** compilation of the instrumented bytes (after a store hit: what was left of it) */
  compileMs?: number
}

/** How a module was made ready: instrumented here, or taken instrumented from the store. */
export interface PrepareEvent extends PrepareStages {
  hash: string
  source: 'instrumented' | 'store'
  /** validation, instrumentation (or the store's read) and compilation, ms */
  ms: number
  /** when the worker began (hashing the bytes), epoch ms: lines up with other contexts' marks */
  at: number
}

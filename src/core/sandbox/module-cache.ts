/**
 * Instrumented, compiled modules keyed by content hash, ABI and memory cap.
 *
 * Instrumenting and compiling dominate a cold call; a warm call only instantiates. The cache
 * is a small LRU (a Map iterates in insertion order, so re-inserting on hit keeps the least
 * recently used first) holding promises, so concurrent calls for one module compile once.
 */
import { ShadwError } from '../errors.ts'
import type { Abi } from './executor.ts'
import { checkAbi } from './abi-check.ts'
import { epochMs, nowMs, sha256Hex, wasmApi, type WasmMemory, type WasmModule } from './host.ts'
import { instrumentModule, type InstrumentedModule } from './instrument.ts'
import { instrumentedKey, type InstrumentedStore, type PrepareEvent, type PrepareStages } from './instrumented-store.ts'

/** Distinct modules a worker keeps compiled; each costs its machine code in memory. */
export const MODULE_CACHE_ENTRIES = 64

/** A module ready to instantiate. */
export interface PreparedModule {
  hash: string
  module: WasmModule
  importedMemory: InstrumentedModule['importedMemory']
  hasStart: boolean
  /** A memory a finished call left at its initial size, to be zeroed and reused. */
  spareMemory: WasmMemory | undefined
}

async function compileInstrumented (bytes: Uint8Array): Promise<WasmModule> {
  try {
    return await wasmApi.compile(bytes)
  } catch (err) {
    throw ShadwError.INVALID_MODULE(`instrumented module does not compile: ${(err as Error).message}`)
  }
}

/** Validates, checks the ABI of, instruments and compiles `bytes`; times the two stages into `stages`. */
async function instrumentAndCompile (bytes: Uint8Array, abi: Abi, memoryPages: number, stages?: PrepareStages): Promise<{ inst: InstrumentedModule, module: WasmModule }> {
  const t0 = nowMs()
  if (!wasmApi.validate(bytes)) throw ShadwError.INVALID_MODULE('module does not validate')
  const inst = instrumentModule(bytes, memoryPages)
  checkAbi(inst.parsed, abi)
  const t1 = nowMs()
  const module = await compileInstrumented(inst.bytes)
  if (stages !== undefined) { stages.instrumentMs = t1 - t0; stages.compileMs = nowMs() - t1 }
  return { inst, module }
}

/** Validates, checks the ABI of, instruments and compiles `bytes` (whose hash is known). */
export async function prepareModule (bytes: Uint8Array, hash: string, abi: Abi, memoryPages: number, stages?: PrepareStages): Promise<PreparedModule> {
  const { inst, module } = await instrumentAndCompile(bytes, abi, memoryPages, stages)
  return { hash, module, importedMemory: inst.importedMemory, hasStart: inst.hasStart, spareMemory: undefined }
}

/**
 * {@link prepareModule} through a persistent store of instrumented modules: a verified entry
 * is compiled as it is (its module was validated, its ABI checked and instrumented when it was
 * stored, under the same key); a miss is prepared and then offered to the store, without the
 * call waiting for the write. A store that fails is a miss.
 */
async function prepareThrough (store: InstrumentedStore, bytes: Uint8Array, hash: string, abi: Abi, memoryPages: number, stages: PrepareStages): Promise<{ prepared: PreparedModule, source: PrepareEvent['source'] }> {
  const key = instrumentedKey(hash, abi, memoryPages)
  const t0 = nowMs()
  const hit = await store.get(key).catch(() => null)
  stages.storeMs = nowMs() - t0
  if (hit !== null) {
    const t1 = nowMs()
    const module = hit.module ?? await compileInstrumented(hit.bytes)
    stages.compileMs = nowMs() - t1
    return { prepared: { hash, module, importedMemory: hit.importedMemory, hasStart: hit.hasStart, spareMemory: undefined }, source: 'store' }
  }
  const { inst, module } = await instrumentAndCompile(bytes, abi, memoryPages, stages)
  store.put(key, { bytes: inst.bytes, importedMemory: inst.importedMemory, hasStart: inst.hasStart }).catch(() => {})
  return { prepared: { hash, module, importedMemory: inst.importedMemory, hasStart: inst.hasStart, spareMemory: undefined }, source: 'instrumented' }
}

/** Options of {@link ModuleCache}. */
export interface ModuleCacheOptions {
  /** instrumented modules kept across worker restarts (browser reloads) */
  store?: InstrumentedStore
  /** told how each module was made ready (tests and benches watch it) */
  onPrepare?: (event: PrepareEvent) => void
}

/** LRU of prepared modules. */
export class ModuleCache {
  private readonly entries = new Map<string, Promise<PreparedModule>>()

  readonly #opts: ModuleCacheOptions

  constructor (readonly capacity = MODULE_CACHE_ENTRIES, opts: ModuleCacheOptions = {}) {
    this.#opts = opts
  }

  /**
   * Returns the prepared module, or `undefined` on a miss without `bytes` (the caller then
   * sends them). Bytes are re-hashed before use: a cache entry never lies about its hash.
   */
  get (hash: string, abi: Abi, memoryPages: number, bytes: Uint8Array | undefined): Promise<PreparedModule> | undefined {
    const key = `${hash}/${abi}/${memoryPages}`
    const hit = this.entries.get(key)
    if (hit !== undefined) {
      this.entries.delete(key)
      this.entries.set(key, hit)
      return hit
    }
    if (bytes === undefined) return undefined
    const p = (async () => {
      const hashStarted = nowMs()
      const actual = await sha256Hex(bytes)
      if (actual !== hash) throw ShadwError.INVALID_ARGUMENT('module bytes do not match their hash', { hash, actual })
      const { store, onPrepare } = this.#opts
      if (store === undefined && onPrepare === undefined) return await prepareModule(bytes, hash, abi, memoryPages)
      const started = nowMs()
      const stages: PrepareStages = { hashMs: started - hashStarted }
      const { prepared, source } = store === undefined
        ? { prepared: await prepareModule(bytes, hash, abi, memoryPages, stages), source: 'instrumented' as const }
        : await prepareThrough(store, bytes, hash, abi, memoryPages, stages)
      onPrepare?.({ hash, source, ms: nowMs() - started, at: epochMs(hashStarted), ...stages })
      return prepared
    })()
    this.entries.set(key, p)
    // failures are not cached: the next call retries (and fails the same way, deterministically)
    p.catch(() => { if (this.entries.get(key) === p) this.entries.delete(key) })
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string
      this.entries.delete(oldest)
    }
    return p
  }

  clear (): void {
    this.entries.clear()
  }
}

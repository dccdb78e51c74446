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
import { sha256Hex, wasmApi, type WasmMemory, type WasmModule } from './host.ts'
import { instrumentModule, type InstrumentedModule } from './instrument.ts'

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

/** Validates, checks the ABI of, instruments and compiles `bytes` (whose hash is known). */
export async function prepareModule (bytes: Uint8Array, hash: string, abi: Abi, memoryPages: number): Promise<PreparedModule> {
  if (!wasmApi.validate(bytes)) throw ShadwError.INVALID_MODULE('module does not validate')
  const inst = instrumentModule(bytes, memoryPages)
  checkAbi(inst.parsed, abi)
  let module: WasmModule
  try {
    module = await wasmApi.compile(inst.bytes)
  } catch (err) {
    throw ShadwError.INVALID_MODULE(`instrumented module does not compile: ${(err as Error).message}`)
  }
  return { hash, module, importedMemory: inst.importedMemory, hasStart: inst.hasStart, spareMemory: undefined }
}

/** LRU of prepared modules. */
export class ModuleCache {
  private readonly entries = new Map<string, Promise<PreparedModule>>()

  constructor (readonly capacity = MODULE_CACHE_ENTRIES) {}

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
      const actual = await sha256Hex(bytes)
      if (actual !== hash) throw ShadwError.INVALID_ARGUMENT('module bytes do not match their hash', { hash, actual })
      return await prepareModule(bytes, hash, abi, memoryPages)
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

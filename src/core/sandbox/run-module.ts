/**
 * Runs one call on a fresh instance of a prepared module: sets the fuel, runs the ABI,
 * checks the fuel again, and classifies every failure into a typed error.
 */
import { ShadwError } from '../errors.ts'
import type { Abi, ExecutionLimits } from './executor.ts'
import { wasmApi, type WasmGlobal, type WasmInstance, type WasmMemory } from './host.ts'
import { STACK_BUDGET_SLOTS } from './function-metering.ts'
import { FUEL_EXPORT, OOM_EXPORT, STACK_EXPORT, START_EXPORT } from './instrument.ts'
import type { PreparedModule } from './module-cache.ts'
import { createWasiContext, WASI_MODULE, type WasiContext } from './wasi-abi.ts'
import type { Preopen } from './wasi-fs-tree.ts'
import { ChannelClient, type RangeReader } from './file-channel.ts'
import { ERRNO } from './wasi-defs.ts'
import { FsError } from './wasi-fs-tree.ts'

/** One call's parameters, already validated. */
export interface RunParams {
  abi: Abi
  input: Uint8Array
  args: string[]
  env: string[]
  seed: number
  limits: ExecutionLimits
  /** WASI only: directory trees the module sees, under a per-call overlay. */
  preopens?: Preopen[]
  /** WASI only: bytes the module may write into its overlay. */
  scratchBytes?: number
  /** WASI only: the shared block through which the preopens' lazy files are fetched. */
  files?: SharedArrayBuffer
  /** WASI only, instead of `files`: the lazy files' bytes by id, fetched before the call. */
  fileBytes?: Uint8Array[]
}

/** What a successful call produced. */
export interface RunOutcome {
  output: Uint8Array
  fuelUsed: number
  exitCode: number
  stderr: Uint8Array
}

/** Lazy files whose bytes came with the call: read like fetched ones, for the same fuel. */
function localFiles (bytes: Uint8Array[]): RangeReader {
  return {
    read: (id, offset, length) => {
      const b = bytes[id]
      if (b === undefined) throw new FsError(ERRNO.IO)
      return b.subarray(offset, offset + length)
    }
  }
}

/** Runs `prepared` once; throws a ShadwError on every failure. */
export function runModule (prepared: PreparedModule, p: RunParams): RunOutcome {
  const imports: Record<string, Record<string, unknown>> = {}
  let memory: WasmMemory | undefined
  const im = prepared.importedMemory
  if (im !== undefined) {
    memory = acquireMemory(prepared, im.initial, im.maximum)
    imports[im.module] = { [im.name]: memory }
  }
  try {
    return runInstance(prepared, p, imports, memory)
  } finally {
    if (memory !== undefined && im !== undefined) releaseMemory(prepared, memory, im.initial)
  }
}

/**
 * Largest memory recycled between calls. Zeroing costs a memset of the whole memory while a
 * fresh one is zero pages mapped lazily, so recycling only pays for small memories.
 */
export const RECYCLE_MAX_PAGES = 16
const PAGE_BYTES = 65_536

function acquireMemory (prepared: PreparedModule, initial: number, maximum: number): WasmMemory {
  const spare = prepared.spareMemory
  if (spare !== undefined) {
    prepared.spareMemory = undefined
    // a fresh instance must see exactly what a fresh memory holds: zeros, then its data
    new Uint8Array(spare.buffer).fill(0)
    return spare
  }
  try {
    return new wasmApi.Memory({ initial, maximum })
  } catch (err) {
    throw ShadwError.MEMORY_LIMIT(`cannot allocate ${initial} pages: ${(err as Error).message}`)
  }
}

/** Keeps a memory for the next call of this module if it is small and never grew. */
function releaseMemory (prepared: PreparedModule, memory: WasmMemory, initial: number): void {
  if (initial <= RECYCLE_MAX_PAGES && memory.buffer.byteLength === initial * PAGE_BYTES) prepared.spareMemory = memory
}

function runInstance (prepared: PreparedModule, p: RunParams, imports: Record<string, Record<string, unknown>>, importedMemory: WasmMemory | undefined): RunOutcome {
  let memory = importedMemory
  let wasi: WasiContext | undefined
  if (p.abi === 'wasi') {
    // a fetch never blocks the worker past the call's deadline (the pool's clock started
    // no later than this one)
    const files = p.files !== undefined ? new ChannelClient(p.files, p.limits.deadlineMs) : p.fileBytes !== undefined ? localFiles(p.fileBytes) : undefined
    wasi = createWasiContext({ args: p.args, env: p.env, input: p.input, seed: p.seed, maxOutputBytes: p.limits.maxOutputBytes, preopens: p.preopens, scratchBytes: p.scratchBytes, ...(files === undefined ? {} : { files }) })
    imports[WASI_MODULE] = { ...imports[WASI_MODULE], ...wasi.imports }
  }
  let instance: WasmInstance
  try {
    instance = new wasmApi.Instance(prepared.module, imports)
  } catch (err) {
    if (err instanceof wasmApi.LinkError) throw ShadwError.ABI_MISMATCH(`link error: ${err.message}`)
    if (err instanceof wasmApi.RuntimeError) throw ShadwError.TRAP(err.message)
    if (err instanceof RangeError) throw ShadwError.MEMORY_LIMIT(`cannot instantiate: ${err.message}`)
    throw ShadwError.INTERNAL(`instantiation failed: ${String(err)}`, err)
  }
  const ex = instance.exports
  const fuel = ex[FUEL_EXPORT] as WasmGlobal
  const oom = ex[OOM_EXPORT] as WasmGlobal
  const stack = ex[STACK_EXPORT] as WasmGlobal
  // every export the host calls starts from an empty stack (a returning call leaves its level)
  const fromTop = <A extends unknown[], R>(fn: (...a: A) => R) => (...a: A): R => {
    stack.value = 0
    return fn(...a)
  }
  memory ??= ex['memory'] as WasmMemory
  const limit = p.limits.fuel
  fuel.value = BigInt(limit)

  const fuelLeft = (): bigint => fuel.value as bigint
  const checkFuel = (): void => {
    if (fuelLeft() < 0n) throw ShadwError.FUEL_EXHAUSTED(limit)
  }
  let packed = 0n
  let exitCode = 0
  const start = prepared.hasStart ? fromTop(ex[START_EXPORT] as () => void) : undefined
  try {
    if (wasi !== undefined) {
      // a start function may already call WASI (print, proc_exit): it runs inside the context
      const entry = fromTop(ex['_start'] as () => unknown)
      exitCode = wasi.start(memory, () => { start?.(); entry() }, fuel, limit)
    } else {
      start?.()
      const mem = memory
      const ptr = fromTop(ex['alloc'] as (n: number) => number)(p.input.length) >>> 0
      if (ptr + p.input.length > mem.buffer.byteLength) {
        checkFuel()
        throw ShadwError.ABI_MISMATCH(`alloc returned ${ptr}, outside memory for ${p.input.length} bytes`)
      }
      new Uint8Array(mem.buffer, ptr, p.input.length).set(p.input)
      packed = BigInt.asUintN(64, fromTop(ex['run'] as (a: number, b: number) => bigint)(ptr, p.input.length))
    }
  } catch (err) {
    throw classify(err, oom, fuelLeft(), limit, stack)
  }
  checkFuel()
  const fuelUsed = limit - Number(fuelLeft())
  if (wasi !== undefined) {
    return { output: wasi.stdout(), fuelUsed, exitCode, stderr: wasi.stderr() }
  }
  const outPtr = Number(packed >> 32n)
  const outLen = Number(packed & 0xffffffffn)
  if (outLen > p.limits.maxOutputBytes) throw ShadwError.OUTPUT_TOO_LARGE(outLen, p.limits.maxOutputBytes)
  if (outPtr + outLen > memory.buffer.byteLength) {
    throw ShadwError.ABI_MISMATCH(`run returned output [${outPtr}, +${outLen}) outside memory`)
  }
  return { output: new Uint8Array(memory.buffer, outPtr, outLen).slice(), fuelUsed, exitCode: 0, stderr: new Uint8Array(0) }
}

/**
 * Names a failure. Order matters: a failed grow, an exhausted fuel counter and a stack past
 * its budget explain any trap that follows them (our own injected `unreachable`), so they
 * are checked first. The engine's own stack overflow gets the same TRAP message as ours.
 */
function classify (err: unknown, oom: WasmGlobal, fuelLeft: bigint, limit: number, stack: WasmGlobal): ShadwError {
  if (oom.value === 1) return ShadwError.MEMORY_LIMIT('memory.grow beyond the cap')
  if (fuelLeft < 0n) return ShadwError.FUEL_EXHAUSTED(limit)
  if ((stack.value as number) > STACK_BUDGET_SLOTS) return ShadwError.TRAP('call stack exhausted')
  if (err instanceof ShadwError) return err
  if (err instanceof wasmApi.RuntimeError) return ShadwError.TRAP(err.message)
  if (err instanceof RangeError && /call stack/i.test(err.message)) return ShadwError.TRAP('call stack exhausted')
  return ShadwError.INTERNAL(`call failed: ${String(err)}`, err)
}

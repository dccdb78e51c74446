/**
 * Small calls on the pool's own thread. Handing a call to a worker costs two thread wake-ups
 * (about 35 µs each on a loaded VM, measured), while a trivial function runs in a few
 * microseconds: for a node that is otherwise idle, the hop is most of an invocation's
 * latency. So when nothing else is executing, a call to a small, already compiled module
 * first runs here, with its fuel cut to a slice and its memory to a few pages: together they
 * bound how long it can hold the thread (instructions, and first touches of fresh pages).
 * Only the raw ABI qualifies: WASI host calls do work fuel bounds only in part (stdio is
 * free up to its own limits), and a filesystem call's tree would have to reach this thread. The instance is the same as in a worker (fresh, metered,
 * `runModule`), so a result it gives is the one any worker gives: fuel and stack budgets are
 * counted by the instrumented module, not by the engine, and a grow past the smaller memory
 * cap traps rather than returning -1 to the function. Anything else — the slice runs out,
 * the memory cap is hit, any error (a worker gives the authoritative one: the engine's own
 * stack here is not a worker's) — returns null and the pool runs the call as if this had not
 * been tried; a module that failed here once goes to the pool from then on.
 */
import type { Abi, ExecuteResult } from './executor.ts'
import { nowMs } from './host.ts'
import { prepareModule, type PreparedModule } from './module-cache.ts'
import type { WorkerRequest } from './protocol.ts'
import { runModule } from './run-module.ts'

/** When to run a call on the pool's thread. */
export interface InlineOptions {
  /**
   * Fuel a call may use here before it moves to a worker: what bounds the time the thread
   * is held (default {@link DEFAULT_INLINE_FUEL}).
   */
  fuelSlice?: number
  /** Largest module compiled on this thread (default {@link DEFAULT_INLINE_MODULE_BYTES}). */
  maxModuleBytes?: number
}

/**
 * What bounds a hold of the thread. Per fuel unit, `memory.grow` is the slowest thing a
 * module can do (a loop of `memory.grow 0` spends 100,000 fuel in ~4 ms here, where additions,
 * divisions, indirect calls or stores spend it in ~0.1 ms): 10,000 holds the thread at most
 * ~0.4 ms, and covers the small functions the hop matters for (an echo costs 22).
 */
export const DEFAULT_INLINE_FUEL = 10_000
/** Instrumenting and compiling a module this size on the node's thread takes a few ms, once. */
export const DEFAULT_INLINE_MODULE_BYTES = 64 * 1024
/** Memory cap here, in 64 KiB pages: 1 MiB is 256 page faults at most, a fraction of a ms. */
export const INLINE_MEMORY_PAGES = 16
/**
 * Share of the thread's time calls may take here, and the most they may take in a burst (ms):
 * a stream of calls each just under the slice would otherwise run here back to back while the
 * workers idle (the pool only checks that no worker has work). Past it, calls go to workers.
 */
export const INLINE_SHARE = 0.25
const INLINE_BURST_MS = 2
/** Modules kept compiled here; only the hottest small functions matter. */
const INLINE_MODULES = 16
/** Modules remembered as not fitting (slice exceeded, or failed here). */
const UNFIT_MODULES = 1024

/** Runs fitting calls on the calling thread; see the module comment. */
export class InlineRunner {
  readonly fuelSlice: number
  readonly maxModuleBytes: number
  /** prepared modules by cache key, once compiled: a call never waits for a compile here */
  readonly #ready = new Map<string, PreparedModule>()
  readonly #preparing = new Map<string, Promise<unknown>>()
  readonly #unfit = new Set<string>()
  /** calls run here (tests and benchmarks read it) */
  ran = 0
  /** ms of the thread calls may still take here ({@link INLINE_SHARE}), refilled as time passes */
  #budget = INLINE_BURST_MS
  #budgetAt = nowMs()

  constructor (opts: InlineOptions = {}) {
    this.fuelSlice = opts.fuelSlice ?? DEFAULT_INLINE_FUEL
    this.maxModuleBytes = opts.maxModuleBytes ?? DEFAULT_INLINE_MODULE_BYTES
  }

  /**
   * Runs `req` here if it fits, giving its result; null means "run it in a worker". The
   * first call of a module starts compiling it here and goes to a worker.
   */
  tryRun (req: Omit<WorkerRequest, 'bytes'>, bytes: Uint8Array): ExecuteResult | null {
    if (req.abi !== 'raw' || bytes.byteLength > this.maxModuleBytes || this.#unfit.has(req.hash)) return null
    const now = nowMs()
    this.#budget = Math.min(INLINE_BURST_MS, this.#budget + (now - this.#budgetAt) * INLINE_SHARE)
    this.#budgetAt = now
    if (this.#budget <= 0) return null
    const prepared = this.#prepared(req.hash, req.abi, Math.min(req.limits.memoryPages, INLINE_MEMORY_PAGES), bytes)
    if (prepared === undefined) return null
    const fuel = Math.min(req.limits.fuel, this.fuelSlice)
    const started = nowMs()
    try {
      const out = runModule(prepared, { ...req, limits: { ...req.limits, fuel } })
      this.ran++
      return { ...out, moduleHash: req.hash, durationMs: nowMs() - started }
    } catch {
      // a call that ran out of its own (smaller) fuel limit says nothing about the module
      if (fuel === this.fuelSlice) this.#markUnfit(req.hash)
      return null
    } finally {
      this.#budget -= nowMs() - started
    }
  }

  /** Resolves once every module being compiled here is ready (or known not to fit). */
  async settled (): Promise<void> {
    await Promise.all(this.#preparing.values())
  }

  #prepared (hash: string, abi: Abi, memoryPages: number, bytes: Uint8Array): PreparedModule | undefined {
    const key = `${hash}/${abi}/${memoryPages}`
    const ready = this.#ready.get(key)
    if (ready !== undefined) return ready
    if (this.#preparing.has(key)) return undefined
    // the pool hashed these bytes itself: `hash` is theirs
    const done = prepareModule(bytes, hash, abi, memoryPages).then(p => {
      this.#ready.set(key, p)
      if (this.#ready.size > INLINE_MODULES) this.#ready.delete(this.#ready.keys().next().value as string)
    }, () => { this.#markUnfit(hash) }).finally(() => { this.#preparing.delete(key) })
    this.#preparing.set(key, done)
    return undefined
  }

  #markUnfit (hash: string): void {
    this.#unfit.add(hash)
    if (this.#unfit.size > UNFIT_MODULES) this.#unfit.delete(this.#unfit.values().next().value as string)
  }
}

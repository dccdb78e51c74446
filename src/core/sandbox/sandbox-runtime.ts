/**
 * What runs inside every executor worker, browser or Node: a module cache and the call loop.
 * The worker entry files only adapt their messaging to {@link SandboxRuntime.execute}.
 */
import { nowMs } from './host.ts'
import { ModuleCache, type ModuleCacheOptions } from './module-cache.ts'
import { parseWorkerRequest, type WorkerReply } from './protocol.ts'
import { runModule } from './run-module.ts'
import { warmUp } from './warm-up.ts'

/** Options of {@link SandboxRuntime}. */
export interface SandboxRuntimeOptions extends ModuleCacheOptions {
  /**
   * warm the metering pass and the compiler on a built-in module at start (warm-up.ts), so
   * the first module this worker prepares does not pay for the thread's cold JIT; calls that
   * arrive meanwhile wait for it; `onWarm` is told the ms it took
   */
  warmUp?: boolean
  onWarm?: (ms: number) => void
}

/** The worker-side executor: validates a request, prepares the module, runs one call. */
export class SandboxRuntime {
  private readonly cache: ModuleCache
  // calls run strictly in arrival order, even across a module compile: the pool's deadline
  // bookkeeping assumes the call at the head of a worker's line is the one running
  private tail: Promise<unknown> = Promise.resolve()

  /** Settles once the start's warm-up is over (at once without one): worker entries say they are ready then, so no deadline runs during it. */
  readonly warmed: Promise<void>

  constructor (cacheEntries?: number, opts: SandboxRuntimeOptions = {}) {
    const { warmUp: warm, onWarm, ...cache } = opts
    this.cache = new ModuleCache(cacheEntries, cache)
    this.warmed = warm === true ? warmUp().then(ms => { onWarm?.(ms) }) : Promise.resolve()
    this.tail = this.warmed
  }

  /** Runs one request after those before it; rejects with a ShadwError. Untrusted input. */
  async execute (raw: unknown): Promise<WorkerReply> {
    const run = this.tail.then(async () => await this.executeNow(raw))
    this.tail = run.catch(() => {})
    return await run
  }

  private async executeNow (raw: unknown): Promise<WorkerReply> {
    const req = parseWorkerRequest(raw)
    const pending = this.cache.get(req.hash, req.abi, req.limits.memoryPages, req.bytes)
    if (pending === undefined) return { kind: 'need-module' }
    const prepared = await pending
    const started = nowMs()
    const out = runModule(prepared, req)
    return { kind: 'done', ...out, durationMs: nowMs() - started }
  }
}

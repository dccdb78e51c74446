/**
 * What runs inside every executor worker, browser or Node: a module cache and the call loop.
 * The worker entry files only adapt their messaging to {@link SandboxRuntime.execute}.
 */
import { nowMs } from './host.ts'
import { ModuleCache } from './module-cache.ts'
import { parseWorkerRequest, type WorkerReply } from './protocol.ts'
import { runModule } from './run-module.ts'

/** The worker-side executor: validates a request, prepares the module, runs one call. */
export class SandboxRuntime {
  private readonly cache: ModuleCache

  constructor (cacheEntries?: number) {
    this.cache = new ModuleCache(cacheEntries)
  }

  /** Runs one request; rejects with a ShadwError. The request is untrusted. */
  async execute (raw: unknown): Promise<WorkerReply> {
    const req = parseWorkerRequest(raw)
    const pending = this.cache.get(req.hash, req.abi, req.limits.memoryPages, req.bytes)
    if (pending === undefined) return { kind: 'need-module' }
    const prepared = await pending
    const started = nowMs()
    const out = runModule(prepared, req)
    return { kind: 'done', ...out, durationMs: nowMs() - started }
  }
}

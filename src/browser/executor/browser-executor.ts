/**
 * The browser executor: a {@link WorkerPool} of Dedicated Workers, spoken to over their
 * ports with the same envelope as the Node pool (core/sandbox/worker-envelope.ts): calls of
 * one tick in one message, small outputs copied rather than transferred. Works from a page
 * and from a dedicated worker (nested workers).
 */
import { ShadwError } from '../../core/errors.ts'
import { PortPoolWorker, WorkerPool, type WorkerPoolOptions } from '../../core/sandbox/index.ts'

/** Options of {@link createBrowserExecutor}. */
export interface BrowserExecutorOptions extends Omit<WorkerPoolOptions, 'spawn'> {
  /**
   * Starts one executor worker; `respawn` when it replaces one the pool stopped (a deadline, a
   * memory cap). The default loads workers/executor.worker.ts as a module, named as
   * worker-names.ts says (a respawned one skips the warm-up).
   */
  createWorker?: (respawn: boolean) => Worker
}

/**
 * The literal `new Worker(new URL(...), { ... })` form, with literal options, is what lets
 * Vite find and bundle the entry; hence two of them rather than a computed name (the names
 * are worker-names.ts' constants, written out).
 */
function defaultWorker (respawn: boolean): Worker {
  return respawn
    ? new Worker(new URL('../../../workers/executor.worker.ts', import.meta.url), { type: 'module', name: 'shadw-executor-respawned' })
    : new Worker(new URL('../../../workers/executor.worker.ts', import.meta.url), { type: 'module', name: 'shadw-executor' })
}

/** One Web Worker behind the shared envelope. */
function spawnBrowserWorker (create: (respawn: boolean) => Worker, respawn: boolean): PortPoolWorker {
  const worker = create(respawn)
  const pooled = new PortPoolWorker({ postMessage: (msg) => { worker.postMessage(msg) }, terminate: () => { worker.terminate() } })
  worker.addEventListener('message', (ev: MessageEvent) => { pooled.onmessage(ev.data) })
  // a worker that fails to load or throws at top level never answers: fail its calls
  worker.addEventListener('error', (ev: ErrorEvent) => { pooled.fail(ShadwError.INTERNAL(`executor worker crashed: ${ev.message}`)) })
  worker.addEventListener('messageerror', () => { pooled.fail(ShadwError.INTERNAL('executor worker sent a message that could not be deserialized')) })
  return pooled
}

/**
 * Starts a pool of `size` Web Workers (the contributor's CPU budget).
 *
 * @example
 * ```ts
 * const executor = createBrowserExecutor({ size: navigator.hardwareConcurrency - 1 })
 * const { output, fuelUsed } = await executor.execute({ module, abi: 'raw', input })
 * ```
 */
export function createBrowserExecutor (opts: BrowserExecutorOptions): WorkerPool {
  const create = opts.createWorker ?? defaultWorker
  return new WorkerPool({ ...opts, spawn: (respawn) => spawnBrowserWorker(create, respawn) })
}

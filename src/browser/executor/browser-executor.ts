/**
 * The browser executor: a {@link WorkerPool} of Dedicated Workers driven through comlink.
 * Works from a page and from a dedicated worker (nested workers).
 */
import { wrap, type Remote } from 'comlink'
import { ShadwError } from '../../core/errors.ts'
import { WorkerPool, type PoolWorker, type WorkerPoolOptions, type WorkerRequest } from '../../core/sandbox/index.ts'
import type { ExecutorWorkerApi } from './worker-api.ts'
import { installErrorTransfer } from './comlink-errors.ts'
import { EXECUTOR_READY } from './ready.ts'

/** Options of {@link createBrowserExecutor}. */
export interface BrowserExecutorOptions extends Omit<WorkerPoolOptions, 'spawn'> {
  /** Starts one executor worker; the default loads workers/executor.worker.ts as a module. */
  createWorker?: () => Worker
}

/** The literal `new Worker(new URL(...))` form is what lets Vite find and bundle the entry. */
function defaultWorker (): Worker {
  return new Worker(new URL('../../../workers/executor.worker.ts', import.meta.url), { type: 'module' })
}

class BrowserPoolWorker implements PoolWorker {
  dead = false
  readonly ready: Promise<void>
  private readonly worker: Worker
  private readonly remote: Remote<ExecutorWorkerApi>
  private readonly crashed: Promise<never>

  constructor (create: () => Worker) {
    this.worker = create()
    this.ready = new Promise(resolve => {
      const onMessage = (ev: MessageEvent): void => {
        if (ev.data !== EXECUTOR_READY) return
        this.worker.removeEventListener('message', onMessage)
        resolve()
      }
      this.worker.addEventListener('message', onMessage)
    })
    this.remote = wrap<ExecutorWorkerApi>(this.worker)
    // a worker that fails to load or throws at top level never answers: fail its calls
    this.crashed = new Promise<never>((_resolve, reject) => {
      this.worker.addEventListener('error', (ev: ErrorEvent) => {
        this.dead = true
        reject(ShadwError.INTERNAL(`executor worker crashed: ${ev.message}`))
      })
    })
    this.crashed.catch(() => {})
  }

  async call (req: WorkerRequest): Promise<unknown> {
    if (this.dead) throw ShadwError.INTERNAL('executor worker is dead')
    return await Promise.race([this.remote.execute(req), this.crashed])
  }

  terminate (): void {
    this.dead = true
    this.worker.terminate()
  }
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
  installErrorTransfer()
  const create = opts.createWorker ?? defaultWorker
  return new WorkerPool({ ...opts, spawn: () => new BrowserPoolWorker(create) })
}

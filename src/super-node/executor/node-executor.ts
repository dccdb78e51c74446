/**
 * The Node executor: a {@link WorkerPool} of worker_threads, for super nodes and `shadw run`.
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { ShadwError } from '../../core/errors.ts'
import { PortPoolWorker, WorkerPool, type WorkerPoolOptions } from '../../core/sandbox/index.ts'

/**
 * Run from the sources (tsx), the worker entry is TypeScript; run from the build in lib/
 * (the installed CLI), it is the compiled JavaScript beside this file, and the worker starts
 * without a TypeScript loader.
 */
const FROM_SOURCE = import.meta.url.endsWith('.ts')
const WORKER_URL = new URL(FROM_SOURCE ? './executor-worker.ts' : './executor-worker.js', import.meta.url)
/**
 * `execArgv: ['--import', 'tsx']` does not reach a worker's entry module on Node 20, so from
 * the sources the worker starts from a two-line bootstrap module that registers tsx's loader
 * and then imports the entry. The tsx API path is resolved from this file, not the cwd.
 */
function workerEntry (): URL {
  if (!FROM_SOURCE) return WORKER_URL
  const tsxApi = pathToFileURL(join(dirname(createRequire(import.meta.url).resolve('tsx/package.json')), 'dist/esm/api/index.mjs')).href
  return new URL('data:text/javascript,' + encodeURIComponent(
    `import { register } from ${JSON.stringify(tsxApi)}; register(); await import(${JSON.stringify(WORKER_URL.href)})`
  ))
}
const BOOTSTRAP_URL = workerEntry()

/** Options of {@link createNodeExecutor}; `spawn` is provided. */
export type NodeExecutorOptions = Omit<WorkerPoolOptions, 'spawn'> & {
  /**
   * Each worker the pool starts runs the metering pass and a compile once before it takes
   * calls, so a long-lived node's first call of a new module does not pay the thread's cold
   * JIT. Off by default: a one-call pool (`shadw run`) would only wait for it. A worker
   * started again after a kill (a deadline, a memory cap) skips it, so a function that gets
   * its workers killed does not make the node pay the warm-up each time.
   */
  warmUp?: boolean
}

/** One worker thread behind the shared envelope (worker-envelope.ts). */
function spawnNodeWorker (warmUp: boolean): PortPoolWorker {
  const worker = new Worker(BOOTSTRAP_URL, { workerData: { warmUp } })
  const pooled = new PortPoolWorker({ postMessage: (msg) => { worker.postMessage(msg) }, terminate: async () => { await worker.terminate() } })
  worker.on('message', (msg: unknown) => { pooled.onmessage(msg) })
  worker.on('error', err => { pooled.fail(ShadwError.INTERNAL(`executor worker crashed: ${err.message}`, err)) })
  worker.on('exit', code => { pooled.fail(ShadwError.INTERNAL(`executor worker exited with code ${code}`)) })
  return pooled
}

/**
 * Starts a pool of `size` worker threads.
 *
 * @example
 * ```ts
 * const executor = createNodeExecutor({ size: 2 })
 * const { output } = await executor.execute({ module, abi: 'wasi', input })
 * await executor.close()
 * ```
 */
export function createNodeExecutor (opts: NodeExecutorOptions): WorkerPool {
  const { warmUp, ...pool } = opts
  return new WorkerPool({ ...pool, spawn: (respawn) => spawnNodeWorker(warmUp === true && !respawn) })
}

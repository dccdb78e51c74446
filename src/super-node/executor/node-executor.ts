/**
 * The Node executor: a {@link WorkerPool} of worker_threads, for super nodes and `shadw run`.
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Worker } from 'node:worker_threads'
import { ShadwError } from '../../core/errors.ts'
import { WorkerPool, type PoolWorker, type WorkerPoolOptions, type WorkerRequest } from '../../core/sandbox/index.ts'
import { parseReplyMessage, READY_MESSAGE, type CallMessage } from './worker-protocol.ts'

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
export type NodeExecutorOptions = Omit<WorkerPoolOptions, 'spawn'>

class NodePoolWorker implements PoolWorker {
  dead = false
  readonly ready: Promise<void>
  private markReady: () => void = () => {}
  private readonly worker: Worker
  private readonly pending = new Map<number, { resolve (v: unknown): void, reject (e: unknown): void }>()
  private nextId = 0
  // calls sent in one tick (the pool pipelines several per worker) share one message
  private outbox: CallMessage[] = []

  constructor () {
    this.ready = new Promise(resolve => { this.markReady = resolve })
    this.worker = new Worker(BOOTSTRAP_URL)
    this.worker.on('message', (msg: unknown) => {
      if (msg === READY_MESSAGE) return this.markReady()
      let parsed
      try {
        parsed = parseReplyMessage(msg)
      } catch (err) {
        return this.fail(err)
      }
      const p = this.pending.get(parsed.id)
      if (p === undefined) return
      this.pending.delete(parsed.id)
      if (parsed.error !== undefined) p.reject(parsed.error)
      else p.resolve(parsed.reply)
    })
    this.worker.on('error', err => this.fail(ShadwError.INTERNAL(`executor worker crashed: ${err.message}`, err)))
    this.worker.on('exit', code => this.fail(ShadwError.INTERNAL(`executor worker exited with code ${code}`)))
  }

  private fail (err: unknown): void {
    this.dead = true
    for (const p of this.pending.values()) p.reject(err)
    this.pending.clear()
  }

  async call (req: WorkerRequest): Promise<unknown> {
    if (this.dead) throw ShadwError.INTERNAL('executor worker is dead')
    const id = this.nextId++
    return await new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.outbox.push({ id, req })
      if (this.outbox.length === 1) queueMicrotask(() => this.flush())
    })
  }

  private flush (): void {
    const batch = this.outbox
    this.outbox = []
    if (!this.dead && batch.length > 0) this.worker.postMessage(batch)
  }

  async terminate (): Promise<void> {
    this.dead = true
    this.pending.clear()
    await this.worker.terminate()
  }
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
  return new WorkerPool({ ...opts, spawn: () => new NodePoolWorker() })
}

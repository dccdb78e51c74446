/**
 * Test page for the browser executor: exposes the compliance runner and bench helpers on
 * `window.__sandbox`, driven by playwright through `page.evaluate`.
 */
import { createBrowserExecutor } from '../../../../src/browser/executor/index.ts'
import type { Executor } from '../../../../src/core/sandbox/index.ts'
import { measureOverhead, type KernelSpec } from '../../../../bench/sandbox-kernels.ts'
import { fromBase64, POOLS, runWireCalls, type PoolName, type WireCall } from '../../../compliance/executor-wire.ts'

const pools = new Map<PoolName, Executor>()

function pool (name: PoolName): Executor {
  let p = pools.get(name)
  if (p === undefined) {
    p = createBrowserExecutor(POOLS[name])
    pools.set(name, p)
  }
  return p
}

const api = {
  ready: true,
  run: async (name: PoolName, calls: WireCall[]) => await runWireCalls(pool(name), calls),
  /** Runs one call on an executor living inside a dedicated worker. */
  runInWorker: async (call: WireCall) => {
    const worker = new Worker(new URL('./nested.worker.ts', import.meta.url), { type: 'module' })
    try {
      return await new Promise<unknown>((resolve, reject) => {
        worker.addEventListener('message', ev => resolve(ev.data))
        worker.addEventListener('error', ev => reject(new Error(ev.message)))
        worker.postMessage(call)
      })
    } finally {
      worker.terminate()
    }
  },
  closeAll: async () => {
    for (const p of pools.values()) await p.close()
    pools.clear()
  },
  /** Metering overhead of one kernel in this page (see bench/sandbox-kernels.ts). */
  overhead: async (spec: { name: string, abi: 'raw' | 'wasi', module: string, input?: string, args?: string[] }, runs: number) => {
    const kernel: KernelSpec = { name: spec.name, abi: spec.abi, module: fromBase64(spec.module) }
    if (spec.input !== undefined) kernel.input = fromBase64(spec.input)
    if (spec.args !== undefined) kernel.args = spec.args
    return await measureOverhead(kernel, runs)
  },
  /** Warm trivial calls per second on a fresh pool of `size` workers. */
  throughput: async (moduleB64: string, size: number, calls: number, concurrency: number) => {
    const exec = createBrowserExecutor({ size, maxQueue: concurrency })
    const module = fromBase64(moduleB64)
    await Promise.all(Array.from({ length: size * 4 }, async () => await exec.execute({ module, abi: 'raw' })))
    let started = 0
    const t = performance.now()
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (started < calls) {
        started++
        await exec.execute({ module, abi: 'raw' })
      }
    }))
    const seconds = (performance.now() - t) / 1000
    await exec.close()
    return calls / seconds
  }
}

declare global {
  interface Window { __sandbox: typeof api }
}
window.__sandbox = api

/**
 * Test page for the browser executor: exposes the compliance runner and bench helpers on
 * `window.__sandbox`, driven by playwright through `page.evaluate`.
 */
import { createBrowserExecutor } from '../../../src/browser/executor/index.ts'
import type { Executor } from '../../../src/sandbox/index.ts'
import { instrumentModule } from '../../../src/sandbox/index.ts'
import { fromBase64, POOLS, runWireCalls, type PoolName, type WireCall } from '../../sandbox-compliance/wire.ts'

const pools = new Map<PoolName, Executor>()

function pool (name: PoolName): Executor {
  let p = pools.get(name)
  if (p === undefined) {
    p = createBrowserExecutor(POOLS[name])
    pools.set(name, p)
  }
  return p
}

/** Median of `runs` timings of `fn`, in ms. */
function median (runs: number, fn: () => void): number {
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const t = performance.now()
    fn()
    times.push(performance.now() - t)
  }
  times.sort((a, b) => a - b)
  return times[Math.floor(times.length / 2)] as number
}

const api = {
  ready: true,
  run: async (name: PoolName, calls: WireCall[]) => await runWireCalls(pool(name), calls),
  closeAll: async () => {
    for (const p of pools.values()) await p.close()
    pools.clear()
  },
  /**
   * Metering overhead of a raw-ABI kernel in this page: the same `run(ptr, len)` on the
   * original and the instrumented module, interleaved, median of `runs` each.
   */
  overhead: async (moduleB64: string, inputB64: string, runs: number) => {
    const bytes = fromBase64(moduleB64)
    const input = fromBase64(inputB64)
    const plain = await WebAssembly.instantiate(await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>), {})
    const metered = await WebAssembly.instantiate(await WebAssembly.compile(instrumentModule(bytes, 65536).bytes as Uint8Array<ArrayBuffer>), {})
    const go = (inst: WebAssembly.Instance): void => {
      const ex = inst.exports as Record<string, unknown>
      const fuel = ex['__shadw_fuel'] as WebAssembly.Global | undefined
      if (fuel !== undefined) fuel.value = 1n << 60n
      const ptr = (ex['alloc'] as (n: number) => number)(input.length)
      new Uint8Array((ex['memory'] as WebAssembly.Memory).buffer, ptr, input.length).set(input)
      ;(ex['run'] as (p: number, n: number) => bigint)(ptr, input.length)
    }
    go(plain); go(metered)
    const p: number[] = []
    const m: number[] = []
    for (let i = 0; i < runs; i++) {
      p.push(median(1, () => go(plain)))
      m.push(median(1, () => go(metered)))
    }
    p.sort((a, b) => a - b)
    m.sort((a, b) => a - b)
    return { plainMs: p[Math.floor(runs / 2)] as number, meteredMs: m[Math.floor(runs / 2)] as number }
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

/**
 * Isomorphic bench kernels for metering overhead: run a module's original bytes and its
 * instrumented bytes in this thread, interleaved, and report the median time of each.
 * Used by bench/sandbox.ts in Node and by the sandbox test page inside Chromium.
 */
import { createWasiContext, instrumentModule, FUEL_EXPORT, type InstrumentedModule } from '../src/core/sandbox/index.ts'

/** One kernel: a raw-ABI module fed `input`, or a WASI command run with `args`. */
export interface KernelSpec {
  name: string
  abi: 'raw' | 'wasi'
  module: Uint8Array
  input?: Uint8Array
  args?: string[]
}

/** Median ms of the plain and metered runs, and the fuel one metered run used. */
export interface OverheadResult { name: string, plainMs: number, meteredMs: number, ratio: number, fuel: number }

/** Memory cap of the metered side: the sandbox default (16 MiB) is ample for the kernels. */
const BENCH_MEMORY_PAGES = 256

type Runner = () => number

type MemoryImport = InstrumentedModule['importedMemory']

async function runner (bytes: Uint8Array, spec: KernelSpec, metered: boolean, memoryImport: MemoryImport): Promise<Runner> {
  const module = await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>)
  return () => {
    const wasi = spec.abi === 'wasi'
      ? createWasiContext({ args: spec.args ?? [], env: [], input: spec.input ?? new Uint8Array(0), seed: 0, maxOutputBytes: 1 << 20 })
      : undefined
    const imports: WebAssembly.Imports = wasi === undefined ? {} : { wasi_snapshot_preview1: wasi.imports as WebAssembly.ModuleImports }
    // the metered module imports the memory it used to define: a fresh one per run, as the
    // unmetered module allocates its own
    if (memoryImport !== undefined) imports[memoryImport.module] = { [memoryImport.name]: new WebAssembly.Memory({ initial: memoryImport.initial, maximum: memoryImport.maximum }) }
    const inst = new WebAssembly.Instance(module, imports)
    const ex = inst.exports as Record<string, unknown>
    const fuel = ex[FUEL_EXPORT] as WebAssembly.Global | undefined
    const budget = 1n << 60n
    if (metered && fuel !== undefined) fuel.value = budget
    const memory = ex['memory'] as WebAssembly.Memory
    if (wasi !== undefined) {
      wasi.start(memory, ex['_start'] as () => unknown)
    } else {
      const input = spec.input ?? new Uint8Array(0)
      const ptr = (ex['alloc'] as (n: number) => number)(input.length)
      new Uint8Array(memory.buffer, ptr, input.length).set(input)
      ;(ex['run'] as (p: number, n: number) => bigint)(ptr, input.length)
    }
    return fuel === undefined ? 0 : Number(budget - (fuel.value as bigint))
  }
}

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}

/** Runs the kernel `runs` times each way, alternating plain and metered. */
export async function measureOverhead (spec: KernelSpec, runs: number): Promise<OverheadResult> {
  const plain = await runner(spec.module, spec, false, undefined)
  const inst = instrumentModule(spec.module, BENCH_MEMORY_PAGES)
  const metered = await runner(inst.bytes, spec, true, inst.importedMemory)
  plain()
  const fuel = metered()
  const p: number[] = []
  const m: number[] = []
  for (let i = 0; i < runs; i++) {
    let t = performance.now()
    plain()
    p.push(performance.now() - t)
    t = performance.now()
    metered()
    m.push(performance.now() - t)
  }
  const plainMs = median(p)
  const meteredMs = median(m)
  return { name: spec.name, plainMs, meteredMs, ratio: meteredMs / plainMs, fuel }
}

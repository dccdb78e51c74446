/**
 * Sandbox benchmarks. Every figure is a ratio against a baseline measured in the same run
 * (these machines are noisy), printed and written to bench/results/sandbox.json:
 *
 * - metering overhead: metered / unmetered median time of three kernels (a tight integer
 *   loop in WAT, a SHA-256 hash kernel and a sieve program, both C built with clang -O2),
 *   in Node and inside headless Chromium; goal ≤ 1.3× median;
 * - metered WebAssembly vs the same C built natively (cc -O2), when a C compiler exists;
 * - warm pool throughput of a trivial raw call, Node worker_threads and browser Web Workers,
 *   rounds of the two alternated in one window; goal ≥ 20,000 calls/s on the Node pool and
 *   the browser pool ≥ 0.8× the Node pool.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { availableParallelism, tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { createNodeExecutor } from '../src/super-node/executor/index.ts'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/helpers/chromium-flags.ts'
import { PAGE_PATH, startSandboxServer } from '../test/browser/browser/executor/server.ts'
import { toBase64 } from '../test/compliance/executor-wire.ts'
import { cWasm, wat } from '../test/fixtures/wasm/fixtures.ts'
import { startWorkerProfiles } from './cpu-profile.ts'
import { measureOverhead, type KernelSpec, type OverheadResult } from './sandbox-kernels.ts'

/** Timed repetitions per kernel and side; the median absorbs scheduler noise. */
const RUNS = 15
/** Iterations of the tight loop: ~20 ms unmetered, long enough to time, short to repeat. */
const LOOP_ITERATIONS = 50_000_000
/** SHA-256 rounds over 64 KiB: ~4 MiB hashed per run. */
const SHA_ROUNDS = '64'
/** Sieve bound: ~2 MB of flags plus Collatz chains below a tenth of it. */
const SIEVE_N = '2000000'
/** Trivial calls timed per pool and round, after a warm-up. */
const POOL_CALLS = 20_000
/** Rounds of the pool comparison, Node and browser alternated, so both see the same load. */
const POOL_ROUNDS = 3
/** Calls kept in flight: enough to keep every worker fed between round trips. */
const POOL_CONCURRENCY = 64
const PROFILE_DIR = process.env['BENCH_CPU_PROF']
const C_DIR = new URL('../test/fixtures/wasm/c/', import.meta.url).pathname
const RESULTS = new URL('./results/sandbox.json', import.meta.url)

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[mid] as number : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits

async function kernels (): Promise<KernelSpec[]> {
  const n = new Uint8Array(4)
  new DataView(n.buffer).setUint32(0, LOOP_ITERATIONS, true)
  return [
    { name: 'tight-loop (wat)', abi: 'raw', module: await wat('count'), input: n },
    { name: 'sha256 (c -O2)', abi: 'wasi', module: cWasm('sha256'), args: [SHA_ROUNDS] },
    { name: 'sieve (c -O2)', abi: 'wasi', module: cWasm('sieve'), args: [SIEVE_N] }
  ]
}

function printOverhead (where: string, rows: OverheadResult[]): number {
  console.log(`\nmetering overhead, ${where} (median of ${RUNS}, metered / unmetered)`)
  for (const r of rows) console.log(`  ${r.name.padEnd(20)} ${r.plainMs.toFixed(2).padStart(8)} ms  ${r.meteredMs.toFixed(2).padStart(8)} ms  ${r.ratio.toFixed(3)}×  fuel ${r.fuel}`)
  const m = median(rows.map(r => r.ratio))
  console.log(`  median ratio ${m.toFixed(3)}× (goal ≤ 1.3×)`)
  return m
}

/**
 * Metered wasm (in-process, warm) vs the same C program built natively. The native program
 * runs as a process, so its median time with a near-empty workload (process start, page
 * faults) is measured too and subtracted.
 */
async function nativeComparison (): Promise<Array<Record<string, unknown>> | { skipped: string }> {
  const cc = ['cc', 'gcc', 'clang'].find(c => spawnSync(c, ['--version']).status === 0)
  if (cc === undefined) return { skipped: 'no native C compiler' }
  const dir = mkdtempSync(join(tmpdir(), 'shadw-bench-'))
  try {
    const rows: Array<Record<string, unknown>> = []
    for (const [name, args, empty] of [['sha256', [SHA_ROUNDS], ['0']], ['sieve', [SIEVE_N], ['10']]] as const) {
      const exe = join(dir, name)
      execFileSync(cc, ['-O2', '-o', exe, join(C_DIR, `${name}.c`)])
      const time = (a: readonly string[]): { ms: number, out: string } => {
        const t = performance.now()
        const out = execFileSync(exe, [...a]).toString()
        return { ms: performance.now() - t, out }
      }
      const full: number[] = []
      const start: number[] = []
      let nativeOut = ''
      for (let i = 0; i < RUNS; i++) {
        const r = time(args)
        nativeOut = r.out
        full.push(r.ms)
        start.push(time(empty).ms)
      }
      const wasm = await measureOverhead({ name, abi: 'wasi', module: cWasm(name), args: [...args] }, RUNS)
      const nativeMs = Math.max(0.001, median(full) - median(start))
      rows.push({
        kernel: name,
        compiler: cc,
        nativeMs: round(nativeMs),
        processStartMs: round(median(start)),
        meteredWasmMs: round(wasm.meteredMs),
        ratio: round(wasm.meteredMs / nativeMs),
        nativeOutput: nativeOut.trim()
      })
    }
    console.log('\nmetered wasm vs native C -O2 (native: median run minus median process start)')
    for (const r of rows) console.log(`  ${String(r['kernel']).padEnd(20)} native ${String(r['nativeMs']).padStart(8)} ms  metered wasm ${String(r['meteredWasmMs']).padStart(8)} ms  ${String(r['ratio'])}×`)
    return rows
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

async function nodeThroughput (module: Uint8Array, size: number): Promise<number> {
  const exec = createNodeExecutor({ size, maxQueue: POOL_CONCURRENCY })
  try {
    await Promise.all(Array.from({ length: POOL_CONCURRENCY }, async () => await exec.execute({ module, abi: 'raw' })))
    let started = 0
    const t = performance.now()
    await Promise.all(Array.from({ length: POOL_CONCURRENCY }, async () => {
      while (started < POOL_CALLS) {
        started++
        await exec.execute({ module, abi: 'raw' })
      }
    }))
    return POOL_CALLS / ((performance.now() - t) / 1000)
  } finally {
    await exec.close()
  }
}

/** Pool figures of the alternated rounds, calls/s; each pool's figure is its median. */
interface PoolRounds { node: number[], browser: number[] }

async function browserBench (specs: KernelSpec[], trivial: Uint8Array, size: number, nodeRound: () => Promise<number>): Promise<{ overhead: OverheadResult[], pools: PoolRounds }> {
  const { server, url } = await startSandboxServer()
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS })
  try {
    const page = await browser.newPage()
    // BENCH_CPU_PROF=<dir>: CPU profiles of the page and its pool's workers over the pool rounds
    const cdp = PROFILE_DIR === undefined ? null : await page.context().newCDPSession(page)
    const workers = cdp === null ? null : await startWorkerProfiles(cdp)
    await page.goto(url + PAGE_PATH)
    await page.waitForFunction(() => window.__sandbox?.ready === true)
    await cdp?.send('Profiler.enable')
    await cdp?.send('Profiler.start')
    // throughput first: the overhead runs leave many instances for the page's GC, and their
    // address-space reservations are shared with the workers of the same renderer process
    // the Node pool alternates with the browser's, round by round: the ratio is of one window
    const pools: PoolRounds = { node: [], browser: [] }
    for (let r = 0; r < POOL_ROUNDS; r++) {
      pools.node.push(await nodeRound())
      pools.browser.push(await page.evaluate(async ([m, n, calls, conc]) => await window.__sandbox.throughput(m, n, calls, conc), [toBase64(trivial), size, POOL_CALLS, POOL_CONCURRENCY] as const))
    }
    if (cdp !== null && PROFILE_DIR !== undefined) {
      const { profile } = await cdp.send('Profiler.stop')
      mkdirSync(PROFILE_DIR, { recursive: true })
      writeFileSync(join(PROFILE_DIR, `pool-page-${Date.now()}.cpuprofile`), JSON.stringify(profile))
      await workers?.stop(PROFILE_DIR)
    }
    const overhead: OverheadResult[] = []
    for (const s of specs) {
      const wire = { name: s.name, abi: s.abi, module: toBase64(s.module), input: s.input === undefined ? undefined : toBase64(s.input), args: s.args }
      overhead.push(await page.evaluate(async ([k, runs]) => await window.__sandbox.overhead(k, runs), [wire, RUNS] as const))
    }
    return { overhead, pools }
  } finally {
    await browser.close()
    await server.close()
  }
}

/** Runs every sandbox benchmark, prints ratios and writes bench/results/sandbox.json. */
export async function runSandboxBench (): Promise<void> {
  const specs = await kernels()
  const trivial = await wat('trivial')
  const poolSize = Math.max(1, Math.min(2, availableParallelism()))
  console.log(`sandbox bench: ${availableParallelism()} cores, pools of ${poolSize}`)

  const nodeOverhead: OverheadResult[] = []
  for (const s of specs) nodeOverhead.push(await measureOverhead(s, RUNS))
  const nodeMedian = printOverhead('Node', nodeOverhead)

  const native = await nativeComparison()

  const nodeRounds: number[] = []
  const nodeRound = async (): Promise<number> => { const x = await nodeThroughput(trivial, poolSize); nodeRounds.push(x); return x }
  let browser: Awaited<ReturnType<typeof browserBench>> | { skipped: string }
  try {
    browser = await browserBench(specs, trivial, poolSize, nodeRound)
    printOverhead('Chromium', browser.overhead)
  } catch (err) {
    browser = { skipped: `Chromium unavailable: ${(err as Error).message.split('\n')[0] ?? ''}` }
    console.log(`\nbrowser bench skipped: ${browser.skipped}`)
  }
  // without a browser the Node pool is still measured, alone
  while (nodeRounds.length < POOL_ROUNDS) await nodeRound()
  const nodeCalls = median(nodeRounds)
  console.log(`\nNode pool (${poolSize} worker threads): ${Math.round(nodeCalls)} trivial calls/s, median of ${nodeRounds.map(Math.round).join(', ')} (goal ≥ 20,000)`)
  const browserCalls = 'skipped' in browser ? null : median(browser.pools.browser)
  if (browserCalls !== null && !('skipped' in browser)) console.log(`browser pool (${poolSize} Web Workers, rounds alternated with the Node pool's): ${Math.round(browserCalls)} trivial calls/s, median of ${browser.pools.browser.map(Math.round).join(', ')}; ${round(browserCalls / nodeCalls, 2)}× the Node pool (goal ≥ 0.8×)`)

  const overheadRow = (r: OverheadResult): Record<string, unknown> => ({ kernel: r.name, unmeteredMs: round(r.plainMs), meteredMs: round(r.meteredMs), ratio: round(r.ratio), fuel: r.fuel })
  const result = {
    date: new Date().toISOString(),
    cores: availableParallelism(),
    runs: RUNS,
    meteringOverhead: {
      goal: '<= 1.3x median',
      node: { kernels: nodeOverhead.map(overheadRow), medianRatio: round(nodeMedian) },
      chromium: 'skipped' in browser
        ? browser
        : { kernels: browser.overhead.map(overheadRow), medianRatio: round(median(browser.overhead.map(r => r.ratio))) }
    },
    meteredWasmVsNative: native,
    poolThroughput: {
      goal: '>= 20000 trivial calls/s on the Node pool',
      poolSize,
      rounds: POOL_ROUNDS,
      callsPerRound: POOL_CALLS,
      nodeCallsPerSecond: Math.round(nodeCalls),
      nodeRounds: nodeRounds.map(Math.round),
      browserCallsPerSecond: browserCalls === null ? browser : Math.round(browserCalls),
      browserRounds: 'skipped' in browser ? null : browser.pools.browser.map(Math.round),
      browserOverNode: browserCalls === null ? null : round(browserCalls / nodeCalls, 3)
    }
  }
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
  writeFileSync(RESULTS, JSON.stringify(result, null, 2) + '\n')
  console.log(`\nwrote ${RESULTS.pathname}`)
}

/** The pool comparison alone (no kernels), for A/B runs: prints each round, returns the medians. */
export async function runPoolComparison (): Promise<{ node: number, browser: number, ratio: number }> {
  const trivial = await wat('trivial')
  const poolSize = Math.max(1, Math.min(2, availableParallelism()))
  const nodeRounds: number[] = []
  const { pools } = await browserBench([], trivial, poolSize, async () => { const x = await nodeThroughput(trivial, poolSize); nodeRounds.push(x); return x })
  const node = median(nodeRounds)
  const browser = median(pools.browser)
  console.log(`pools: Node ${nodeRounds.map(Math.round).join(', ')}; browser ${pools.browser.map(Math.round).join(', ')}; browser/Node ${round(browser / node, 3)}`)
  return { node, browser, ratio: browser / node }
}

/**
 * Invocation benchmark, Node side: an executor node (a real worker_threads pool, a real ledger
 * Hypercore, real receipts) in this process and a tenant node in a child process
 * (bench/invocation-tenant.ts), on an in-process HyperDHT on 127.0.0.1, one swarm connection
 * between them. Printed and written to bench/results/invocation.json.
 *
 * - warm latency: one call at a time of a trivial raw-ABI echo (16-byte input), after a
 *   warm-up, p50/p99; the baseline is a raw round trip (16 bytes out, 16 back) on a Protomux
 *   channel of the same connection, measured in the same run (bench/ping-channel.ts): the
 *   ratio is what invocation adds (request validation, replay and access checks, the
 *   sandbox run, hashing, the receipt signature, the receipt check at the caller); one call
 *   at a time, so every receipt is a batch of one with its own signature and its own ledger
 *   append (pipelined: the result leaves while its block is written, see ledger-writer.ts);
 * - throughput: calls kept in flight from the tenant for a fixed time, counted when the
 *   tenant has checked the receipt. Every call runs a fresh instance with fuel metering and
 *   gets its own receipt and ledger block; receipts finished together are signed together
 *   (one signature over their Merkle root, each receipt carrying its proof) and appended
 *   together (group commit), and the tenant checks each receipt's proof and the batch
 *   signature once per batch. Three rounds; before each, with the tenant waiting, the raw
 *   worker pool (its own two worker threads, the same echo) is measured in this process,
 *   so the ratio of the two is of one window.
 *
 * The pool runs small raw-ABI calls on the node's own thread while no worker has work
 * (src/sandbox/inline-runner.ts), as `shadw start` does: sequential calls run there, calls
 * under load in the worker.
 */
import { fork, type ChildProcess } from 'node:child_process'
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { availableParallelism, cpus, platform, release } from 'node:os'
import b4a from 'b4a'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import createTestnet from 'hyperdht/testnet'
import crypto from 'hypercore-crypto'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { ShadwNode } from '../src/core/node/shadw-node.ts'
import { InvokeEndpoint, InvokeService } from '../src/core/invoke/index.ts'
import { createNodeExecutor } from '../src/super-node/executor/index.ts'
import { createPublisherKeyPair, FunctionLoader, Registry } from '../src/core/registry/index.ts'
import { compileWat } from '../test/fixtures/wasm/fixtures.ts'
import { formatStages, runBrowserInvocationBench } from './invocation-browser.ts'
import { coldModule } from './invocation-cold.ts'
import type { TenantMark, TenantReply, TenantResult, TenantResume, TenantTask } from './invocation-tenant.ts'
import { startWriterProfile } from './cpu-profile.ts'
import { pingServer } from './ping-channel.ts'
import { threadDelta, threadTimes, type ThreadTimes } from './thread-cpu.ts'

/** Sequential calls (and raw round trips) measured, after {@link WARMUP}: enough for a stable p99. BENCH_INVOKE_SAMPLES overrides. */
const SAMPLES = Number(process.env['BENCH_INVOKE_SAMPLES'] ?? 3_000)
/**
 * Calls before the measured ones (BENCH_INVOKE_WARMUP overrides): enough for V8 to have
 * optimised the call path in both processes. With 300, both were still compiling through
 * the sequential phase (V8's compiler threads ~100-170 µs per call, and the main threads
 * running baseline code), which the "warm" figures then counted.
 */
const WARMUP = Number(process.env['BENCH_INVOKE_WARMUP'] ?? 2_000)
/** Calls kept in flight for throughput: enough to keep every worker's pipeline full, within one peer's share of an executor (MAX_SERVING_PER_PEER). */
const CONCURRENCY = 128
/** How long throughput is measured, per round. */
const THROUGHPUT_MS = 2_000
/** Throughput rounds; before each, the raw worker pool is measured in this process, so the ratio is of one window. */
const ROUNDS = 3
/** The raw pool's round: calls, kept in flight as the sandbox bench does. */
const POOL_CALLS = 20_000
const POOL_CONCURRENCY = 64
/** Executor slots: above CONCURRENCY so the bench measures work, not BUSY refusals. */
const SLOTS = 256
/** Bound on the whole tenant run (discovery, both measurements, shutdown). */
const TENANT_TIMEOUT_MS = 120_000
/** Bound on the tenant's own shutdown after its result. */
const TENANT_EXIT_MS = 15_000
/** Size of the cold-start modules, and how many: the first is the fresh tenant's first call. */
const COLD_BYTES = 100 * 1024
const COLD_MODULES = 5
const TENANT = new URL('./invocation-tenant.ts', import.meta.url)
const RESULTS = new URL('./results/invocation.json', import.meta.url)

const ECHO = `(module (memory (export "memory") 1) (global $next (mut i32) (i32.const 1024))
  (func (export "alloc") (param $len i32) (result i32) (local $p i32) (local.set $p (global.get $next)) (global.set $next (i32.add (global.get $next) (local.get $len))) (local.get $p))
  (func (export "run") (param $ptr i32) (param $len i32) (result i64) (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len)))))`

const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits
function pct (sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number
}

async function node (bootstrap: Array<{ host: string, port: number }>, tier: 'super' | 'light'): Promise<{ node: ShadwNode, store: Corestore, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }, close (): Promise<void> }> {
  const keyPair = crypto.keyPair()
  // every node here is reachable on loopback; one left to guess calls itself firewalled, and
  // a peer then holepunches instead of dialling it (a half-open stall, or no connection at all)
  const dht = new HyperDHT({ bootstrap, host: '127.0.0.1', firewalled: false })
  const store = new Corestore(RAM.reusable())
  const n = new ShadwNode({ swarm: new Hyperswarm({ dht, keyPair }), store, tier })
  await n.start()
  return { node: n, store, keyPair, close: async () => { await n.stop(); await dht.destroy() } }
}

/**
 * This process's CPU time (the executor's side: node thread and workers) in the tenant's
 * measured phases, µs: sequential calls, and the throughput rounds summed (the raw pool's
 * rounds in between are left out).
 */
interface ExecutorCpu { raw?: number, sequential?: number, throughput?: number, threads?: { sequential?: Record<string, number>, throughput: Record<string, number> } }

/** Runs between the tenant's throughput rounds; resolves once done (the tenant then resumes). */
type BetweenRounds = () => Promise<void>

/**
 * BENCH_CPU_PROF=<dir>: CPU profiles of each measured phase (sequential calls, calls under
 * load) of both processes' main threads, written to <dir> (executor-*, tenant-*)
 */
const PROFILE_DIR = process.env['BENCH_CPU_PROF']
/** BENCH_PHASE_FILE=<file>: each phase mark appended as `<phase> <executor pid> <tenant pid>`, for an outside profiler (perf) to follow */
const PHASE_FILE = process.env['BENCH_PHASE_FILE']

/** Profiles this process's thread between the tenant's marks, when {@link PROFILE_DIR} is set. */
function phaseProfiles (): { mark: (phase: TenantMark['phase']) => void, done: () => Promise<void> } {
  let running: Promise<{ stop: (dir: string) => Promise<void> } | null> = Promise.resolve(null)
  const next = (phase: TenantMark['phase']): void => {
    if (PROFILE_DIR === undefined) return
    running = running.then(async (p) => {
      await p?.stop(PROFILE_DIR)
      return phase === 'sequential' || phase === 'throughput' ? await startWriterProfile(`executor-${phase}`) : null
    })
  }
  return { mark: next, done: async () => { next('end'); await running } }
}

/** Runs the tenant child against the executor; resolves to its measurements. */
async function runTenant (task: TenantTask, cpu: ExecutorCpu = {}, between: BetweenRounds = async () => {}): Promise<TenantResult> {
  let since = process.cpuUsage()
  let threadsSince: ThreadTimes = threadTimes()
  const threadsUsed = (): Record<string, number> => threadDelta(threadsSince, threadTimes(), 1)
  const used = (): number => { const u = process.cpuUsage(since); return u.user + u.system }
  const profile = phaseProfiles()
  const child: ChildProcess = fork(TENANT, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    const reply = await new Promise<TenantReply>((resolve, reject) => {
      timer = setTimeout(() => { reject(new Error(`the tenant gave no result within ${TENANT_TIMEOUT_MS} ms`)) }, TENANT_TIMEOUT_MS)
      child.on('message', (msg: TenantReply | TenantMark) => {
        if (msg.type === 'mark') {
          profile.mark(msg.phase)
          if (PHASE_FILE !== undefined) appendFileSync(PHASE_FILE, `${msg.phase} ${process.pid} ${String(child.pid)}\n`)
          if (msg.phase === 'warmup') cpu.raw = used()
          if (msg.phase === 'throughput' && cpu.sequential === undefined) { cpu.sequential = used(); (cpu.threads ??= { throughput: {} }).sequential = threadsUsed() }
          if (msg.phase === 'pause' || msg.phase === 'end') {
            cpu.throughput = (cpu.throughput ?? 0) + used()
            const sum = (cpu.threads ??= { throughput: {} }).throughput
            for (const [name, us] of Object.entries(threadsUsed())) sum[name] = (sum[name] ?? 0) + us
          }
          if (msg.phase === 'raw' || msg.phase === 'sequential' || msg.phase === 'throughput') { since = process.cpuUsage(); threadsSince = threadTimes() }
          if (msg.phase === 'pause') {
            between().then(() => { child.send({ type: 'resume' } satisfies TenantResume) }, reject)
          }
        } else resolve(msg)
      })
      child.once('error', reject)
      child.once('exit', code => { reject(new Error(`the tenant exited (code ${String(code)}) without a result`)) })
      child.send(task)
    })
    if (reply.type === 'error') throw new Error(`tenant: ${reply.message}`)
    return reply.result
  } finally {
    clearTimeout(timer)
    await profile.done().catch(() => {})
    // the tenant stops its node and exits by itself; a wedged one is killed after a bound
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise(resolve => child.once('exit', resolve))
      const kill = setTimeout(() => { child.kill() }, TENANT_EXIT_MS)
      await exited
      clearTimeout(kill)
    }
  }
}

/** Workers of the raw pool: as the sandbox bench's Node pool. */
const POOL_SIZE = Math.max(1, Math.min(2, availableParallelism()))

/** One round of the raw pool: calls/s of {@link POOL_CALLS} echo calls, {@link POOL_CONCURRENCY} in flight. */
async function rawPoolRound (pool: ReturnType<typeof createNodeExecutor>, module: Uint8Array, input: Uint8Array): Promise<number> {
  await Promise.all(Array.from({ length: POOL_CONCURRENCY }, async () => await pool.execute({ module, abi: 'raw', input })))
  let started = 0
  const t = performance.now()
  await Promise.all(Array.from({ length: POOL_CONCURRENCY }, async () => {
    while (started < POOL_CALLS) {
      started++
      await pool.execute({ module, abi: 'raw', input })
    }
  }))
  return POOL_CALLS / ((performance.now() - t) / 1000)
}

/** Runs the benchmark; prints and writes bench/results/invocation.json. */
export async function runInvocationBench (opts: { browser?: boolean } = {}): Promise<void> {
  const net = await createTestnet(3, { host: '127.0.0.1' })
  const workers = Math.max(1, cpus().length - 1)
  // the pool queues what the service admits: a call it refused would come back as BUSY
  const executor = createNodeExecutor({ size: workers, inline: true, maxQueue: SLOTS })
  const closers: Array<() => Promise<void>> = []
  try {
    const exec = await node(net.bootstrap, 'super')
    closers.push(exec.close)
    const registry = await Registry.create(exec.store, createPublisherKeyPair())
    closers.push(() => registry.close())
    await registry.publish(await compileWat(ECHO), { name: 'echo', version: '1.0.0' })
    const ref = `${registry.key}/echo@1.0.0`
    // built before the clock starts; published just before the tenant starts, never called
    const coldBytes = await Promise.all(Array.from({ length: COLD_MODULES + 1 }, async (_, i) => await coldModule(COLD_BYTES, i + 1)))
    const cold: string[] = []
    for (const [i, bytes] of coldBytes.entries()) {
      await registry.publish(bytes, { name: `cold-${i}`, version: '1.0.0' })
      cold.push(`${registry.key}/cold-${i}@1.0.0`)
    }
    // a super node has served calls before a new tenant comes: a first tenant process warms
    // the executor (its first call, of a new module, is the cold executor's figure)
    const opener = cold.pop() as string
    const ledger = await exec.node.createLog('ledger')
    const loader = new FunctionLoader({ host: exec.node })
    closers.push(() => loader.close())
    const service = new InvokeService({ executor, functions: loader, keyPair: exec.keyPair, slots: SLOTS, ledger: { key: b4a.from(ledger.key, 'hex'), append: async (blocks) => await exec.node.append(ledger.key, blocks) } })
    const serving = new InvokeEndpoint({ host: exec.node, tier: 'super', service })
    serving.start()
    closers.push(async () => { serving.stop() })
    // the baseline's echo side, on every connection (the tenant's included)
    exec.node.on('connection', (conn) => { pingServer(conn) })
    for (const [conn] of exec.node.connections()) pingServer(conn)

    const first = await runTenant({ type: 'run', bootstrap: net.bootstrap, ref, executor: exec.node.publicKey, warmup: 50, samples: 50, concurrency: 1, throughputMs: 0, timeoutMs: 30_000, cold: [opener] })

    const cpu: ExecutorCpu = {}
    // the raw pool (as the sandbox bench runs it: its own workers, no inline runs, the same
    // echo and input) is measured before each throughput round, the tenant paused
    const pool = createNodeExecutor({ size: POOL_SIZE, maxQueue: POOL_CONCURRENCY })
    closers.push(async () => { await pool.close() })
    const echo = await compileWat(ECHO)
    const poolInput = new Uint8Array(16).fill(7)
    const poolRounds: number[] = []
    const poolRound = async (): Promise<void> => { poolRounds.push(await rawPoolRound(pool, echo, poolInput)) }
    await poolRound()
    const t = await runTenant({ type: 'run', bootstrap: net.bootstrap, ref, executor: exec.node.publicKey, warmup: WARMUP, samples: SAMPLES, concurrency: CONCURRENCY, throughputMs: THROUGHPUT_MS, rounds: ROUNDS, timeoutMs: 30_000, cold }, cpu, poolRound)
    const perCall = (us: number | undefined, n: number): number | null => us === undefined ? null : Math.round(us / Math.max(1, n) * 10) / 10
    const sortedPool = [...poolRounds].sort((a, b) => a - b)
    const poolMedian = sortedPool[Math.floor(sortedPool.length / 2)] as number
    const invokeRounds = [...t.perRound].sort((a, b) => a - b)
    const invokeMedian = invokeRounds[Math.floor(invokeRounds.length / 2)] as number
    const inline = executor.inline?.ran ?? 0
    const result = {
      date: new Date().toISOString(),
      machine: { cores: cpus().length, cpu: cpus()[0]?.model, platform: `${platform()} ${release()}`, node: process.version },
      setup: { workers, slots: SLOTS, function: 'raw-ABI echo, 16-byte input', transport: 'one UDX swarm connection on 127.0.0.1 between two processes (tenant, executor)' },
      warmLatency: {
        calls: SAMPLES,
        invokeMs: { p50: round(pct(t.invoke, 0.5)), p99: round(pct(t.invoke, 0.99)) },
        rawRoundTripMs: { p50: round(pct(t.raw, 0.5)), p99: round(pct(t.raw, 0.99)) },
        ratioP50: round(pct(t.invoke, 0.5) / pct(t.raw, 0.5), 2),
        cpuUsPerCall: { tenant: t.cpuUsPerCall.sequential, executor: perCall(cpu.sequential, SAMPLES) },
        cpuUsPerRawRoundTrip: { tenant: t.cpuUsPerRawRoundTrip, executor: perCall(cpu.raw, SAMPLES) },
        goal: 'ratio <= 3'
      },
      coldStart: t.cold === undefined
        ? null
        : {
            moduleBytes: coldBytes[0]?.length,
            discoverMs: round(t.cold.discoverMs),
            firstCallMs: round(t.cold.firstCallMs),
            coldExecutorFirstCallMs: first.cold === undefined ? null : round(first.cold.firstCallMs),
            newModuleMs: t.cold.newModuleMs.map(x => round(x)),
            newModuleMedianMs: round([...t.cold.newModuleMs].sort((a, b) => a - b)[Math.floor(t.cold.newModuleMs.length / 2)] ?? NaN),
            cachedMs: { p50: round(pct(t.cold.cachedMs, 0.5)), max: round(t.cold.cachedMs.at(-1) ?? NaN) },
            goal: 'firstCallMs <= 150',
            what: 'after a first tenant process warmed the executor (coldExecutorFirstCallMs: that tenant\'s first call, the executor\'s first since it started), a fresh tenant process, connected to the executor (discoverMs: node start to connection), calls a module published a moment before that no one has called: the executor finds it in the registry (held in its own store here, so fetching is local), verifies the publisher signature and content hash, validates, checks the ABI, instruments for fuel and compiles it, runs it, signs and appends the receipt; the tenant checks the receipt. newModuleMs: first calls of further new modules from the then-warm tenant; cachedMs: the first module called again'
          },
      throughput: {
        concurrency: CONCURRENCY,
        seconds: round(t.seconds, 2),
        completed: t.completed,
        failed: t.failed,
        failures: t.failures,
        perSecond: Math.round(t.completed / t.seconds),
        rounds: t.perRound,
        rawPool: { workers: POOL_SIZE, inFlight: POOL_CONCURRENCY, callsPerRound: POOL_CALLS, rounds: poolRounds.map(Math.round), perSecond: Math.round(poolMedian), what: 'the raw Node worker pool (its own worker threads, no inline runs) running the same echo, measured in this process before each throughput round while the tenant waits' },
        overPool: round(invokeMedian / poolMedian, 3),
        cpuUsPerCall: { tenant: t.cpuUsPerCall.throughput, executor: perCall(cpu.throughput, t.completed + t.failed) },
        goal: '>= 10,000/s through one super node',
        callsRunInline: inline,
        accounting: 'every call is a full invocation: its own request frame, a fresh sandbox instance with fuel metering (in the worker pool, or on the node thread while the pool is idle: callsRunInline), SHA-256 of input and output, its own receipt (inclusion proof in a batch-signed Merkle root: one ed25519 signature per group commit) and its own ledger Hypercore block (one append per group commit), its receipt proof checked at the tenant (the batch signature verified once per batch); worker messages carry several calls'
      }
    }
    console.log(`warm latency: invoke p50 ${result.warmLatency.invokeMs.p50} ms, p99 ${result.warmLatency.invokeMs.p99} ms; raw round trip p50 ${result.warmLatency.rawRoundTripMs.p50} ms; ratio ${result.warmLatency.ratioP50}x (goal <= 3x)`)
    if (result.coldStart !== null) console.log(`cold start (${result.coldStart.moduleBytes} B module): fresh tenant's first call ${result.coldStart.firstCallMs} ms (goal <= 150), new module from a warm tenant median ${result.coldStart.newModuleMedianMs} ms, same module again p50 ${result.coldStart.cachedMs.p50} ms; an executor's very first call ${String(result.coldStart.coldExecutorFirstCallMs)} ms; discovery ${result.coldStart.discoverMs} ms`)
    console.log(`CPU per call (tenant + executor, us): sequential ${result.warmLatency.cpuUsPerCall.tenant} + ${String(result.warmLatency.cpuUsPerCall.executor)} (a raw round trip: ${result.warmLatency.cpuUsPerRawRoundTrip.tenant} + ${String(result.warmLatency.cpuUsPerRawRoundTrip.executor)}), under load ${result.throughput.cpuUsPerCall.tenant} + ${String(result.throughput.cpuUsPerCall.executor)}`)
    const perThread = (r: Record<string, number> | undefined, n: number): string => Object.entries(r ?? {}).map(([name, us]) => `${name} ${round(us / Math.max(1, n), 1)}`).join(', ')
    console.log(`CPU per call by thread, sequential: tenant ${perThread(t.threadUsPerCall?.sequential, 1)}; executor ${perThread(cpu.threads?.sequential, SAMPLES)}`)
    console.log(`CPU per call by thread, under load: tenant ${perThread(t.threadUsPerCall?.throughput, 1)}; executor ${perThread(cpu.threads?.throughput, t.completed + t.failed)}`)
    console.log(`throughput: ${result.throughput.perSecond} invocations/s (${t.completed} in ${result.throughput.seconds} s, ${t.failed} failed, ${CONCURRENCY} in flight, ${workers} worker(s), ${inline} calls of the whole run on the node thread)`)
    console.log(`throughput vs the raw pool, rounds alternated: invoke ${t.perRound.join(', ')}/s; raw pool (${POOL_SIZE} workers) ${poolRounds.map(Math.round).join(', ')}/s; median over median ${result.throughput.overPool} (goal >= 0.7)`)
    for (const close of closers.reverse()) await close().catch(() => {})
    closers.length = 0
    const browser = opts.browser === false ? null : await runBrowserInvocationBench()
    if (browser !== null) console.log(`browser tenant -> browser executor (relayed): invoke p50 ${browser.invoke.p50} ms, p99 ${browser.invoke.p99} ms; block round trip between the same nodes p50 ${browser.blockRoundTrip.p50} ms (ratio ${browser.ratioToBlockRoundTrip}x); page -> node worker bridge p50 ${browser.bridgeRoundTrip.p50} ms`)
    if (browser?.overLink != null) console.log(`browser tenant -> browser executor over their WebRTC link (relay stopped): invoke p50 ${browser.overLink.invoke.p50} ms, p99 ${browser.overLink.invoke.p99} ms; raw data channel between the same pages: 16 B round trip p50 ${browser.overLink.rawDataChannel.rttMedianMs.toFixed(3)} ms; echo run ${browser.overLink.echoRunMs} ms; (p50 - run) / dc rtt ${browser.overLink.p50OverDcRtt}x (goal <= 3)`)
    if (browser !== null) console.log(`cold start on a contributor tab (${browser.cold.moduleBytes} B module): fresh tenant tab's first call ${browser.cold.firstCallMs} ms (goal <= 150), again ${browser.cold.cachedMs.join(', ')} ms, after the contributor tab reloaded ${browser.cold.afterReloadMs} ms`)
    if (browser !== null) {
      console.log(`  stages of the first call (ms from the tenant page's call):\n${formatStages(browser.cold.stages.first)}`)
      console.log(`  stages of the second call:\n${formatStages(browser.cold.stages.cached[0] ?? [])}`)
      console.log(`  stages of the last repeat:\n${formatStages(browser.cold.stages.cached.at(-1) ?? [])}`)
      console.log(`  stages of the call after the reload (the reloaded tab found after ${browser.cold.afterReloadFoundMs} ms):\n${formatStages(browser.cold.stages.afterReload)}`)
    }
    if (browser !== null) Object.assign(result, { browserToBrowser: { ...browser, path: 'tenant page -> its node worker -> relay -> contributor node worker -> executor Web Worker, and back; super-node execution off; overLink: a second tenant tab over its WebRTC link to the contributor, relay stopped' } })
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
    writeFileSync(RESULTS, JSON.stringify(result, null, 2) + '\n')
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {})
    await executor.close()
    await net.destroy()
  }
}

/**
 * The tenant of the invocation bench, run as a child process by bench/invocation.ts: a node
 * of its own that calls the executor over one swarm connection on 127.0.0.1. A process of
 * its own because a tenant is another machine: in the executor's process, both ends would
 * share one event loop and one core, the raw round trip would never leave that loop, and
 * the executor's throughput would be charged the tenant's work (its request encoding,
 * decryption and receipt checks).
 *
 * Protocol (IPC): the parent sends one {@link TenantTask}; the child answers one
 * {@link TenantReply}, stops its node and exits.
 */
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import crypto from 'hypercore-crypto'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { ShadwNode } from '../src/core/node/shadw-node.ts'
import { InvokeEndpoint } from '../src/core/invoke/index.ts'
import { startWriterProfile } from './cpu-profile.ts'
import { pingClient } from './ping-channel.ts'
import { threadDelta, threadTimes } from './thread-cpu.ts'

export interface TenantTask {
  type: 'run'
  bootstrap: Array<{ host: string, port: number }>
  /** the function called, `<publisher>/<name>@<version>` */
  ref: string
  /** the executor's node key, hex */
  executor: string
  warmup: number
  /** raw round trips and sequential calls measured */
  samples: number
  /** calls kept in flight, and for how long in each round, for throughput */
  concurrency: number
  throughputMs: number
  /**
   * Throughput rounds (default 1); between two, the tenant pauses (a `pause` mark) until the
   * parent says `resume`, so the parent can measure its raw worker pool in the same window
   */
  rounds?: number
  /** bound on finding the executor */
  timeoutMs: number
  /**
   * Newly published modules no one has called, each `<publisher>/<name>@<version>`: the
   * first is this fresh tenant's very first call, the others first calls of a new module
   * from a warm tenant; then the first again, compiled by now.
   */
  cold?: string[]
}

export interface ColdResult {
  /** node start to a connection with the executor (DHT lookup, handshake), ms */
  discoverMs: number
  /** the fresh tenant's first call, of a module published a moment ago, ms */
  firstCallMs: number
  /** first calls of other new modules, once this tenant is warm, ms */
  newModuleMs: number[]
  /** the first module called again (compiled modules cached), ms */
  cachedMs: number[]
}

export interface TenantResult {
  /** sorted, ms */
  raw: number[]
  /** sorted, ms */
  invoke: number[]
  completed: number
  failed: number
  /** failure codes seen during the throughput run, with counts */
  failures: Record<string, number>
  seconds: number
  /** calls per second of each throughput round */
  perRound: number[]
  cold?: ColdResult
  /** this process's CPU time (user + system) per call, µs: sequential calls, and calls under load */
  cpuUsPerCall: { sequential: number, throughput: number }
  /** the same per raw round trip: the transport's and the event loops' own share of a call */
  cpuUsPerRawRoundTrip: number
  /** the same, µs per call of each thread (by name: main, workers, V8 and libuv helpers), where the system tells */
  threadUsPerCall?: { sequential: Record<string, number>, throughput: Record<string, number> }
}

export type TenantReply = { type: 'result', result: TenantResult } | { type: 'error', message: string }
/**
 * Sent at the start and end of the measured phases, so the executor reads its CPU time then
 * too: `raw` starts the raw round trips, `warmup` ends them, `throughput` starts each
 * round, `pause` ends one that another follows, `end` the last.
 */
export interface TenantMark { type: 'mark', phase: 'raw' | 'warmup' | 'sequential' | 'throughput' | 'pause' | 'end' }
/** Parent → tenant after a `pause` mark: start the next throughput round. */
export interface TenantResume { type: 'resume' }

const STOP_TIMEOUT_MS = 10_000
/** BENCH_CPU_PROF=<dir>: a CPU profile of each measured phase (sequential, throughput) of this process */
const PROFILE_DIR = process.env['BENCH_CPU_PROF']

/** Profiles `phase` when {@link PROFILE_DIR} is set; the returned function stops and writes it. */
async function profilePhase (phase: string): Promise<() => Promise<void>> {
  if (PROFILE_DIR === undefined) return async () => {}
  const profile = await startWriterProfile(`tenant-${phase}`)
  return async () => { await profile.stop(PROFILE_DIR) }
}

function mark (phase: TenantMark['phase']): void {
  process.send?.({ type: 'mark', phase } satisfies TenantMark)
}

/** Marks a pause and waits for the parent's resume. */
async function pause (): Promise<void> {
  const resumed = new Promise<void>(resolve => {
    const onMessage = (msg: TenantResume): void => {
      if (msg.type !== 'resume') return
      process.off('message', onMessage)
      resolve()
    }
    process.on('message', onMessage)
  })
  mark('pause')
  await resumed
}

async function run (task: TenantTask): Promise<TenantResult> {
  // every node here is reachable on loopback; one left to guess calls itself firewalled, and
  // a peer then holepunches instead of dialling it (a half-open stall, or no connection at all)
  const dht = new HyperDHT({ bootstrap: task.bootstrap, host: '127.0.0.1', firewalled: false })
  const keyPair = crypto.keyPair()
  const node = new ShadwNode({ swarm: new Hyperswarm({ dht, keyPair }), store: new Corestore(RAM.reusable()), tier: 'light' })
  const endpoint = new InvokeEndpoint({ host: node, tier: 'light' })
  try {
    const started = performance.now()
    await node.start()
    endpoint.start()
    await endpoint.waitForExecutors(1, { timeoutMs: task.timeoutMs })
    const conn = node.connections().find(([, p]) => p.publicKey === task.executor)?.[0]
    if (conn === undefined) throw new Error('no connection to the executor')
    const discoverMs = performance.now() - started
    let cold: ColdResult | undefined
    if (task.cold !== undefined && task.cold.length > 0) {
      // before anything else this process does: its first call is a fresh tenant's
      const timed = async (ref: string): Promise<number> => { const t = performance.now(); await endpoint.invoke(ref, new Uint8Array(16).fill(1)); return performance.now() - t }
      const [first, ...rest] = task.cold as [string, ...string[]]
      const firstCallMs = await timed(first)
      const newModuleMs: number[] = []
      for (const ref of rest) newModuleMs.push(await timed(ref))
      const cachedMs: number[] = []
      for (let i = 0; i < 20; i++) cachedMs.push(await timed(first))
      cold = { discoverMs, firstCallMs, newModuleMs, cachedMs: cachedMs.sort((a, b) => a - b) }
    }

    const ping = await pingClient(conn)
    for (let i = 0; i < task.warmup; i++) await ping()
    const raw: number[] = []
    mark('raw')
    const cpuRaw = process.cpuUsage()
    for (let i = 0; i < task.samples; i++) { const t = performance.now(); await ping(); raw.push(performance.now() - t) }
    const rawCpu = process.cpuUsage(cpuRaw)
    mark('warmup')

    const input = new Uint8Array(16).fill(7)
    for (let i = 0; i < task.warmup; i++) await endpoint.invoke(task.ref, input)
    const invoke: number[] = []
    const seqProfile = await profilePhase('sequential')
    mark('sequential')
    const cpuSeq = process.cpuUsage()
    const threadsSeq = threadTimes()
    for (let i = 0; i < task.samples; i++) { const t = performance.now(); await endpoint.invoke(task.ref, input); invoke.push(performance.now() - t) }
    const seqCpu = process.cpuUsage(cpuSeq)
    const seqThreads = threadDelta(threadsSeq, threadTimes(), task.samples)
    await seqProfile()
    let completed = 0
    let failed = 0
    const failures: Record<string, number> = {}
    let seconds = 0
    let putUs = 0
    const perRound: number[] = []
    const putThreads: Record<string, number> = {}
    const rounds = Math.max(1, task.rounds ?? 1)
    for (let round = 0; round < rounds; round++) {
      if (round > 0) await pause()
      const putProfile = await profilePhase('throughput')
      mark('throughput')
      const cpuPut = process.cpuUsage()
      const threadsPut = threadTimes()
      const t0 = performance.now()
      const before = completed
      const end = t0 + task.throughputMs
      await Promise.all(Array.from({ length: task.concurrency }, async () => {
        while (performance.now() < end) {
          try {
            await endpoint.invoke(task.ref, input)
            completed++
          } catch (err) {
            failed++
            const code = (err as { code?: string }).code ?? 'UNTYPED'
            failures[code] = (failures[code] ?? 0) + 1
          }
        }
      }))
      const took = (performance.now() - t0) / 1000
      seconds += took
      perRound.push(Math.round((completed - before) / Math.max(took, 1e-9)))
      const u = process.cpuUsage(cpuPut)
      putUs += u.user + u.system
      for (const [name, us] of Object.entries(threadDelta(threadsPut, threadTimes(), 1))) putThreads[name] = (putThreads[name] ?? 0) + us
      if (round === rounds - 1) mark('end')
      await putProfile()
    }
    const perCall = (u: NodeJS.CpuUsage, n: number): number => Math.round((u.user + u.system) / Math.max(1, n) * 10) / 10
    return { raw: raw.sort((a, b) => a - b), invoke: invoke.sort((a, b) => a - b), completed, failed, failures, seconds, perRound, cold, cpuUsPerRawRoundTrip: perCall(rawCpu, task.samples), cpuUsPerCall: { sequential: perCall(seqCpu, task.samples), throughput: Math.round(putUs / Math.max(1, completed + failed) * 10) / 10 }, threadUsPerCall: { sequential: seqThreads, throughput: Object.fromEntries(Object.entries(putThreads).map(([n, us]) => [n, Math.round(us / Math.max(1, completed + failed) * 10) / 10])) } }
  } finally {
    endpoint.stop()
    await Promise.race([(async () => { await node.stop(); await dht.destroy() })(), new Promise(resolve => setTimeout(resolve, STOP_TIMEOUT_MS).unref())])
  }
}

process.once('message', (task: TenantTask) => {
  run(task).then(
    result => { process.send?.({ type: 'result', result } satisfies TenantReply) },
    (err: unknown) => { process.send?.({ type: 'error', message: err instanceof Error ? err.message : String(err) } satisfies TenantReply) }
  ).finally(() => { process.disconnect?.() })
})

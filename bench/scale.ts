/**
 * Scale benchmark: 10, 100 and 1,000 shadw nodes on a local HyperDHT testnet join one swarm,
 * advertise capacity and serve calls. Printed and written to bench/results/scale.json.
 *
 * Each size runs in a fresh child process (clean heap, so memory per node is not polluted by
 * the previous size). In the child:
 * - a testnet of 3 bootstrap nodes, one publisher node with a registry holding `echo`, and one
 *   real worker_threads executor pool (2 workers: the machine has 2 cores) shared by every
 *   executor node, as the sandbox pool is per machine, not per node;
 * - N executor nodes, each a full ShadwNode (own Hyperswarm identity, own Corestore in RAM,
 *   own ledger log, function loader, invoke endpoint and service) joining the network topic.
 *   The DHT layer is shared: every `NODES_PER_DHT` nodes share one HyperDHT node (one UDP
 *   socket, one routing table), the way browser nodes share their super node's DHT through
 *   the relay. Each swarm keeps at most `MAX_PEERS` connections so 1,000 nodes fit 2 cores;
 * - then one caller node joins and invokes: discovery-to-first-result is from its start()
 *   to the first verified result (first capacity advert on the way), the executor fetching
 *   the function from the publisher's registry included; then `CALLS` more calls.
 * Join time is each executor node's start() (announce on the DHT flushed), started
 * `START_CONCURRENCY` at a time. Memory per node is the growth of RSS and of the JS heap
 * (after a forced GC) from before the first executor node to after the last one settled,
 * divided by N (the shared DHT nodes included, the shared pool and publisher not).
 *
 *   npm run bench:scale                # 10, 100, 1000
 *   npm run bench:scale -- --sizes 10,100
 */
import { fork } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, platform, release, totalmem } from 'node:os'
import { fileURLToPath } from 'node:url'
import b4a from 'b4a'
import Corestore from 'corestore'
import crypto from 'hypercore-crypto'
import HyperDHT from 'hyperdht'
import createTestnet from 'hyperdht/testnet'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { networkTopic, ShadwNode } from '../src/core/node/index.ts'
import { InvokeEndpoint, InvokeService } from '../src/core/invoke/index.ts'
import { createNodeExecutor } from '../src/super-node/executor/index.ts'
import { createPublisherKeyPair, FunctionLoader, Registry } from '../src/core/registry/index.ts'
import { compileWat } from '../test/fixtures/wasm/fixtures.ts'

/** Sizes the issue asks for, in `announce` mode. */
const DEFAULT_SIZES = [10, 100, 1000]
/** Sizes also run in `mesh` mode (1,000 meshed nodes take about 3.5 minutes on 2 cores). */
const DEFAULT_MESH_SIZES = [10, 100, 1000]
/** Executor nodes per shared HyperDHT node (see the header). */
const NODES_PER_DHT = 10
/** Connections per swarm: Hyperswarm's default of 64 would mean 64,000 Noise streams at 1,000 nodes. */
const MAX_PEERS = 8
/** Node starts in flight at once: a wave of 1,000 simultaneous announces only measures the queue. */
const START_CONCURRENCY = 25
/** Calls after the first result, to see routing spread over the swarm. */
const CALLS = 30
/** Bound on one call (the first includes the executor fetching the function). */
const CALL_DEADLINE_MS = 30_000
/** Bound on the further calls together: a size must not stall the bench on a bad route. */
const FURTHER_CALLS_MS = 60_000
/** Bound on one size in its child process: the whole bench should stay within about ten minutes. */
const CHILD_TIMEOUT_MS = 6 * 60_000
/** Execution slots each executor node advertises. */
const SLOTS = 2

/** What one size measured. */
export interface SizeResult {
  mode: JoinMode
  nodes: number
  dhtNodes: number
  joinMs: { median: number, p95: number, max: number }
  /** wall time until every executor node had joined */
  allJoinedMs: number
  /** caller start() to the first executor's capacity advert */
  discoveryMs: number
  /** caller start() to the first verified result; null when the first call failed */
  firstResultMs: number | null
  /** why calls failed (first few) */
  failures: string[]
  /** connections the publisher's super node held (Hyperswarm's default limit is 64) */
  publisherConnections: number
  /** executors the caller had capacity adverts from when the first result came */
  executorsSeen: number
  callMs: { median: number, p95: number }
  callsOk: number
  /** distinct executors that served the caller's calls */
  distinctExecutors: number
  memoryPerNode: { rssBytes: number, heapBytes: number }
  connectionsPerNode: number
}

const sorted = (xs: number[]): number[] => [...xs].sort((a, b) => a - b)
const pct = (xs: number[], p: number): number => { const s = sorted(xs); return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? 0 }
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d

function progress (n: number, what: string): void { console.error(`  [${n} nodes] ${what}`) }

function gc (): void { (globalThis as { gc?: () => void }).gc?.() }
async function settle (ms: number): Promise<void> { await new Promise(resolve => setTimeout(resolve, ms)) }

async function pool<T> (items: T[], n: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) { const i = next++; await fn(items[i] as T, i) }
  }))
}

/**
 * How executor nodes join the network topic:
 * - `mesh`: as storm nodes do (client and server): every node also dials up to MAX_PEERS others;
 * - `announce`: server only, as super nodes do on the network topic: a node announces and
 *   waits to be dialled, so the swarm's cost is what a caller meets, not an N x MAX_PEERS
 *   mesh of Noise streams (which 2 cores cannot hold at 1,000 nodes: see the header).
 */
export type JoinMode = 'mesh' | 'announce'

const NETWORK_TOPIC = networkTopic()

/** A Hyperswarm that joins the network topic server-only (the `announce` mode); other topics (a registry's, to load a function) as asked. */
class AnnounceOnlySwarm extends Hyperswarm {
  override join (topic: Uint8Array, opts?: { server?: boolean, client?: boolean }): ReturnType<Hyperswarm['join']> {
    return super.join(topic, b4a.equals(topic, NETWORK_TOPIC) ? { server: true, client: false } : opts)
  }
}

/** One size, in this process (the child). */
async function simulate (n: number, mode: JoinMode): Promise<SizeResult> {
  const net = await createTestnet(3, { host: '127.0.0.1' })
  const bootstrap = net.bootstrap
  const executor = createNodeExecutor({ size: 2 })

  // the publisher: a full node with its own DHT node
  const pubDht = new HyperDHT({ bootstrap, host: '127.0.0.1' })
  const pubStore = new Corestore(RAM.reusable())
  // a super node as `shadw start` builds it: Hyperswarm's default peer limit
  const pubSwarm = new Hyperswarm({ dht: pubDht })
  const pubNode = new ShadwNode({ swarm: pubSwarm, store: pubStore, tier: 'super' })
  await pubNode.start()
  const registry = await Registry.create(pubStore, createPublisherKeyPair())
  const echo = await compileWat(`(module (memory (export "memory") 1) (global $n (mut i32) (i32.const 1024))
    (func (export "alloc") (param $l i32) (result i32) (local $p i32) (local.set $p (global.get $n)) (global.set $n (i32.add (global.get $n) (local.get $l))) (local.get $p))
    (func (export "run") (param $p i32) (param $l i32) (result i64) (i64.or (i64.shl (i64.extend_i32_u (local.get $p)) (i64.const 32)) (i64.extend_i32_u (local.get $l)))))`)
  await registry.publish(echo, { name: 'echo', version: '1.0.0' })
  const ref = `${registry.key}/echo@1.0.0`
  // as a super node that follows this publisher does (RegistryFollows): announce the registry and its blob log
  await pubNode.follow(registry.key)
  await pubNode.follow(await registry.blobKey() as string)

  gc(); await settle(200); gc()
  const before = process.memoryUsage()

  const dhts: HyperDHT[] = []
  for (let i = 0; i < Math.ceil(n / NODES_PER_DHT); i++) {
    const dht = new HyperDHT({ bootstrap, host: '127.0.0.1' })
    // each swarm on a shared DHT node listens for its network changes
    ;(dht as unknown as { setMaxListeners (n: number): void }).setMaxListeners(4 * NODES_PER_DHT)
    dhts.push(dht)
  }
  await pool(dhts, START_CONCURRENCY, async d => { await d.fullyBootstrapped() })

  const joinMs: number[] = []
  const nodes: Array<{ node: ShadwNode, swarm: Hyperswarm, endpoint: InvokeEndpoint }> = []
  const t0 = performance.now()
  await pool(Array.from({ length: n }, (_, i) => i), START_CONCURRENCY, async i => {
    const keyPair = crypto.keyPair()
    const opts = { dht: dhts[i % dhts.length] as HyperDHT, keyPair, maxPeers: MAX_PEERS }
    const swarm = mode === 'mesh' ? new Hyperswarm(opts) : new AnnounceOnlySwarm(opts)
    const node = new ShadwNode({ swarm, store: new Corestore(RAM.reusable()), tier: 'storm' })
    const s = performance.now()
    await node.start()
    joinMs.push(performance.now() - s)
    const ledger = await node.createLog('ledger')
    const service = new InvokeService({
      executor,
      functions: new FunctionLoader({ host: node }),
      keyPair,
      ledger: { key: b4a.from(ledger.key, 'hex'), append: async blocks => await node.append(ledger.key, blocks) },
      slots: SLOTS
    })
    const endpoint = new InvokeEndpoint({ host: node, tier: 'storm', service })
    endpoint.start()
    nodes.push({ node, swarm, endpoint })
  })
  const allJoinedMs = performance.now() - t0
  progress(n, `all ${n} joined in ${Math.round(allJoinedMs)} ms`)
  await settle(2_000)
  gc(); await settle(200); gc()
  const after = process.memoryUsage()
  const connections = nodes.reduce((sum, x) => sum + x.swarm.connections.size, 0)

  // the caller: a light node with its own DHT node, as a tenant's
  const callerDht = new HyperDHT({ bootstrap, host: '127.0.0.1' })
  const caller = new ShadwNode({ swarm: new Hyperswarm({ dht: callerDht, maxPeers: MAX_PEERS }), store: new Corestore(RAM.reusable()), tier: 'light' })
  const c0 = performance.now()
  await caller.start()
  const callerEndpoint = new InvokeEndpoint({ host: caller, tier: 'light' })
  callerEndpoint.start()
  await callerEndpoint.waitForExecutors(1, { timeoutMs: CALL_DEADLINE_MS })
  const discoveryMs = performance.now() - c0
  progress(n, `caller saw its first executor after ${Math.round(discoveryMs)} ms; publisher has ${pubSwarm.connections.size} connections`)
  const executors = new Set<string>()
  const failures: string[] = []
  let firstResultMs: number | null = null
  try {
    const first = await callerEndpoint.invoke(ref, b4a.from('first'), { deadline: CALL_DEADLINE_MS })
    if (b4a.toString(first.output) !== 'first') throw new Error('wrong first result')
    firstResultMs = performance.now() - c0
    for (const r of first.receipts) executors.add(r.executor)
  } catch (err) {
    failures.push(`first call: ${(err as Error).message}`)
  }
  progress(n, firstResultMs === null ? `first call failed: ${failures[0]}` : `first result after ${Math.round(firstResultMs)} ms`)
  const executorsSeen = callerEndpoint.peers().filter(p => p.capacity !== null && p.capacity.total > 0).length

  const callMs: number[] = []
  let callsOk = 0
  // no further calls when the first failed: each would wait out its deadline
  const further = firstResultMs === null ? 0 : CALLS
  const stopAt = performance.now() + FURTHER_CALLS_MS
  for (let i = 0; i < further && performance.now() < stopAt; i++) {
    const s = performance.now()
    try {
      const r = await callerEndpoint.invoke(ref, b4a.from(`call ${i}`), { deadline: CALL_DEADLINE_MS })
      if (b4a.toString(r.output) === `call ${i}`) callsOk++
      for (const x of r.receipts) executors.add(x.executor)
      callMs.push(performance.now() - s)
    } catch (err) {
      failures.push(`call ${i} after ${Math.round(performance.now() - s)} ms: ${(err as Error).message}`)
    }
  }
  progress(n, `${callsOk}/${CALLS} further calls ok`)

  return {
    mode,
    nodes: n,
    dhtNodes: dhts.length,
    joinMs: { median: round(pct(joinMs, 0.5)), p95: round(pct(joinMs, 0.95)), max: round(Math.max(...joinMs)) },
    allJoinedMs: round(allJoinedMs),
    discoveryMs: round(discoveryMs),
    firstResultMs: firstResultMs === null ? null : round(firstResultMs),
    failures: failures.slice(0, 5),
    publisherConnections: pubSwarm.connections.size,
    executorsSeen,
    callMs: { median: round(pct(callMs, 0.5)), p95: round(pct(callMs, 0.95)) },
    callsOk,
    distinctExecutors: executors.size,
    memoryPerNode: { rssBytes: Math.round((after.rss - before.rss) / n), heapBytes: Math.round((after.heapUsed + after.external - before.heapUsed - before.external) / n) },
    connectionsPerNode: round(connections / n)
  }
}

/** Growth of a figure from one size to the next (10x nodes). */
function growth (results: SizeResult[], pick: (r: SizeResult) => number): Array<{ from: number, to: number, ratio: number }> {
  const out = []
  for (let i = 1; i < results.length; i++) {
    const a = results[i - 1] as SizeResult
    const b = results[i] as SizeResult
    out.push({ from: a.nodes, to: b.nodes, ratio: round(pick(b) / Math.max(pick(a), 1e-9), 2) })
  }
  return out
}

async function runChild (n: number, mode: JoinMode): Promise<SizeResult> {
  return await new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), ['--child', String(n), '--mode', mode], {
      execArgv: ['--import', 'tsx', '--expose-gc', '--max-old-space-size=16000'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${n} nodes: no result within ${CHILD_TIMEOUT_MS} ms`)) }, CHILD_TIMEOUT_MS)
    child.on('message', (m: { result?: SizeResult, error?: string }) => {
      clearTimeout(timer)
      if (m.result !== undefined) resolve(m.result)
      else reject(new Error(m.error))
    })
    child.on('exit', code => { clearTimeout(timer); reject(new Error(`${n} nodes: child exited with ${code}`)) })
  })
}

if (process.argv.includes('--child')) {
  const n = Number(process.argv[process.argv.indexOf('--child') + 1])
  try {
    const mode = process.argv[process.argv.indexOf('--mode') + 1] as JoinMode
    const result = await simulate(n, mode)
    process.send?.({ result })
  } catch (err) {
    process.send?.({ error: (err as Error).stack ?? String(err) })
  }
  // teardown of 1,000 swarms sharing DHT nodes is not what is measured: the process ends here
  setTimeout(() => process.exit(0), 100)
} else {
  const i = process.argv.indexOf('--sizes')
  const sizes = i === -1 ? DEFAULT_SIZES : (process.argv[i + 1] ?? '').split(',').filter(x => x !== '').map(Number)
  const m = process.argv.indexOf('--mesh-sizes')
  const meshSizes = m === -1 ? DEFAULT_MESH_SIZES : (process.argv[m + 1] ?? '').split(',').filter(x => x !== '').map(Number)
  const runs: Array<[number, JoinMode]> = [...sizes.map(n => [n, 'announce'] as [number, JoinMode]), ...meshSizes.map(n => [n, 'mesh'] as [number, JoinMode])]
  const results: SizeResult[] = []
  const started = performance.now()
  for (const [n, mode] of runs) {
    const s = performance.now()
    let r: SizeResult
    try {
      r = await runChild(n, mode)
    } catch (err) {
      console.log(`${String(n).padStart(5)} nodes (${mode}): FAILED: ${(err as Error).message.split('\n')[0] ?? ''}`)
      continue
    }
    results.push(r)
    console.log(`${String(n).padStart(5)} nodes, ${mode} (${r.dhtNodes} DHT nodes): join median ${r.joinMs.median} ms (p95 ${r.joinMs.p95}), all joined in ${r.allJoinedMs} ms; ` +
      `caller: first executor ${r.discoveryMs} ms, first result ${r.firstResultMs} ms (${r.executorsSeen} executors seen); ` +
      `${r.callsOk}/${CALLS} calls, median ${r.callMs.median} ms (p95 ${r.callMs.p95}) on ${r.distinctExecutors} executors; ` +
      `${(r.memoryPerNode.rssBytes / 2 ** 20).toFixed(2)} MiB RSS / ${(r.memoryPerNode.heapBytes / 2 ** 20).toFixed(2)} MiB heap per node, ${r.connectionsPerNode} connections per node  [${((performance.now() - s) / 1000).toFixed(0)} s]`)
  }
  const growthOf: Record<string, Record<string, ReturnType<typeof growth>>> = {}
  for (const mode of ['announce', 'mesh'] as const) {
    const rs = results.filter(r => r.mode === mode)
    if (rs.length < 2) continue
    growthOf[mode] = {
      joinMedian: growth(rs, r => r.joinMs.median),
      allJoined: growth(rs, r => r.allJoinedMs),
      firstResult: growth(rs, r => r.firstResultMs ?? Number.NaN),
      rssPerNode: growth(rs, r => r.memoryPerNode.rssBytes),
      heapPerNode: growth(rs, r => r.memoryPerNode.heapBytes)
    }
    for (const [k, g] of Object.entries(growthOf[mode] ?? {})) console.log(`${mode}: growth of ${k} per 10x nodes: ${g.map(x => `${x.from}->${x.to} x${x.ratio}`).join(', ')}`)
  }
  const out = {
    date: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', totalMemBytes: totalmem(), os: `${platform()} ${release()}`, node: process.version },
    method: {
      modes: 'announce: executor nodes join the network topic server-only (as super nodes do) and are dialled by the caller; mesh: client+server as storm nodes do, each dialling up to maxPeers others',
      nodes: 'full ShadwNode per simulated node (own Hyperswarm identity, Corestore in RAM, ledger log, function loader, invoke endpoint + service), tier storm',
      dht: `${NODES_PER_DHT} nodes share one HyperDHT node (like browsers behind a super node's relay); local testnet of 3 bootstrap nodes on 127.0.0.1`,
      maxPeers: MAX_PEERS,
      executor: 'one worker_threads pool of 2 shared by all nodes (2 cores)',
      startConcurrency: START_CONCURRENCY,
      join: 'ShadwNode.start(): network topic joined and its announce flushed',
      discovery: 'caller start() to the first capacity advert from an executor',
      firstResult: 'caller start() to the first verified result (executor loads the function from the publisher registry on the way)',
      memory: 'RSS and heap+external growth from before the first executor node to after all joined (forced GC), divided by N',
      wallMs: round(performance.now() - started)
    },
    results,
    growth: growthOf
  }
  mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
  writeFileSync(new URL('./results/scale.json', import.meta.url), JSON.stringify(out, null, 2) + '\n')
  console.log('wrote bench/results/scale.json')
}

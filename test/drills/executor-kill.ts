/**
 * Drill: an executor node process is killed with SIGKILL mid-call, three times. A super node
 * (execution off) hosts the DHT; a publisher on it publishes a slow function (count.wat,
 * calibrated here to run ~1.5 s); two executor nodes run in child processes
 * (executor-child.ts) that follow the publisher's registry and load the function before the
 * round starts; a caller in this process invokes, and the moment an executor prints that it
 * started the call, that child gets `kill -9`. Checks each round: the call still answers
 * within its deadline, from the other executor, with the right output and a receipt that
 * verifies; the killed executor signs nothing and the caller drops it. A fresh executor
 * replaces the killed one for the next round.
 *
 *   node --import tsx test/drills/executor-kill.ts
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import b4a from 'b4a'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import crypto from 'hypercore-crypto'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { ShadwNode } from '../../src/core/node/shadw-node.ts'
import { InvokeEndpoint } from '../../src/core/invoke/index.ts'
import { verifyReceipt } from '../../src/core/ledger/index.ts'
import { createNodeExecutor } from '../../src/super-node/executor/index.ts'
import { parseBootstrap, SuperNode } from '../../src/super-node/super-node.ts'
import { createPublisherKeyPair, Registry } from '../../src/core/registry/index.ts'
import { resolveLimits } from '../../src/core/sandbox/index.ts'
import { compileWat } from '../fixtures/wasm/fixtures.ts'
import { Drill, eventually, within } from './drill.ts'

/** Fuel the slow function may use (the executor children raise their ceiling to it). */
const FUEL = 1_000_000_000_000
/**
 * The slow function (raw ABI): reads n (u32 LE), runs n blocks of 1,000,000 iterations
 * summing i*i, returns the sum (u32 LE). Its cost is linear in n, so it is calibrated here.
 */
const SLOW_WAT = `(module
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "run") (param $ptr i32) (param $len i32) (result i64)
    (local $n i32) (local $j i32) (local $i i32) (local $sum i32)
    (local.set $n (i32.load (local.get $ptr)))
    (block $outer_done
      (loop $outer
        (br_if $outer_done (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $i (i32.const 0))
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $i) (i32.const 1000000)))
            (local.set $sum (i32.add (local.get $sum) (i32.mul (local.get $i) (i32.add (local.get $i) (local.get $j)))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $outer)))
    (i32.store (i32.const 0) (local.get $sum))
    (i64.const 4)))`

/** Rounds: each kills the executor that took the call. */
const ROUNDS = 3
/** Wall time the slow call should take on one executor. */
const TARGET_MS = 1_500
/** The caller's deadline for a call (two runs of the slow function fit in it many times over). */
const CALL_DEADLINE_MS = 30_000
/** Bound on a child following the registry, loading the function and reporting ready. */
const CHILD_READY_MS = 90_000
/** Bound on the caller seeing a new executor's capacity. */
const DISCOVER_MS = 60_000
/** Bound on an executor reporting it started the call. */
const STARTED_MS = 20_000
/** Bound on each teardown step. */
const TEARDOWN_MS = 15_000

type ChildMessage = { type: 'ready', key: string } | { type: 'started', at: number } | { type: 'error', message: string }
interface Child { proc: ChildProcess, key: string, started: number | null, exited: Promise<void>, alive: boolean }

const CHILD = fileURLToPath(new URL('./executor-child.ts', import.meta.url))
const drill = new Drill('executor node process killed mid-call (kill -9)')
const storage = await mkdtemp(join(tmpdir(), 'shadw-drill-exec-'))
const children: Child[] = []
const cleanup: Array<() => Promise<unknown>> = []

/** The expected output of the slow function for `n`, in closed form: Σj Σi i·(i+j) mod 2^32. */
function slowOutput (n: number): Uint8Array {
  const M = 1_000_000n
  const s1 = M * (M - 1n) / 2n
  const s2 = (M - 1n) * M * (2n * M - 1n) / 6n
  const N = BigInt(n)
  const sum = (N * s2 + s1 * (N * (N - 1n) / 2n)) % (2n ** 32n)
  const out = new Uint8Array(4)
  new DataView(out.buffer).setUint32(0, Number(sum), true)
  return out
}
function slowInput (n: number): Uint8Array {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n, true)
  return b
}

async function startChild (bootstrap: string[], ref: string): Promise<Child> {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, '--bootstrap', bootstrap.join(','), '--ref', ref], { stdio: ['ignore', 'pipe', 'inherit'], env: process.env })
  const child: Child = { proc, key: '', started: null, alive: true, exited: new Promise(resolve => { proc.once('exit', () => { child.alive = false; resolve() }) }) }
  children.push(child)
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', line => {
      let m: ChildMessage
      try { m = JSON.parse(line) as ChildMessage } catch { return }
      if (m.type === 'ready') { child.key = m.key; resolve() } else if (m.type === 'started') child.started = m.at
      else reject(new Error(m.message))
    })
    void child.exited.then(() => { reject(new Error(`executor child exited with ${proc.exitCode ?? proc.signalCode} before it was ready`)) })
  })
  await within(ready, CHILD_READY_MS, 'executor child ready')
  return child
}

async function kill9 (child: Child): Promise<void> {
  if (child.alive) child.proc.kill('SIGKILL')
  await within(child.exited, TEARDOWN_MS, 'child exit')
}

let code = 1
try {
  // 1. calibrate the slow function on this machine: n iterations for ~TARGET_MS
  const module = await compileWat(SLOW_WAT, 'slow.wat')
  const limits = resolveLimits({ fuel: FUEL, deadlineMs: 20_000 })
  const local = createNodeExecutor({ size: 1 })
  let n = 4
  let ms = 0
  let expected: Uint8Array = new Uint8Array(0)
  try {
    for (;;) {
      const t = performance.now()
      await local.execute({ module, abi: 'raw', input: slowInput(n), seed: 0, limits })
      ms = performance.now() - t
      if (ms > 300) break
      n *= 2
    }
    n = Math.max(1, Math.round(n * TARGET_MS / ms))
    const t = performance.now()
    const r = await local.execute({ module, abi: 'raw', input: slowInput(n), seed: 0, limits })
    ms = performance.now() - t
    expected = slowOutput(n)
    drill.check('the slow function runs ~1-2 s locally and computes the expected sum', ms > 700 && ms < 4_000 && b4a.equals(r.output, expected), `n=${n}, ${Math.round(ms)} ms, fuel ${r.fuelUsed}`)
  } finally {
    await local.close()
  }

  // 2. super node (no execution), publisher
  const sn = await SuperNode.start({ storage, appRoot: fileURLToPath(new URL('../../dist', import.meta.url)), port: 0, workers: 0 })
  cleanup.push(async () => await sn.stop())
  drill.check('the super node does not execute (workers 0)', sn.executor === null)
  const bootstrap = sn.info.bootstrap
  async function localNode (tier: 'super' | 'light'): Promise<{ node: ShadwNode, store: Corestore }> {
    const dht = new HyperDHT({ bootstrap: parseBootstrap(bootstrap), host: '127.0.0.1', firewalled: false })
    const store = new Corestore(RAM.reusable())
    const node = new ShadwNode({ swarm: new Hyperswarm({ dht, keyPair: crypto.keyPair() }), store, tier })
    cleanup.push(async () => { await node.stop(); await dht.destroy() })
    await node.start()
    return { node, store }
  }
  const pubNode = await localNode('super')
  const registry = await Registry.create(pubNode.store, createPublisherKeyPair())
  cleanup.push(async () => await registry.close())
  await registry.publish(module, { name: 'slow-count', version: '1.0.0', abi: 'raw', limits: { fuel: FUEL, deadlineMs: 20_000 } })
  const ref = `${registry.key}/slow-count@1.0.0`
  drill.step(`published ${ref.slice(0, 16)}…/slow-count@1.0.0`)

  // A caller per round, started once its executors are up: super nodes wait to be dialled on
  // the network topic, and a light node looks the topic up when it joins (then only on
  // Hyperswarm's slow refresh), so executors that start later would not be found in time.
  async function newCaller (): Promise<InvokeEndpoint> {
    const { node } = await localNode('light')
    const endpoint = new InvokeEndpoint({ host: node, tier: 'light' })
    endpoint.start()
    cleanup.push(async () => { endpoint.stop() })
    return endpoint
  }

  // 3. two executor processes, each with the registry and the function already loaded
  const live: Child[] = []
  for (let i = 0; i < 2; i++) live.push(await startChild(bootstrap, ref))
  drill.check('two executor processes followed the publisher and loaded the function', live.length === 2 && live.every(c => c.alive), live.map(c => c.key.slice(0, 8)).join(', '))

  const input = slowInput(n)
  for (let round = 1; round <= ROUNDS; round++) {
    const keys = live.map(c => c.key)
    const caller = await newCaller()
    const seen = await eventually(() => keys.every(k => caller.peers().some(p => p.key === k && p.capacity !== null)), DISCOVER_MS)
    drill.check(`round ${round}: the caller sees both live executors`, seen, keys.map(k => k.slice(0, 8)).join(', '))
    for (const c of live) c.started = null

    const t0 = performance.now()
    const call = caller.invoke(ref, input, { deadline: CALL_DEADLINE_MS }).then(r => r, (err: Error) => err)
    const startedOne = await eventually(() => live.some(c => c.started !== null), STARTED_MS)
    const doomed = live.find(c => c.started !== null)
    if (!startedOne || doomed === undefined) {
      drill.check(`round ${round}: an executor reports it started the call`, false)
      await within(call, CALL_DEADLINE_MS + 5_000, 'call').catch(() => {})
      break
    }
    const survivor = live.find(c => c !== doomed) as Child
    const killedAt = performance.now()
    const killedWall = Date.now()
    await kill9(doomed)
    drill.step(`round ${round}: executor ${doomed.key.slice(0, 8)} started the call; kill -9 after ${Math.round(killedAt - t0)} ms`)

    const result = await within(call, CALL_DEADLINE_MS + 5_000, 'call')
    const elapsed = performance.now() - t0
    if (result instanceof Error) {
      drill.check(`round ${round}: the call still answers`, false, `${(result as { code?: string }).code ?? ''} ${result.message.slice(0, 200)}`)
    } else {
      drill.check(`round ${round}: the call answers within its deadline with the right output`, elapsed < CALL_DEADLINE_MS && b4a.equals(result.output, expected), `${Math.round(elapsed)} ms of ${CALL_DEADLINE_MS}, ${result.attempts} attempt(s)`)
      const receipts = result.receipts
      let valid = receipts.length === 1
      for (const r of receipts) { try { verifyReceipt(r) } catch { valid = false } }
      drill.check(`round ${round}: one receipt, it verifies and names the other executor`, valid && receipts[0]?.executor === survivor.key && receipts[0]?.fn === ref, `executor ${receipts[0]?.executor.slice(0, 8) ?? '-'}`)
      drill.check(`round ${round}: the killed executor is not counted (no receipt, no dissent; retried)`, !receipts.some(r => r.executor === doomed.key) && !result.dissenters.some(r => r.executor === doomed.key) && result.attempts >= 2, `attempts ${result.attempts}`)
      drill.check(`round ${round}: the survivor ran it after the kill`, survivor.started !== null && survivor.started >= killedWall, `retry started ${survivor.started === null ? '?' : survivor.started - killedWall} ms after the kill: nothing closed the killed peer's stream; the caller's liveness probes found it silent (SILENCE_MS)`)
    }
    const dropped = await eventually(() => !caller.peers().some(p => p.key === doomed.key), 10_000)
    drill.check(`round ${round}: the caller drops the killed executor`, dropped)
    live.splice(live.indexOf(doomed), 1)
    if (round < ROUNDS) live.push(await startChild(bootstrap, ref))
  }
  code = drill.finish()
} catch (err) {
  drill.check('drill ran to the end', false, (err as Error).message.slice(0, 300))
  code = drill.finish()
} finally {
  for (const c of children) await kill9(c).catch(() => {})
  for (const fn of cleanup.reverse()) await within(fn(), TEARDOWN_MS, 'teardown').catch(() => {})
  await rm(storage, { recursive: true, force: true })
}
process.exit(code)

/**
 * Drill: the contributor tab executing a call is closed mid-call, three times. A super node
 * (execution off) hosts the DHT, the relay and the app; a publisher on it publishes a slow
 * function (a chain of divisions, calibrated here to run ~1.5 s, inside the tabs' default
 * fuel ceiling); two contributor tabs (`?execute=1`), each in its own browser context, load
 * it; a caller in this process invokes, and as soon as the call is in flight to one tab, that
 * tab's context is closed. Checks each round: the call still answers within its deadline,
 * from the other tab, with the right output and a receipt that verifies; the closed tab signs
 * nothing and the caller drops it. A fresh tab replaces the closed one for the next round.
 *
 *   node --import tsx test/drills/executor-kill-tab.ts
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import b4a from 'b4a'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import crypto from 'hypercore-crypto'
import Hyperswarm from 'hyperswarm'
import { chromium, type Browser, type BrowserContext } from 'playwright-core'
import RAM from 'random-access-memory'
import { ShadwNode } from '../../src/core/node/shadw-node.ts'
import { InvokeEndpoint } from '../../src/core/invoke/index.ts'
import { verifyReceipt } from '../../src/core/ledger/index.ts'
import { createNodeExecutor } from '../../src/super-node/executor/index.ts'
import { parseBootstrap, SuperNode } from '../../src/super-node/super-node.ts'
import { createPublisherKeyPair, DEFAULT_CEILINGS, Registry } from '../../src/core/registry/index.ts'
import { resolveLimits } from '../../src/core/sandbox/index.ts'
import { compileWat } from '../fixtures/wasm/fixtures.ts'
import { call, openApp } from '../helpers/app-page.ts'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../helpers/chromium-flags.ts'
import { Drill, eventually, within } from './drill.ts'

/** Rounds: each closes the tab that took the call. */
const ROUNDS = 3
/** Wall time the slow call should take on one executor. */
const TARGET_MS = 1_500
/** The tabs' default fuel ceiling: the slow function stays inside it. */
const FUEL = DEFAULT_CEILINGS.fuel
/** The caller's deadline for a call. */
const CALL_DEADLINE_MS = 45_000
/** Bound on a tab loading the function (a fresh node finds the registry through the relay). */
const LOAD_MS = 60_000
/** Bound on the caller seeing a tab's capacity. */
const DISCOVER_MS = 90_000
/** Bound on the call reaching a tab. */
const STARTED_MS = 20_000
/** Bound on each teardown step. */
const TEARDOWN_MS = 15_000
/**
 * The slow function (raw ABI): reads n (u32 LE), runs n blocks of 100,000 iterations of a
 * dependent chain of divisions (slow per unit of fuel), returns the result (u32 LE).
 */
const SLOW_WAT = `(module
  (memory (export "memory") 1)
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "run") (param $ptr i32) (param $len i32) (result i64)
    (local $n i32) (local $j i32) (local $i i32) (local $x i32)
    (local.set $n (i32.load (local.get $ptr)))
    (local.set $x (i32.const 123456789))
    (block $outer_done
      (loop $outer
        (br_if $outer_done (i32.ge_u (local.get $j) (local.get $n)))
        (local.set $i (i32.const 0))
        (block $done
          (loop $next
            (br_if $done (i32.ge_u (local.get $i) (i32.const 100000)))
            (local.set $x (i32.add (i32.div_u (i32.const -1) (i32.or (local.get $x) (i32.const 3))) (local.get $i)))
            (local.set $x (i32.add (i32.div_u (i32.const -7) (i32.or (local.get $x) (i32.const 5))) (local.get $j)))
            (local.set $x (i32.mul (i32.div_u (i32.const -13) (i32.or (local.get $x) (i32.const 9))) (i32.const 2654435761)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $next)))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $outer)))
    (i32.store (i32.const 0) (local.get $x))
    (i64.const 4)))`

function slowInput (n: number): Uint8Array {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n, true)
  return b
}

interface Tab { context: BrowserContext, key: string, closed: boolean }

const drill = new Drill('contributor tab closed mid-call')
const storage = await mkdtemp(join(tmpdir(), 'shadw-drill-tab-'))
const cleanup: Array<() => Promise<unknown>> = []
let browser: Browser | null = null
const tabs: Tab[] = []

let code = 1
try {
  // 1. calibrate the slow function on this machine (V8 in Node, as in the tab)
  const module = await compileWat(SLOW_WAT, 'slow-div.wat')
  const limits = resolveLimits({ fuel: FUEL, deadlineMs: 20_000 })
  const local = createNodeExecutor({ size: 1 })
  let n = 1
  let ms = 0
  let expected: Uint8Array = new Uint8Array(0)
  try {
    // warm up: the pool's worker start and the first compile are not the function's cost
    await local.execute({ module, abi: 'raw', input: slowInput(1), seed: 0, limits })
    let fuelPerN = 0
    for (;;) {
      const t = performance.now()
      const r = await local.execute({ module, abi: 'raw', input: slowInput(n), seed: 0, limits })
      ms = performance.now() - t
      fuelPerN = r.fuelUsed / n
      if (ms > 300) break
      n *= 2
    }
    // ~TARGET_MS, but never past 80% of the fuel ceiling
    n = Math.max(1, Math.min(Math.round(n * TARGET_MS / ms), Math.floor(FUEL * 0.8 / fuelPerN)))
    const t = performance.now()
    const r = await local.execute({ module, abi: 'raw', input: slowInput(n), seed: 0, limits })
    ms = performance.now() - t
    expected = r.output
    drill.check('the slow function runs ~0.5-4 s locally within the default fuel ceiling', ms > 500 && ms < 4_000 && r.fuelUsed < FUEL, `n=${n}, ${Math.round(ms)} ms, fuel ${r.fuelUsed} of ${FUEL}`)
  } finally {
    await local.close()
  }

  // 2. super node (no execution), publisher
  const sn = await SuperNode.start({ storage, appRoot: fileURLToPath(new URL('../../dist', import.meta.url)), port: 0, workers: 0 })
  cleanup.push(async () => await sn.stop())
  drill.check('the super node does not execute (workers 0)', sn.executor === null)
  async function localNode (tier: 'super' | 'light'): Promise<{ node: ShadwNode, store: Corestore }> {
    const dht = new HyperDHT({ bootstrap: parseBootstrap(sn.info.bootstrap), host: '127.0.0.1', firewalled: false })
    const store = new Corestore(RAM.reusable())
    const node = new ShadwNode({ swarm: new Hyperswarm({ dht, keyPair: crypto.keyPair() }), store, tier })
    cleanup.push(async () => { await node.stop(); await dht.destroy() })
    await node.start()
    return { node, store }
  }
  const pubNode = await localNode('super')
  const registry = await Registry.create(pubNode.store, createPublisherKeyPair())
  cleanup.push(async () => await registry.close())
  await registry.publish(module, { name: 'slow-div', version: '1.0.0', abi: 'raw', limits: { fuel: FUEL, deadlineMs: 20_000 } })
  const ref = `${registry.key}/slow-div@1.0.0`
  drill.step(`published ${registry.key.slice(0, 16)}…/slow-div@1.0.0`)

  // 3. two contributor tabs, each in its own context, with the function loaded
  browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 })
  const b = browser
  async function openTab (): Promise<Tab> {
    const context = await b.newContext()
    const tab: Tab = { context, key: '', closed: false }
    tabs.push(tab)
    const page = await openApp(context, `${sn.info.appUrl}?execute=1`)
    tab.key = (await call(page, 'status', {})).publicKey
    await call(page, 'loadFunction', { ref }, LOAD_MS)
    return tab
  }
  async function closeTab (tab: Tab): Promise<void> {
    tab.closed = true
    await within(tab.context.close(), TEARDOWN_MS, 'context close')
  }
  const live: Tab[] = [await openTab(), await openTab()]
  drill.check('two contributor tabs loaded the function', live.every(t => t.key !== ''), live.map(t => t.key.slice(0, 8)).join(', '))

  // a caller per round, started once its executors are up (see executor-kill.ts)
  async function newCaller (): Promise<InvokeEndpoint> {
    const { node } = await localNode('light')
    const endpoint = new InvokeEndpoint({ host: node, tier: 'light' })
    endpoint.start()
    cleanup.push(async () => { endpoint.stop() })
    return endpoint
  }

  const input = slowInput(n)
  for (let round = 1; round <= ROUNDS; round++) {
    const keys = live.map(t => t.key)
    const caller = await newCaller()
    const seen = await eventually(() => keys.every(k => caller.peers().some(p => p.key === k && (p.capacity?.total ?? 0) > 0)), DISCOVER_MS)
    drill.check(`round ${round}: the caller sees both contributor tabs`, seen, keys.map(k => k.slice(0, 8)).join(', '))
    if (!seen) break

    const t0 = performance.now()
    const pending = caller.invoke(ref, input, { deadline: CALL_DEADLINE_MS }).then(r => r, (err: Error) => err)
    // the caller's in-flight count names the tab holding the call
    const reached = await eventually(() => caller.peers().some(p => keys.includes(p.key) && p.inflight > 0), STARTED_MS)
    const holder = caller.peers().find(p => keys.includes(p.key) && p.inflight > 0)
    const doomed = live.find(t => t.key === holder?.key)
    if (!reached || doomed === undefined) {
      drill.check(`round ${round}: the call reaches a tab`, false)
      await within(pending, CALL_DEADLINE_MS + 5_000, 'call').catch(() => {})
      break
    }
    const survivor = live.find(t => t !== doomed) as Tab
    // let it get into the run (the tab has the function already)
    await new Promise(resolve => setTimeout(resolve, 300))
    const closedAfter = performance.now() - t0
    await closeTab(doomed)
    drill.step(`round ${round}: the call went to tab ${doomed.key.slice(0, 8)}; its context closed after ${Math.round(closedAfter)} ms`)

    const result = await within(pending, CALL_DEADLINE_MS + 5_000, 'call')
    const elapsed = performance.now() - t0
    if (result instanceof Error) {
      drill.check(`round ${round}: the call still answers`, false, `${(result as { code?: string }).code ?? ''} ${result.message.slice(0, 200)}`)
    } else {
      drill.check(`round ${round}: the call answers within its deadline with the right output`, elapsed < CALL_DEADLINE_MS && b4a.equals(result.output, expected), `${Math.round(elapsed)} ms of ${CALL_DEADLINE_MS}, ${result.attempts} attempt(s)`)
      let valid = result.receipts.length === 1
      for (const r of result.receipts) { try { verifyReceipt(r) } catch { valid = false } }
      drill.check(`round ${round}: one receipt, it verifies and names the other tab`, valid && result.receipts[0]?.executor === survivor.key && result.receipts[0]?.fn === ref, `executor ${result.receipts[0]?.executor.slice(0, 8) ?? '-'}`)
      drill.check(`round ${round}: the closed tab is not counted (no receipt, no dissent; retried)`, !result.receipts.some(r => r.executor === doomed.key) && !result.dissenters.some(r => r.executor === doomed.key) && result.attempts >= 2, `attempts ${result.attempts}`)
    }
    const dropped = await eventually(() => !caller.peers().some(p => p.key === doomed.key), 15_000)
    drill.check(`round ${round}: the caller drops the closed tab`, dropped)
    live.splice(live.indexOf(doomed), 1)
    if (round < ROUNDS) live.push(await openTab())
  }
  code = drill.finish()
} catch (err) {
  drill.check('drill ran to the end', false, (err as Error).message.slice(0, 300))
  code = drill.finish()
} finally {
  for (const t of tabs) if (!t.closed) await within(t.context.close(), TEARDOWN_MS, 'context close').catch(() => {})
  if (browser !== null) await within(browser.close(), TEARDOWN_MS, 'browser close').catch(() => {})
  for (const fn of cleanup.reverse()) await within(fn(), TEARDOWN_MS, 'teardown').catch(() => {})
  await rm(storage, { recursive: true, force: true })
}
process.exit(code)

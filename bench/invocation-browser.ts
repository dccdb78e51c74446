/**
 * Invocation benchmark, browser side: a tenant tab invokes a function that runs in a
 * contributor tab (another browser profile, `?execute=1`), with the super node's execution
 * off so every call crosses browser → relay → browser. Sequential warm calls through the
 * bridge (page → node worker → swarm → contributor's node worker → its executor worker and
 * back); the baseline is the same page's bridge round trip to its own node worker (`status`),
 * and a relayed block round trip between the same two nodes (the tenant reads a block the
 * contributor appended), measured in the same run.
 *
 * Cold start on a contributor tab: ~100 KB modules no one has called (bench/invocation-cold.ts),
 * published in the bench's registry node just before the tabs open; the tenant tab's very
 * first call runs one of them on the contributor (its node fetches the registry and the
 * module over the relay, verifies them, instruments and compiles in its executor worker),
 * then calls it again (compiled module cached), then the contributor tab is reloaded and the
 * tenant calls it once more (module bytes from OPFS, the instrumented module from the executor
 * workers' Cache Storage; how each preparation went is read off their BroadcastChannel).
 *
 * Over the link: a third tab (the linked tenant) takes WebRTC links; with the relay stopped
 * for the while, its warm calls cross its link to the contributor, against a raw data channel
 * between the same two pages (bench/raw-datachannel.ts) and the echo's own run time.
 */
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import crypto from 'hypercore-crypto'
import Hyperswarm from 'hyperswarm'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import RAM from 'random-access-memory'
import { ShadwNode } from '../src/core/node/shadw-node.ts'
import { parseBootstrap, SuperNode } from '../src/super-node/super-node.ts'
import { createPublisherKeyPair, Registry } from '../src/core/registry/index.ts'
import { compileWat } from '../test/fixtures/wasm/fixtures.ts'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/helpers/chromium-flags.ts'
import { coldModule } from './invocation-cold.ts'
import { rawDataChannel, type RawDataChannelResult } from './raw-datachannel.ts'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
/** Sequential calls measured after one warm-up call. */
const SAMPLES = 100
/** Bound on a tab's node coming up and on the two nodes seeing each other. */
const READY_TIMEOUT_MS = 60_000

const ECHO = `(module (memory (export "memory") 1) (global $next (mut i32) (i32.const 1024))
  (func (export "alloc") (param $len i32) (result i32) (local $p i32) (local.set $p (global.get $next)) (global.set $next (i32.add (global.get $next) (local.get $len))) (local.get $p))
  (func (export "run") (param $ptr i32) (param $len i32) (result i64) (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len)))))`

/** What the browser part measured, ms. */
export interface BrowserInvocationResult {
  invoke: { p50: number, p99: number }
  bridgeRoundTrip: { p50: number }
  blockRoundTrip: { p50: number }
  ratioToBlockRoundTrip: number
  /**
   * the same warm calls with the relay stopped, so they cross the tenant ⇄ contributor WebRTC
   * link; the baseline is a raw data channel between the same two pages (16-byte round trip)
   * and the echo's own run time (instantiate + run, in the page)
   */
  overLink: { invoke: { p50: number, p99: number }, rawDataChannel: RawDataChannelResult, echoRunMs: number, p50OverDcRtt: number } | null
  /** a fresh tenant tab's first call, of a ~100 KB module published a moment before, run on the contributor tab */
  cold: {
    moduleBytes: number
    firstCallMs: number
    cachedMs: number[]
    afterReloadMs: number
    /** from the reloaded contributor's node being up to the end of the first call that reached it (the tenant finding it again, then the call) */
    afterReloadFoundMs: number
    prepares: { first: PrepareReport[], afterReload: PrepareReport[] }
    /** each call's stages, ms from the tenant page's call: the first call, the cached ones, the one after the reload */
    stages: { first: Stage[], cached: Stage[][], afterReload: Stage[] }
    /** the first call's largest stages, ms (see {@link coldBreakdown}) */
    firstBreakdown: ReturnType<typeof coldBreakdown>
  }
}
/** How the contributor's executor made a module ready (its workers report it on a BroadcastChannel). */
interface PrepareReport { hash: string, source: 'instrumented' | 'store', ms: number, at: number, hashMs: number, storeMs?: number, instrumentMs?: number, compileMs?: number }
/** A stage mark of one call: where (`tenant` or `contributor` node worker, `executor` worker), what, when (ms from the call's start). */
export interface Stage { where: string, stage: string, ms: number, detail?: string }
/** A mark as the trace channel carries it (src/browser/trace-channel.ts), epoch ms. */
interface Mark { ctx: string, stage: string, at: number, [k: string]: unknown }

/** Starts recording the page origin's module preparations and stage marks. */
async function watchPrepares (page: Page): Promise<void> {
  await page.evaluate(`(() => {
    window.__prepared = []; window.__marks = []
    new BroadcastChannel('shadw-sandbox-prepare').onmessage = ev => { window.__prepared.push(ev.data) }
    new BroadcastChannel('shadw-trace').onmessage = ev => { window.__marks.push(ev.data) }
  })()`)
}

/** Takes (and clears) the marks and preparations `page` recorded. */
async function takeMarks (page: Page): Promise<{ marks: Mark[], prepared: PrepareReport[] }> {
  return await page.evaluate('(() => { const out = { marks: window.__marks, prepared: window.__prepared }; window.__marks = []; window.__prepared = []; return out })()') as { marks: Mark[], prepared: PrepareReport[] }
}

/**
 * One call's stages in time order, ms from `start` (epoch ms): the tenant's node worker's
 * marks, the contributor's, and each executor worker preparation cut into its stages.
 */
async function stagesOf (start: number, tenant: Page, contributor: Page): Promise<{ stages: Stage[], prepared: PrepareReport[] }> {
  const t = await takeMarks(tenant)
  const c = await takeMarks(contributor)
  const out: Stage[] = []
  const at = (x: number): number => Math.round((x - start) * 10) / 10
  const detail = (m: Mark): string | undefined => {
    const rest = Object.entries(m).filter(([k]) => k !== 'ctx' && k !== 'stage' && k !== 'at').map(([k, v]) => `${k}=${String(v)}`)
    return rest.length === 0 ? undefined : rest.join(' ')
  }
  const push = (where: string, m: Mark): void => {
    // marks of an earlier attempt that failed (the reloaded tab not found yet)
    if (m.at < start - 1) return
    const d = detail(m)
    out.push({ where, stage: m.stage, ms: at(m.at), ...(d === undefined ? {} : { detail: d }) })
  }
  for (const m of t.marks) push('tenant', m)
  for (const m of c.marks) push('contributor', m)
  for (const p of c.prepared) {
    let x = p.at
    out.push({ where: 'executor', stage: 'prep.hashed', ms: at(x += p.hashMs) })
    if (p.storeMs !== undefined) out.push({ where: 'executor', stage: `prep.store-read${p.source === 'store' ? ' (hit)' : ' (miss)'}`, ms: at(x += p.storeMs) })
    if (p.instrumentMs !== undefined) out.push({ where: 'executor', stage: 'prep.instrumented', ms: at(x += p.instrumentMs) })
    if (p.compileMs !== undefined) out.push({ where: 'executor', stage: 'prep.compiled', ms: at(x += p.compileMs) })
  }
  return { stages: out.sort((a, b) => a.ms - b.ms), prepared: c.prepared.map(p => ({ ...p, ms: round(p.ms) })) }
}

/** ms between the first marks named `from` and `to` in `stages`; NaN when either is missing. */
function between (stages: Stage[], from: string, to: string): number {
  const a = stages.find(x => x.stage === from)
  const b = stages.find(x => x.stage === to)
  return a === undefined || b === undefined ? NaN : round(b.ms - a.ms)
}

/** The first call's largest stages: the contributor's registry sync and module fetch, the executor worker's preparation, the receipt. */
export function coldBreakdown (stages: Stage[]): { registryMs: number, fetchMs: number, prepareMs: number, receiptMs: number } {
  return {
    registryMs: between(stages, 'load.start', 'load.registry-synced'),
    fetchMs: between(stages, 'load.cache-read', 'load.module-fetched'),
    prepareMs: between(stages, 'exec.run-start', 'exec.run-done'),
    receiptMs: between(stages, 'exec.run-done', 'exec.receipt-recorded')
  }
}

/** One line per stage, for the bench's output. */
export function formatStages (stages: Stage[]): string {
  let last = 0
  return stages.map(s => {
    const line = `  ${s.ms.toFixed(1).padStart(7)} ms (+${(s.ms - last).toFixed(1).padStart(6)})  ${s.where.padEnd(11)} ${s.stage}${s.detail === undefined ? '' : ` [${s.detail}]`}`
    last = s.ms
    return line
  }).join('\n')
}

/** Size of the cold-start module. */
const COLD_BYTES = 100 * 1024

async function open (profile: string, url: string): Promise<{ context: BrowserContext, page: Page, key: string }> {
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: READY_TIMEOUT_MS })
  // the node worker posts its stage marks (src/browser/trace-channel.ts)
  await context.addInitScript(() => { localStorage.setItem('shadwDebug', 'trace') })
  // the media permission lets Chromium put loopback host candidates in its offers (links)
  await context.grantPermissions(['camera', 'microphone'], { origin: new URL(url).origin })
  const page = context.pages()[0] ?? await context.newPage()
  await page.goto(url, { timeout: READY_TIMEOUT_MS })
  const status = await page.evaluate(`window.shadw.ready(${READY_TIMEOUT_MS})`) as { publicKey: string }
  return { context, page, key: status.publicKey }
}

/** Runs in the page as source text (tsx's keepNames helper does not exist there). */
async function sample (page: Page, body: string): Promise<number[]> {
  const samples = await page.evaluate(`(async () => {
    const out = []
    for (let i = 0; i <= ${SAMPLES}; i++) {
      const t = performance.now()
      ${body}
      if (i > 0) out.push(performance.now() - t)
    }
    return out
  })()`) as number[]
  return samples.sort((a, b) => a - b)
}

const round = (x: number): number => Math.round(x * 1000) / 1000
const pct = (s: number[], p: number): number => Math.round((s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? NaN) * 1000) / 1000

/** Peers of `page`'s node with key `key`, by transport ('relay', 'webrtc', …). */
async function transports (page: Page, key: string): Promise<string> {
  const s = await page.evaluate('window.shadw.call(\'status\', {})') as { peers: Array<{ publicKey: string, transport: string }> }
  return s.peers.filter(p => p.publicKey === key).map(p => p.transport).sort().join(',')
}

async function waitFor (what: string, fn: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  while (!await fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

/** Median ms of instantiating and running the echo in `page` itself: the function's run time. */
async function echoRunMs (page: Page, bytes: Uint8Array): Promise<number> {
  const s = await page.evaluate(`(async () => {
    const mod = await WebAssembly.compile(new Uint8Array(${JSON.stringify(Array.from(bytes))}))
    const input = new TextEncoder().encode('ping 0')
    const out = []
    for (let i = 0; i <= ${SAMPLES}; i++) {
      const t = performance.now()
      const inst = await WebAssembly.instantiate(mod, {})
      const p = inst.exports.alloc(input.length)
      new Uint8Array(inst.exports.memory.buffer, p, input.length).set(input)
      inst.exports.run(p, input.length)
      if (i > 0) out.push(performance.now() - t)
    }
    return out
  })()`) as number[]
  return pct(s.sort((a, b) => a - b), 0.5)
}

/**
 * Warm calls from the linked tenant to the contributor over their direct link alone (the
 * relay stopped for the while), against a raw data channel between the same two pages.
 */
async function linkPhase (sn: SuperNode, linked: { page: Page }, contributor: { page: Page, key: string }, ref: string, echo: Uint8Array): Promise<NonNullable<BrowserInvocationResult['overLink']>> {
  await waitFor('the link tenant ⇄ contributor', async () => (await transports(linked.page, contributor.key)).includes('webrtc'))
  await sn.stopRelay()
  try {
    await waitFor('the linked tenant to reach the contributor over the link alone', async () => (await transports(linked.page, contributor.key)) === 'webrtc')
    const invoke = await sample(linked.page, `const a = await window.shadw.call('invoke', { ref: ${JSON.stringify(ref)}, input: new TextEncoder().encode('ping ' + i), deadline: 30000 }, 40000)
      if (new TextDecoder().decode(a.output) !== 'ping ' + i) throw new Error('wrong echo')
      if (a.receipts[0].executor !== ${JSON.stringify(contributor.key)}) throw new Error('not run in the contributor tab')`)
    const raw = await rawDataChannel(contributor.page, linked.page, { messageBytes: 16 * 1024, totalBytes: 16 * 1024 * 1024, pings: 200 })
    const run = await echoRunMs(linked.page, echo)
    const p50 = pct(invoke, 0.5)
    return { invoke: { p50, p99: pct(invoke, 0.99) }, rawDataChannel: raw, echoRunMs: run, p50OverDcRtt: Math.round((p50 - run) / raw.rttMedianMs * 100) / 100 }
  } finally {
    await sn.startRelay()
  }
}

/** Runs the browser part; returns its figures. */
export async function runBrowserInvocationBench (opts: { coldOnly?: boolean } = {}): Promise<BrowserInvocationResult> {
  const tmp = await mkdtemp(join(tmpdir(), 'shadw-bench-invoke-'))
  const app = join(tmp, 'app')
  const contexts: BrowserContext[] = []
  const stops: Array<() => Promise<void>> = []
  try {
    execFileSync('npx', ['vite', 'build', '--outDir', app, '--emptyOutDir', '--logLevel', 'error'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 })
    if (!existsSync(join(app, 'index.html'))) throw new Error('vite build wrote no index.html')
    const sn = await SuperNode.start({ storage: join(tmp, 'super'), appRoot: app, port: 0, workers: 0 })
    stops.push(() => sn.stop())
    const dht = new HyperDHT({ bootstrap: parseBootstrap(sn.info.bootstrap), host: '127.0.0.1' })
    const store = new Corestore(RAM.reusable())
    const node = new ShadwNode({ swarm: new Hyperswarm({ dht, keyPair: crypto.keyPair() }), store, tier: 'super' })
    await node.start()
    stops.push(async () => { await node.stop(); await dht.destroy() })
    const registry = await Registry.create(store, createPublisherKeyPair())
    stops.push(() => registry.close())
    const echoBytes = await compileWat(ECHO)
    await registry.publish(echoBytes, { name: 'echo', version: '1.0.0' })
    const ref = `${registry.key}/echo@1.0.0`
    const coldBytes = await coldModule(COLD_BYTES, 101)
    await registry.publish(coldBytes, { name: 'cold', version: '1.0.0' })
    const coldRef = `${registry.key}/cold@1.0.0`

    // the contributor takes links; the tenant never does (its calls are relayed), the linked
    // tenant does (its calls cross the link once the relay is stopped)
    const contributor = await open(join(tmp, 'contributor'), `${sn.info.appUrl}?execute=1`)
    const tenant = await open(join(tmp, 'tenant'), `${sn.info.appUrl}?webrtc=off`)
    const linked = await open(join(tmp, 'linked'), sn.info.appUrl)
    contexts.push(contributor.context, tenant.context, linked.context)
    // blocks the contributor appends, for the relayed round-trip baseline between the same two
    // nodes: replication is sparse, so each `get` of a block the tenant lacks is one request
    const log = await contributor.page.evaluate(`(async () => {
      const { key } = await window.shadw.call('createLog', { name: 'bench' })
      await window.shadw.call('append', { key, blocks: Array.from({ length: ${SAMPLES + 1} }, () => new Uint8Array(16)) })
      return key
    })()`) as string
    await tenant.page.evaluate(`(async () => {
      await window.shadw.call('follow', { key: ${JSON.stringify(log)} })
      await window.shadw.call('waitForLength', { key: ${JSON.stringify(log)}, length: ${SAMPLES + 1}, timeout: 30000 }, 40000)
    })()`)

    // before anything else the tenant invokes: a fresh tenant's first call
    const callOnce = async (): Promise<{ ms: number, start: number }> => await tenant.page.evaluate(`(async () => {
      const t = performance.now()
      const a = await window.shadw.call('invoke', { ref: ${JSON.stringify(coldRef)}, input: new Uint8Array(16).fill(1), deadline: 30000 }, 40000)
      if (a.receipts[0].executor !== ${JSON.stringify(contributor.key)}) throw new Error('not run in the contributor tab')
      const end = performance.now()
      return { ms: end - t, start: performance.timeOrigin + t }
    })()`) as { ms: number, start: number }
    let lastStages: Stage[] = []
    let lastPrepared: PrepareReport[] = []
    const callCold = async (): Promise<number> => {
      const { ms, start } = await callOnce()
      const { stages, prepared } = await stagesOf(start, tenant.page, contributor.page)
      lastStages = [...stages, { where: 'tenant', stage: 'page has the result', ms: round(ms) }]
      lastPrepared = prepared
      return ms
    }
    await watchPrepares(tenant.page)
    await watchPrepares(contributor.page)
    const firstCallMs = await callCold()
    const firstStages = lastStages
    const firstPrepares = lastPrepared
    const cachedMs: number[] = []
    const cachedStages: Stage[][] = []
    for (let i = 0; i < 5; i++) { cachedMs.push(await callCold()); cachedStages.push(lastStages) }

    const warm = opts.coldOnly !== true
    const echoCalls = `const a = await window.shadw.call('invoke', { ref: ${JSON.stringify(ref)}, input: new TextEncoder().encode('ping ' + i), deadline: 30000 }, 40000)
      if (new TextDecoder().decode(a.output) !== 'ping ' + i) throw new Error('wrong echo')
      if (a.receipts[0].executor !== ${JSON.stringify(contributor.key)}) throw new Error('not run in the contributor tab')`
    const invoke = warm ? await sample(tenant.page, echoCalls) : []
    const bridge = warm ? await sample(tenant.page, 'await window.shadw.call(\'status\', {})') : []
    const getBlocks = `await window.shadw.call('get', { key: ${JSON.stringify(log)}, index: i, timeout: 20000 }, 30000)`
    const blocks = warm ? await sample(tenant.page, getBlocks) : []
    const linkOrNull = async (): Promise<BrowserInvocationResult['overLink']> => await linkPhase(sn, linked, contributor, ref, echoBytes).catch((err: unknown) => {
      console.error(`browser invocation over the link not measured: ${err instanceof Error ? err.message : String(err)}`)
      return null
    })
    const overLink = warm ? await linkOrNull() : null
    // the contributor reloads (same profile: its OPFS keeps the module bytes) and is found again
    await contributor.page.reload({ timeout: READY_TIMEOUT_MS })
    await contributor.page.evaluate(`window.shadw.ready(${READY_TIMEOUT_MS})`)
    await watchPrepares(contributor.page)
    await takeMarks(tenant.page)
    let afterReloadMs = NaN
    const reloaded = Date.now()
    const until = reloaded + READY_TIMEOUT_MS
    // the tenant's router finds the reloaded contributor again once its adverts arrive
    const failures = new Map<string, number>()
    while (Number.isNaN(afterReloadMs) && Date.now() < until) {
      afterReloadMs = await callCold().catch(async (err: unknown) => {
        const what = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? ''
        failures.set(what, (failures.get(what) ?? 0) + 1)
        await new Promise(resolve => setTimeout(resolve, 250))
        return NaN
      })
    }
    // what the tenant heard while it had not found the reloaded tab
    for (const [what, n] of failures) console.error(`after the reload, ${n} call(s) failed: ${what}`)
    // from the reloaded tab's node being up to the end of the call that found it
    const afterReloadFoundMs = Date.now() - reloaded
    const afterReloadPrepares = lastPrepared
    return {
      invoke: { p50: pct(invoke, 0.5), p99: pct(invoke, 0.99) },
      bridgeRoundTrip: { p50: pct(bridge, 0.5) },
      blockRoundTrip: { p50: pct(blocks, 0.5) },
      ratioToBlockRoundTrip: Math.round(pct(invoke, 0.5) / pct(blocks, 0.5) * 100) / 100,
      overLink,
      cold: { moduleBytes: coldBytes.byteLength, firstCallMs: round(firstCallMs), cachedMs: cachedMs.map(round), afterReloadMs: round(afterReloadMs), afterReloadFoundMs, prepares: { first: firstPrepares, afterReload: afterReloadPrepares }, stages: { first: firstStages, cached: cachedStages, afterReload: lastStages }, firstBreakdown: coldBreakdown(firstStages) }
    }
  } finally {
    for (const c of contexts) await c.close().catch(() => {})
    for (const stop of stops.reverse()) await stop().catch(() => {})
    await rm(tmp, { recursive: true, force: true })
  }
}

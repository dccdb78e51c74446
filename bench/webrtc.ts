/**
 * WebRTC benchmark: browser → browser replication over a direct WebRTC link against the same
 * over the super node's relay, in one run. Printed and written to bench/results/webrtc.json.
 *
 * Three headless Chromium processes on one super node (real relay, embedded DHT on loopback),
 * each with a persistent profile (OPFS on disk) and the media permission (loopback ICE
 * candidates):
 * - W writes three logs of BLOCKS random blocks of 16 KiB (in its node worker);
 * - R (WebRTC on) opens a direct link to W;
 * - P (`?webrtc=off`) only ever reaches W through the relay.
 * Measured, every block verified by Hypercore, each log fetched once (nothing local before):
 * - relay:   P downloads log 1 from W through the relay;
 * - both:    R downloads log 2 with the relay and the link up (Hypercore uses both peers); the
 *            share of the bytes that crossed the link is read from R's page;
 * - webrtc:  the relay is stopped, then R downloads log 3 over the link alone.
 * Latency: LATENCY_SAMPLES single-block `get`s of blocks not local yet, one after another (a
 * request and its response with proof, the round trip an invocation's request would make),
 * by P over the relay and by R over the link; median and p90 as the bridge call saw them.
 * Raw baseline (same run): a raw RTCDataChannel W → R between the same two pages, same ICE
 * setup, 16 KiB messages, 16-byte round trips and 16-byte requests answered by 16 KiB
 * (bench/raw-datachannel.ts): the link's throughput and block round trip as ratios to it.
 * Bridge cost: in R's page, a Dedicated Worker takes 64 KiB ArrayBuffers transferred over a
 * MessagePort, as the link bridge does, and answers pings: MB/s and µs per round trip.
 * Invocation: the super node takes links too (`webrtc: true`) and is the only executor; P calls
 * an `echo` function over the relay, R over its link to the super node with the relay stopped
 * (browsers do not execute for the swarm yet, so browser → browser invocation has no callee):
 * INVOKE_SAMPLES warm calls each, median and p90 as the page's bridge call saw them.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, platform, release, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import type { BridgeMethod, BridgeMethods, BridgeStatus } from '../src/browser/bridge-protocol.ts'
import type { PageLinkStats } from '../src/core/links/link-host.ts'
import type { DownloadResult } from '../src/core/node/index.ts'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import hypercoreCrypto from 'hypercore-crypto'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { ShadwNode } from '../src/core/node/shadw-node.ts'
import { createPublisherKeyPair, Registry } from '../src/core/registry/index.ts'
import { parseBootstrap, SuperNode } from '../src/super-node/super-node.ts'
import { wat } from '../test/fixtures/wasm/fixtures.ts'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/helpers/chromium-flags.ts'
import { rawDataChannel } from './raw-datachannel.ts'
import { attachWorkerProfiles } from './cpu-profile.ts'

/** Blocks per log: 32.8 MB at 16 KiB, long enough to reach a steady rate on both paths. */
const BLOCKS = 2_000
/** Block size: the chunky case of the replication bench. */
const BLOCK_SIZE = 16 * 1024
/** Blocks per append call: 8 MiB, under the bridge's 16 MiB message cap. */
const APPEND_BATCH = 500
/** Single-block round trips per path for latency. */
const LATENCY_SAMPLES = 50
/** Warm invocations per path for invocation latency (after one cold call that loads the function). */
const INVOKE_SAMPLES = 50
/** Bytes per bridge-cost message: the link's chunk size (MAX_LINK_CHUNK_BYTES). */
const BRIDGE_CHUNK = 64 * 1024
/** Bytes pushed through the bridge-cost worker. */
const BRIDGE_BYTES = 64 * 1024 * 1024
/** Ping-pongs for the bridge round trip. */
const BRIDGE_PINGS = 2_000
/** 16-byte round trips on the raw data channel baseline. */
const RAW_PINGS = 200
/** Decimal megabytes, as network figures are quoted. */
const MB = 1_000_000
/** Bound on one download or wait (the bridge caps a call at 60 s). */
const CALL_TIMEOUT_MS = 60_000
/** Bound on Chromium and the node coming up, and on peers seeing each other. */
const READY_TIMEOUT_MS = 60_000

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const RESULTS = new URL('./results/webrtc.json', import.meta.url)
const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits

async function call<M extends BridgeMethod> (page: Page, method: M, params: BridgeMethods[M]['params'], timeoutMs = CALL_TIMEOUT_MS): Promise<BridgeMethods[M]['result']> {
  return await page.evaluate(async ([m, p, t]) => {
    const shadw = (window as unknown as { shadw: { call (m: string, p: unknown, t: number): Promise<unknown> } }).shadw
    return await shadw.call(m, p, t)
  }, [method, params, timeoutMs + 5_000] as const) as BridgeMethods[M]['result']
}

async function linkStats (page: Page): Promise<PageLinkStats> {
  const s = await page.evaluate(() => (window as unknown as { shadwLinks: { stats (): Promise<PageLinkStats | null> } }).shadwLinks.stats())
  if (s === null) throw new Error('page hosts no link manager')
  return s
}

async function until<T> (what: string, fn: () => Promise<T | null | false>, timeoutMs = READY_TIMEOUT_MS): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v !== null && v !== false) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}

async function transports (page: Page, key: string): Promise<string> {
  return (await call(page, 'status', {})).peers.filter(p => p.publicKey === key).map(p => p.transport).sort().join(',')
}

/** `BENCH_CPU_PROF=DIR`: CPU profiles of R's and W's pages and workers during the link-only download, written to DIR. */
const PROFILE_DIR = process.env['BENCH_CPU_PROF'] ?? null

type Profiles = Awaited<ReturnType<typeof attachWorkerProfiles>> | null

async function openBrowser (profile: string, url: string, profiled = false): Promise<{ context: BrowserContext, page: Page, key: string, profiles: Profiles }> {
  const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: READY_TIMEOUT_MS })
  await context.grantPermissions(['camera', 'microphone'], { origin: new URL(url).origin })
  const page = context.pages()[0] ?? await context.newPage()
  const profiles = PROFILE_DIR !== null && profiled ? await attachWorkerProfiles(await context.newCDPSession(page)) : null
  page.on('pageerror', err => { console.error('[page error]', err.message) })
  await page.goto(url, { timeout: READY_TIMEOUT_MS })
  const status = await page.evaluate(async t => await (window as unknown as { shadw: { ready (t: number): Promise<BridgeStatus> } }).shadw.ready(t), READY_TIMEOUT_MS)
  return { context, page, key: status.publicKey, profiles }
}

async function writeLog (page: Page, name: string): Promise<string> {
  const { key } = await call(page, 'createLog', { name })
  for (let i = 0; i < BLOCKS; i += APPEND_BATCH) {
    await page.evaluate(async ([k, n, size]) => {
      const blocks = Array.from({ length: n }, () => crypto.getRandomValues(new Uint8Array(size)))
      await (window as unknown as { shadw: { call (m: string, p: unknown, t: number): Promise<unknown> } }).shadw.call('append', { key: k, blocks }, 60_000)
    }, [key, Math.min(APPEND_BATCH, BLOCKS - i), BLOCK_SIZE] as const)
  }
  return key
}

interface PathResult { mbPerS: number, bytes: number, ms: number, latencyMedianMs: number | null, latencyP90Ms: number | null }

/** Latency (first LATENCY_SAMPLES blocks, one at a time) then throughput (the rest, one range request). */
async function measure (page: Page, key: string, withLatency: boolean): Promise<PathResult> {
  await call(page, 'follow', { key })
  await call(page, 'waitForLength', { key, length: BLOCKS, timeout: CALL_TIMEOUT_MS })
  let median: number | null = null
  let p90: number | null = null
  let start = 0
  if (withLatency) {
    const samples = await page.evaluate(async ([k, n]) => {
      const shadw = (window as unknown as { shadw: { call (m: string, p: unknown, t: number): Promise<unknown> } }).shadw
      const out: number[] = []
      for (let i = 0; i < n; i++) {
        const t = performance.now()
        await shadw.call('get', { key: k, index: i, timeout: 20_000 }, 25_000)
        out.push(performance.now() - t)
      }
      return out
    }, [key, LATENCY_SAMPLES] as const)
    samples.sort((a, b) => a - b)
    median = samples[Math.floor(samples.length / 2)] ?? null
    p90 = samples[Math.floor(samples.length * 0.9)] ?? null
    start = LATENCY_SAMPLES
  }
  const r: DownloadResult = await call(page, 'download', { key, start, end: BLOCKS, timeout: CALL_TIMEOUT_MS })
  if (r.fetched !== BLOCKS - start) throw new Error(`expected ${BLOCKS - start} blocks fetched, got ${r.fetched}`)
  return { mbPerS: r.bytes / MB / (r.ms / 1000), bytes: r.bytes, ms: r.ms, latencyMedianMs: median, latencyP90Ms: p90 }
}

/** A publisher node on the super node's DHT with an `echo` function; returns its ref and a stop. */
async function publishEcho (bootstrap: string[]): Promise<{ ref: string, stop (): Promise<void> }> {
  const dht = new HyperDHT({ bootstrap: parseBootstrap(bootstrap), host: '127.0.0.1' })
  const store = new Corestore(RAM.reusable())
  const node = new ShadwNode({ swarm: new Hyperswarm({ dht, keyPair: hypercoreCrypto.keyPair() }), store, tier: 'super' })
  await node.start()
  const registry = await Registry.create(store, createPublisherKeyPair())
  await registry.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
  return {
    ref: `${registry.key}/echo@1.0.0`,
    stop: async () => { await registry.close(); await node.stop(); await dht.destroy() }
  }
}

/** Sequential warm invocations of `ref` from the page: median and p90 as the bridge call saw them. */
async function invokeLatency (page: Page, ref: string): Promise<{ medianMs: number, p90Ms: number }> {
  const samples = await page.evaluate(`(async () => {
    const out = []
    for (let i = 0; i <= ${INVOKE_SAMPLES}; i++) {
      const t = performance.now()
      const a = await window.shadw.call('invoke', { ref: ${JSON.stringify(ref)}, input: new TextEncoder().encode('ping ' + i), deadline: 30000 }, 40000)
      if (new TextDecoder().decode(a.output) !== 'ping ' + i) throw new Error('wrong echo')
      if (i > 0) out.push(performance.now() - t)
    }
    return out
  })()`) as number[]
  samples.sort((a, b) => a - b)
  return { medianMs: samples[Math.floor(samples.length / 2)] ?? NaN, p90Ms: samples[Math.floor(samples.length * 0.9)] ?? NaN }
}

/** The page ⇄ worker hop that every link byte makes, alone: transfer throughput and round trip. */
async function bridgeCost (page: Page): Promise<{ transferMbPerS: number, roundTripUs: number }> {
  // Sent as source text: tsx's keepNames wraps functions in a __name helper the page lacks.
  const script = `(async () => {
    const src = 'let n = 0; onmessage = e => { const d = e.data; if (d === "done") { postMessage(n); n = 0 } else if (d === "ping") postMessage("pong"); else n += d.byteLength }'
    const worker = new Worker(URL.createObjectURL(new Blob([src], { type: 'text/javascript' })))
    let resolveReply = null
    worker.onmessage = ev => { resolveReply(ev.data) }
    const t0 = performance.now()
    for (let sent = 0; sent < ${BRIDGE_BYTES}; sent += ${BRIDGE_CHUNK}) {
      const ab = new ArrayBuffer(${BRIDGE_CHUNK})
      worker.postMessage(ab, [ab])
    }
    const got = new Promise(resolve => { resolveReply = resolve })
    worker.postMessage('done')
    const n = await got
    const ms = performance.now() - t0
    const t1 = performance.now()
    for (let i = 0; i < ${BRIDGE_PINGS}; i++) {
      const pong = new Promise(resolve => { resolveReply = resolve })
      worker.postMessage('ping')
      await pong
    }
    const rt = (performance.now() - t1) / ${BRIDGE_PINGS}
    worker.terminate()
    return { transferMbPerS: n / 1e6 / (ms / 1000), roundTripUs: rt * 1000 }
  })()`
  return await page.evaluate(script) as { transferMbPerS: number, roundTripUs: number }
}

/** Runs the WebRTC bench; prints WebRTC/relay ratios; writes bench/results/webrtc.json. */
export async function runWebrtcBench (): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'shadw-bench-webrtc-'))
  const app = join(tmp, 'app')
  const contexts: BrowserContext[] = []
  let superNode: SuperNode | null = null
  let echo: { ref: string, stop (): Promise<void> } | null = null
  try {
    execFileSync('npx', ['vite', 'build', '--outDir', app, '--emptyOutDir', '--logLevel', 'error'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], timeout: 120_000 })
    if (!existsSync(join(app, 'index.html'))) throw new Error('vite build wrote no index.html')
    // the super node takes links too (@roamhq/wrtc) and executes: invocations have somewhere to go
    const sn = await SuperNode.start({ storage: join(tmp, 'super'), appRoot: app, port: 0, webrtc: true, workers: 1 })
    superNode = sn
    echo = await publishEcho(sn.info.bootstrap)
    const url = sn.info.appUrl
    const w = await openBrowser(join(tmp, 'w'), url, true)
    const r = await openBrowser(join(tmp, 'r'), url, true)
    const p = await openBrowser(join(tmp, 'p'), url + '?webrtc=off')
    contexts.push(w.context, r.context, p.context)
    const chromiumVersion = w.context.browser()?.version() ?? 'unknown'
    await until('the direct link R ⇄ W', async () => (await transports(r.page, w.key)).includes('webrtc'))
    await until('the relayed connection P ⇄ W', async () => (await transports(p.page, w.key)).includes('relay'))
    console.log(`three Chromium ${chromiumVersion} nodes on ${url}; R ⇄ W: ${await transports(r.page, w.key)}, P ⇄ W: ${await transports(p.page, w.key)}`)

    const t = performance.now()
    const logs = [await writeLog(w.page, 'relay'), await writeLog(w.page, 'both'), await writeLog(w.page, 'webrtc')] as const
    console.log(`W wrote 3 × ${BLOCKS} × 16 KiB in ${Math.round(performance.now() - t)} ms`)

    await until('the direct link R ⇄ super node', async () => (await transports(r.page, sn.info.publicKey)).includes('webrtc'))
    const invokeRelay = await invokeLatency(p.page, echo.ref)
    const relay = await measure(p.page, logs[0], true)
    const before = await linkStats(r.page)
    const both = await measure(r.page, logs[1], false)
    const after = await linkStats(r.page)
    const linkShare = Math.min(1, (after.bytesIn - before.bytesIn) / both.bytes)

    await sn.stopRelay()
    await until('R to reach W only over the link', async () => (await transports(r.page, w.key)) === 'webrtc')
    for (const b of [w, r]) await b.profiles?.start()
    const webrtc = await measure(r.page, logs[2], true)
    if (PROFILE_DIR !== null) for (const [name, b] of [['w', w], ['r', r]] as const) await b.profiles?.stop(join(PROFILE_DIR, name))
    await until('R to reach the super node only over the link', async () => (await transports(r.page, sn.info.publicKey)) === 'webrtc')
    const invokeWebrtc = await invokeLatency(r.page, echo.ref)
    await sn.startRelay()

    // the same-run baseline: a raw data channel W → R between the same two pages, same ICE setup
    const raw = await rawDataChannel(w.page, r.page, { messageBytes: BLOCK_SIZE, totalBytes: (BLOCKS - LATENCY_SAMPLES) * BLOCK_SIZE, pings: RAW_PINGS })
    const overRaw = webrtc.mbPerS / raw.mbPerS
    const rttOverRaw = webrtc.latencyMedianMs === null ? null : webrtc.latencyMedianMs / raw.rttMedianMs
    const rttOverRawBlock = webrtc.latencyMedianMs === null ? null : webrtc.latencyMedianMs / raw.blockRttMedianMs
    const bridge = await bridgeCost(r.page)
    const ratio = webrtc.mbPerS / relay.mbPerS
    const latencyRatio = webrtc.latencyMedianMs !== null && relay.latencyMedianMs !== null ? webrtc.latencyMedianMs / relay.latencyMedianMs : null

    console.log(`\nbrowser → browser, ${BLOCKS} × 16 KiB blocks per log, OPFS on both ends (MB = 10^6 bytes)`)
    console.log(`  relay (P ← W)          ${relay.mbPerS.toFixed(1).padStart(6)} MB/s   block round trip median ${relay.latencyMedianMs?.toFixed(1)} ms, p90 ${relay.latencyP90Ms?.toFixed(1)} ms`)
    console.log(`  webrtc (R ← W)         ${webrtc.mbPerS.toFixed(1).padStart(6)} MB/s   block round trip median ${webrtc.latencyMedianMs?.toFixed(1)} ms, p90 ${webrtc.latencyP90Ms?.toFixed(1)} ms`)
    console.log(`  relay + webrtc (R ← W) ${both.mbPerS.toFixed(1).padStart(6)} MB/s   ${(linkShare * 100).toFixed(0)}% of the bytes over the link`)
    console.log(`  webrtc / relay: throughput ${ratio.toFixed(2)}×, block round trip ${latencyRatio?.toFixed(2) ?? '-'}× (lower is faster)`)
    console.log(`  raw data channel (W → R, same pages, ${BLOCK_SIZE} B messages) ${raw.mbPerS.toFixed(1).padStart(6)} MB/s   16 B round trip median ${raw.rttMedianMs.toFixed(2)} ms, p90 ${raw.rttP90Ms.toFixed(2)} ms`)
    console.log(`  raw data channel, 16 B request answered by ${BLOCK_SIZE} B: round trip median ${raw.blockRttMedianMs.toFixed(2)} ms, p90 ${raw.blockRttP90Ms.toFixed(2)} ms`)
    console.log(`  webrtc / raw data channel: throughput ${overRaw.toFixed(2)}× (goal ≥ 0.5), block round trip ${rttOverRaw?.toFixed(2) ?? '-'}× the raw round trip (goal ≤ 3), ${rttOverRawBlock?.toFixed(2) ?? '-'}× the raw block-sized round trip`)
    console.log(`\nbrowser → super node executor (--webrtc, --workers 1), echo, ${INVOKE_SAMPLES} warm invocations`)
    console.log(`  relay (P)   median ${invokeRelay.medianMs.toFixed(1)} ms, p90 ${invokeRelay.p90Ms.toFixed(1)} ms`)
    console.log(`  webrtc (R)  median ${invokeWebrtc.medianMs.toFixed(1)} ms, p90 ${invokeWebrtc.p90Ms.toFixed(1)} ms`)
    console.log(`  webrtc / relay: invocation latency ${(invokeWebrtc.medianMs / invokeRelay.medianMs).toFixed(2)}× (lower is faster)`)
    console.log(`  bridge hop alone (page ⇄ worker MessagePort, 64 KiB transfers): ${bridge.transferMbPerS.toFixed(0)} MB/s, round trip ${bridge.roundTripUs.toFixed(0)} µs`)

    const cpuList = cpus()
    const result = {
      date: new Date().toISOString(),
      machine: { cpus: cpuList.length, cpuModel: cpuList[0]?.model ?? 'unknown', os: `${platform()} ${release()}`, node: process.version, chromium: chromiumVersion },
      method: {
        blocks: BLOCKS,
        blockSize: BLOCK_SIZE,
        latency: `${LATENCY_SAMPLES} sequential single-block gets of blocks not yet local, as the page's bridge call saw them`,
        throughput: 'ShadwNode.download over the remaining blocks, ms in the reader node worker',
        paths: 'relay: reader with ?webrtc=off; both: reader with a link and the relay up; webrtc: same reader, relay stopped'
      },
      relay: { ...relay, mbPerS: round(relay.mbPerS), ms: round(relay.ms, 1) },
      webrtc: { ...webrtc, mbPerS: round(webrtc.mbPerS), ms: round(webrtc.ms, 1) },
      rawDataChannel: { ...raw, mbPerS: round(raw.mbPerS), rttMedianMs: round(raw.rttMedianMs, 3), rttP90Ms: round(raw.rttP90Ms, 3), blockRttMedianMs: round(raw.blockRttMedianMs, 3), blockRttP90Ms: round(raw.blockRttP90Ms, 3) },
      both: { ...both, mbPerS: round(both.mbPerS), ms: round(both.ms, 1), linkShare: round(linkShare, 3) },
      invocation: { relay: { medianMs: round(invokeRelay.medianMs), p90Ms: round(invokeRelay.p90Ms) }, webrtc: { medianMs: round(invokeWebrtc.medianMs), p90Ms: round(invokeWebrtc.p90Ms) } },
      ratios: { webrtcOverRelayThroughput: round(ratio, 3), webrtcOverRelayLatency: latencyRatio === null ? null : round(latencyRatio, 3), webrtcOverRelayInvocation: round(invokeWebrtc.medianMs / invokeRelay.medianMs, 3), webrtcOverRawDataChannel: round(overRaw, 3), webrtcBlockRttOverDcRtt: rttOverRaw === null ? null : round(rttOverRaw, 3), webrtcBlockRttOverDcBlockRtt: rttOverRawBlock === null ? null : round(rttOverRawBlock, 3) },
      bridge: { transferMbPerS: round(bridge.transferMbPerS, 0), roundTripUs: round(bridge.roundTripUs, 0) }
    }
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
    writeFileSync(RESULTS, JSON.stringify(result, null, 2) + '\n')
    console.log(`\nwrote ${RESULTS.pathname}`)
  } finally {
    for (const c of contexts) await c.close().catch(() => {})
    await echo?.stop().catch(() => {})
    if (superNode !== null) await superNode.stop().catch(err => { console.error(String(err)) })
    await rm(tmp, { recursive: true, force: true })
  }
}

/**
 * Replication benchmark: how fast a Hypercore log (the Hypercore 10 line, as browsers run it)
 * replicates from a super node into a Node reader and into the browser node worker, for
 * 10,000 blocks of 1 KiB and of 16 KiB. Printed and written to bench/results/replication.json.
 *
 * One writer for both readers: a real super node (SuperNode.start, in this process, with its
 * embedded DHT on 127.0.0.1 and its relay) holds both logs on disk. Then
 * - Node→Node: a ShadwNode in a child process (bench/replication-reader.ts) follows each log
 *   over native UDX and downloads it into a Corestore on disk;
 *   before each log the same two processes move the same bytes over a raw secret-stream
 *   (bench/raw-stream.ts) on TCP, the baseline of the Node→Node ratio, and on UDX (a
 *   HyperDHT connection, the transport Hypercore runs on here), a diagnostic one;
 * - Node→browser: the app in headless Chromium with a persistent profile (OPFS on disk; an
 *   incognito profile's OPFS is ~10× slower, which is not what users see) follows each log
 *   through the relay and downloads it in the node worker.
 * Both readers call ShadwNode.download (one Hypercore range request, every block verified);
 * the time is from that request to the last block stored. Discovery and connection are done
 * before the clock starts (the log's full length is known). MB/s is 10^6 payload bytes per
 * second; the ratio is browser / Node for each block size.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { cpus, platform, release, tmpdir, totalmem } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import type { BridgeMethod, BridgeMethods, BridgeStatus } from '../src/browser/bridge-protocol.ts'
import type { DownloadResult } from '../src/core/node/index.ts'
import { parseBootstrap, SuperNode } from '../src/super-node/super-node.ts'
import type { CpuAsk, CpuSpent, CpuTold, ReaderLogResult, ReaderReply, ReaderTask } from './replication-reader.ts'
import { startRawStreamServer, type Datagrams, type RawStreamResult } from './raw-stream.ts'
import { startWorkerProfiles, startWriterProfile } from './cpu-profile.ts'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/helpers/chromium-flags.ts'

/** Blocks per log: the size the issue asks for. */
const BLOCKS = 10_000
/** Block sizes measured: small records and chunky ones. */
const BLOCK_SIZES = [1024, 16 * 1024] as const
/** Blocks per append: 16 MiB batches at 16 KiB keep the writer's memory flat. */
const APPEND_BATCH = 1_000
/** Bytes in a megabyte for MB/s: decimal, as network figures are quoted. */
const MB = 1_000_000
/**
 * Bound on each download (and on the log's length reaching a reader). The bridge caps a call
 * at 60 s (MAX_CALL_TIMEOUT_MS); 160 MB in that time is 2.7 MB/s, well under what we see.
 */
const DOWNLOAD_TIMEOUT_MS = 60_000
/** The page's call to the node gets the worker's bound plus the bridge round trip. */
const CALL_MARGIN_MS = 5_000
/**
 * Bound on the child reader, its start-up included: per log three timed parts (the raw stream
 * over UDX, over TCP, the download), each bounded by DOWNLOAD_TIMEOUT_MS.
 */
const READER_TIMEOUT_MS = BLOCK_SIZES.length * 3 * DOWNLOAD_TIMEOUT_MS + 30_000
/** Bound on the browser node coming up: Chromium start, OPFS, relay, DHT announce. */
const NODE_READY_TIMEOUT_MS = 30_000
/**
 * Bound on the browser node and the super node seeing each other over the relay. Generous:
 * the first connection is often half-open (the browser sees it, the super node never does)
 * and only a retry 15-40 s later gets through; not timed as replication.
 */
const PEER_TIMEOUT_MS = 90_000
/** Bound on each teardown step: a wedged part must not hang the bench. */
const TEARDOWN_TIMEOUT_MS = 15_000
/**
 * BENCH_BROWSER=0 measures Node→Node only (for quick before/after runs); BENCH_CPU_PROF=DIR
 * writes a V8 CPU profile of both processes (writer: the download phases only; the super
 * node's side of the browser part in writer-browser/, the page's workers in browser-workers/) into DIR.
 */
const WITH_BROWSER = process.env['BENCH_BROWSER'] !== '0'
/**
 * BENCH_READER_RELAY=1: the Node reader dials the super node through its WebSocket relay, as
 * the browser does, to tell the relay path's share from Chromium's (the ratios are then
 * browser / relayed Node, and the raw stream baseline stays direct).
 */
const READER_RELAY = process.env['BENCH_READER_RELAY'] === '1'
const CPU_PROF_DIR = process.env['BENCH_CPU_PROF']
/** Bound on `vite build`: about a second here. */
const BUILD_TIMEOUT_MS = 120_000

const ROOT = fileURLToPath(new URL('../', import.meta.url))
const READER = fileURLToPath(new URL('./replication-reader.ts', import.meta.url))
const RESULTS = new URL('./results/replication.json', import.meta.url)

const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits
const cpuPerBlock = (c: CpuSpent, blocks: number): { reader: number, writer: number, readerSys: number, writerSys: number } => ({
  reader: round(c.readerMs * 1000 / blocks, 1),
  writer: round(c.writerMs * 1000 / blocks, 1),
  readerSys: round(c.readerSysMs * 1000 / blocks, 1),
  writerSys: round(c.writerSysMs * 1000 / blocks, 1)
})
const datagramsPerBlock = (d: Datagrams, blocks: number): { in: number, out: number } => ({ in: round(d.in / blocks, 2), out: round(d.out / blocks, 2) })
const mbps = (bytes: number, ms: number): number => bytes / MB / (ms / 1000)

/** Rejects with a clear message when `promise` takes longer than `ms`. */
async function bounded<T> (what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`${what} timed out after ${ms} ms`)) }, ms) })
    ])
  } finally {
    clearTimeout(timer)
  }
}

interface Measured extends DownloadResult {
  blockSize: number
  /** follow() until the full length is known (discovery, connection): before the clock starts */
  setupMs: number
  /** the download call as Node saw it (for the browser: through page.evaluate and the bridge) */
  e2eMs: number
  mbPerS: number
  e2eMbPerS: number
  blocksPerS: number
  /** the raw secret-stream baseline over TCP between the same two processes (Node reader only) */
  raw: (RawStreamResult & { mbPerS: number, cpu: CpuSpent }) | null
  /** the same over UDX (a HyperDHT connection): how much of the gap is the transport's */
  rawUdx: (RawStreamResult & { mbPerS: number, cpu: CpuSpent }) | null
  /** CPU both processes spent on the download (Node reader only) */
  cpu: CpuSpent | null
  /** UDX datagrams the reader received and sent during the download (Node reader only) */
  datagrams: Datagrams | null
}

type RawMeasured = (RawStreamResult & { cpu: CpuSpent }) | null

function measured (blockSize: number, r: DownloadResult, setupMs: number, e2eMs: number, raw: RawMeasured = null, rawUdx: RawMeasured = null, cpu: CpuSpent | null = null, datagrams: Datagrams | null = null): Measured {
  if (r.fetched !== BLOCKS) throw new Error(`expected ${BLOCKS} blocks fetched, got ${r.fetched}: was the log already local?`)
  return {
    blocks: r.blocks,
    fetched: r.fetched,
    bytes: r.bytes,
    ms: r.ms,
    blockSize,
    setupMs,
    e2eMs,
    mbPerS: mbps(r.bytes, r.ms),
    e2eMbPerS: mbps(r.bytes, e2eMs),
    blocksPerS: r.fetched / (r.ms / 1000),
    raw: raw === null ? null : { ...raw, mbPerS: mbps(raw.bytes, raw.ms) },
    rawUdx: rawUdx === null ? null : { ...rawUdx, mbPerS: mbps(rawUdx.bytes, rawUdx.ms) },
    cpu,
    datagrams
  }
}

/** Wall time of each phase of the run, to keep the whole bench within its budget. */
const phases: Record<string, number> = {}

async function phase<T> (name: string, fn: () => Promise<T> | T): Promise<T> {
  const t = performance.now()
  try {
    return await fn()
  } finally {
    phases[name] = Math.round(performance.now() - t)
  }
}

/** Builds the app into `outDir`: a private build matches this tree and races no one's `dist/`. */
function buildApp (outDir: string): void {
  const t = performance.now()
  execFileSync('npx', ['vite', 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'error'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], timeout: BUILD_TIMEOUT_MS })
  if (!existsSync(join(outDir, 'index.html'))) throw new Error(`vite build wrote no index.html to ${outDir}`)
  console.log(`built the app (vite build) into ${outDir} in ${Math.round(performance.now() - t)} ms`)
}

async function writeLogs (superNode: SuperNode): Promise<Array<{ blockSize: number, key: string }>> {
  const logs: Array<{ blockSize: number, key: string }> = []
  for (const blockSize of BLOCK_SIZES) {
    const t = performance.now()
    const { key } = await superNode.node.createLog(`bench-${blockSize}`)
    for (let i = 0; i < BLOCKS; i += APPEND_BATCH) {
      // random: no block is like another, nothing compresses or dedups along the way
      const batch = Array.from({ length: Math.min(APPEND_BATCH, BLOCKS - i) }, () => randomBytes(blockSize))
      await superNode.node.append(key, batch)
    }
    console.log(`  wrote ${BLOCKS} × ${blockSize / 1024} KiB on the super node in ${Math.round(performance.now() - t)} ms`)
    logs.push({ blockSize, key })
  }
  return logs
}

/** Node→Node: the child reader follows and downloads every log. */
async function nodeReader (superNode: SuperNode, storage: string, logs: Array<{ blockSize: number, key: string }>): Promise<Measured[]> {
  const execArgv = ['--import', 'tsx', ...(CPU_PROF_DIR === undefined ? [] : ['--cpu-prof', '--cpu-prof-dir', join(CPU_PROF_DIR, 'reader')])]
  const child: ChildProcess = fork(READER, [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const rawServer = await startRawStreamServer(parseBootstrap(superNode.info.bootstrap))
  const profile = CPU_PROF_DIR === undefined ? null : await startWriterProfile()
  try {
    const reply = await bounded('Node reader', READER_TIMEOUT_MS, new Promise<ReaderReply>((resolve, reject) => {
      child.on('message', (msg: ReaderReply | CpuAsk) => {
        if (msg.type === 'cpu?') {
          const u = process.cpuUsage()
          child.send({ type: 'cpu', micros: u.user + u.system, sysMicros: u.system } satisfies CpuTold)
        } else {
          resolve(msg)
        }
      })
      child.once('error', reject)
      child.once('exit', code => { reject(new Error(`Node reader exited (code ${String(code)}) without a result`)) })
      const task: ReaderTask = { type: 'run', bootstrap: superNode.info.bootstrap, storage, logs: logs.map(l => ({ key: l.key, blocks: BLOCKS, blockSize: l.blockSize })), rawPort: rawServer.port, rawUdxKey: rawServer.udxKey, timeoutMs: DOWNLOAD_TIMEOUT_MS, ...(READER_RELAY ? { relayUrl: superNode.info.relayUrl } : {}) }
      child.send(task)
    }))
    if (reply.type === 'error') throw new Error(`Node reader: ${reply.message}`)
    return logs.map(l => {
      const r = reply.logs.find(x => x.key === l.key) as ReaderLogResult
      return measured(l.blockSize, r, r.setupMs, r.e2eMs, r.raw, r.rawUdx, r.cpu, r.datagrams)
    })
  } finally {
    if (profile !== null && CPU_PROF_DIR !== undefined) await profile.stop(join(CPU_PROF_DIR, 'writer'))
    await rawServer.close()
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise(resolve => child.once('exit', resolve))
      // a profiled child writes its profile as it exits by itself: give it the time
      if (CPU_PROF_DIR !== undefined) await bounded('Node reader exit', TEARDOWN_TIMEOUT_MS, exited).catch(() => {})
      child.kill()
      await bounded('Node reader exit', TEARDOWN_TIMEOUT_MS, exited).catch(() => {})
    }
  }
}

/** Calls the page's node over the bridge (see test/helpers/app-page.ts). */
async function call<M extends BridgeMethod> (page: Page, method: M, params: BridgeMethods[M]['params'], timeoutMs: number): Promise<BridgeMethods[M]['result']> {
  return await page.evaluate(async ([m, p, t]) => {
    const shadw = (window as unknown as { shadw: { call (m: string, p: unknown, t: number): Promise<unknown> } }).shadw
    return await shadw.call(m, p, t)
  }, [method, params, timeoutMs] as const) as BridgeMethods[M]['result']
}

/** Node→browser: the app's node worker follows and downloads every log. */
async function browserReader (superNode: SuperNode, profile: string, logs: Array<{ blockSize: number, key: string }>): Promise<{ rows: Measured[], chromiumVersion: string }> {
  const launched = performance.now()
  const context: BrowserContext = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: NODE_READY_TIMEOUT_MS })
  let workerProfiles: Awaited<ReturnType<typeof startWorkerProfiles>> | null = null
  try {
    phases['chromium launch'] = Math.round(performance.now() - launched)
    const page = context.pages()[0] ?? await context.newPage()
    page.on('pageerror', err => { console.error('[page error]', err.message) })
    const cdp = await context.newCDPSession(page)
    const chromiumVersion = (await cdp.send('Browser.getVersion')).product
    workerProfiles = CPU_PROF_DIR === undefined ? null : await startWorkerProfiles(cdp)
    await page.goto(superNode.info.appUrl, { timeout: NODE_READY_TIMEOUT_MS })
    const status = await page.evaluate(async t => await (window as unknown as { shadw: { ready (t: number): Promise<BridgeStatus> } }).shadw.ready(t), NODE_READY_TIMEOUT_MS)
    phases['browser node ready'] = Math.round(performance.now() - launched) - (phases['chromium launch'] ?? 0)
    if (status.storage !== 'opfs') throw new Error(`browser node storage is ${status.storage}, not OPFS`)
    // both ends must see the connection: the browser's side alone may be half-open
    const connecting = performance.now()
    const deadline = Date.now() + PEER_TIMEOUT_MS
    const connected = async (): Promise<boolean> => (await call(page, 'status', {}, NODE_READY_TIMEOUT_MS)).peers.some(p => p.publicKey === superNode.info.publicKey) &&
      superNode.status().peers.some(p => p.publicKey === status.publicKey)
    while (!(await connected())) {
      if (Date.now() > deadline) throw new Error(`browser node and super node did not see each other within ${PEER_TIMEOUT_MS} ms`)
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    phases['browser ↔ super node connection'] = Math.round(performance.now() - connecting)
    const rows: Measured[] = []
    for (const l of logs) {
      const t0 = performance.now()
      await call(page, 'follow', { key: l.key }, NODE_READY_TIMEOUT_MS)
      await call(page, 'waitForLength', { key: l.key, length: BLOCKS, timeout: DOWNLOAD_TIMEOUT_MS }, DOWNLOAD_TIMEOUT_MS + CALL_MARGIN_MS)
      const t1 = performance.now()
      const r = await call(page, 'download', { key: l.key, start: 0, end: BLOCKS, timeout: DOWNLOAD_TIMEOUT_MS }, DOWNLOAD_TIMEOUT_MS + CALL_MARGIN_MS)
      rows.push(measured(l.blockSize, r, t1 - t0, performance.now() - t1))
    }
    return { rows, chromiumVersion }
  } finally {
    // written even when a download failed: a slow one is what the profile is for
    if (workerProfiles !== null && CPU_PROF_DIR !== undefined) await bounded('worker profiles', TEARDOWN_TIMEOUT_MS, workerProfiles.stop(join(CPU_PROF_DIR, 'browser-workers'))).catch(err => { console.error(String(err)) })
    await bounded('closing Chromium', TEARDOWN_TIMEOUT_MS, context.close()).catch(err => { console.error(String(err)) })
  }
}

function printRows (where: string, rows: Measured[]): void {
  console.log(`\n${where} (${BLOCKS} blocks; MB = 10^6 bytes; time in the reader / as Node saw the call)`)
  for (const r of rows) {
    console.log(`  ${`${r.blockSize / 1024} KiB`.padEnd(7)} ${r.mbPerS.toFixed(1).padStart(7)} MB/s  ${Math.round(r.blocksPerS).toString().padStart(6)} blocks/s  ${(r.bytes / MB).toFixed(1).padStart(6)} MB in ${Math.round(r.ms).toString().padStart(6)} ms  (end to end ${r.e2eMbPerS.toFixed(1)} MB/s, ${Math.round(r.e2eMs)} ms; follow until full length known ${Math.round(r.setupMs)} ms)`)
    if (r.raw !== null) console.log(`          raw secret-stream between the same processes over TCP ${r.raw.mbPerS.toFixed(1)} MB/s: Hypercore at ${(r.mbPerS / r.raw.mbPerS).toFixed(3)}× of it`)
    if (r.rawUdx !== null) console.log(`          raw secret-stream between the same processes over UDX ${r.rawUdx.mbPerS.toFixed(1)} MB/s: Hypercore at ${(r.mbPerS / r.rawUdx.mbPerS).toFixed(3)}× of it${r.raw === null ? '' : `, UDX at ${(r.rawUdx.mbPerS / r.raw.mbPerS).toFixed(3)}× of TCP`}`)
    if (r.cpu !== null && r.raw !== null) {
      const us = (ms: number): string => (ms * 1000 / r.blocks).toFixed(0)
      const perBlock = (c: CpuSpent): string => `reader ${us(c.readerMs)} (system ${us(c.readerSysMs)}) + writer ${us(c.writerMs)} (system ${us(c.writerSysMs)}) µs`
      console.log(`          CPU per block: Hypercore ${perBlock(r.cpu)}, raw stream over TCP ${perBlock(r.raw.cpu)}${r.rawUdx === null ? '' : `, over UDX ${perBlock(r.rawUdx.cpu)}`}`)
    }
    if (r.datagrams !== null) {
      const perBlock = (d: Datagrams): string => `${(d.in / r.blocks).toFixed(2)} in + ${(d.out / r.blocks).toFixed(2)} out`
      console.log(`          UDX datagrams per block at the reader: Hypercore ${perBlock(r.datagrams)}${r.rawUdx?.datagrams === undefined ? '' : `, raw stream ${perBlock(r.rawUdx.datagrams)}`}`)
    }
  }
}

/** Runs the replication bench, prints MB/s and browser/Node ratios, writes bench/results/replication.json. */
export async function runReplicationBench (): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), 'shadw-bench-repl-'))
  const dirs = { app: join(tmp, 'app'), superNode: join(tmp, 'super'), reader: join(tmp, 'reader'), profile: join(tmp, 'chromium') }
  let superNode: SuperNode | null = null
  try {
    if (WITH_BROWSER) await phase('vite build', () => { buildApp(dirs.app) })
    else mkdirSync(dirs.app, { recursive: true })
    const started = await phase('super node start', async () => await SuperNode.start({ storage: dirs.superNode, appRoot: dirs.app, port: 0 }))
    superNode = started
    console.log(`super node ${started.info.appUrl} (DHT ${started.info.bootstrap.join(',')})`)
    const logs = await phase('write logs', async () => await writeLogs(started))

    const node = await phase('Node reader (child process)', async () => await nodeReader(started, dirs.reader, logs))
    printRows(READER_RELAY ? 'Node→Node through the relay (super node → relay → WebSocket → ShadwNode in another process, disk)' : 'Node→Node (super node → ShadwNode in another process, native UDX, disk)', node)

    let browser: { rows: Measured[], chromiumVersion: string } | { skipped: string }
    try {
      if (!WITH_BROWSER) throw new Error('BENCH_BROWSER=0')
      // the super node's side of the browser download: relay, Hypercore, storage in one process
      const profile = CPU_PROF_DIR === undefined ? null : await startWriterProfile()
      try {
        browser = await phase('browser reader', async () => await browserReader(started, dirs.profile, logs))
      } finally {
        if (profile !== null && CPU_PROF_DIR !== undefined) await profile.stop(join(CPU_PROF_DIR, 'writer-browser'))
      }
      printRows(`Node→browser (super node → node worker in ${browser.chromiumVersion}, relay, OPFS)`, browser.rows)
    } catch (err) {
      browser = { skipped: `browser part failed: ${(err as Error).message.split('\n')[0] ?? ''}` }
      console.log(`\nbrowser part skipped: ${browser.skipped}`)
    }

    const ratios = BLOCK_SIZES.map(blockSize => {
      const n = node.find(r => r.blockSize === blockSize) as Measured
      const b = 'skipped' in browser ? null : browser.rows.find(r => r.blockSize === blockSize) as Measured
      return { blockSize, nodeMbPerS: n.mbPerS, browserMbPerS: b?.mbPerS ?? null, ratio: b === null ? null : b.mbPerS / n.mbPerS, e2eRatio: b === null ? null : b.e2eMbPerS / n.e2eMbPerS }
    })
    console.log('\nMB/s               Node→Node  Node→browser  browser/Node')
    for (const r of ratios) {
      console.log(`  ${`${r.blockSize / 1024} KiB blocks`.padEnd(16)} ${r.nodeMbPerS.toFixed(1).padStart(9)}  ${(r.browserMbPerS?.toFixed(1) ?? '-').padStart(12)}  ${(r.ratio === null ? '-' : `${r.ratio.toFixed(2)}×`).padStart(12)}`)
    }
    console.log('  (a colleague measured the browser at about 0.3× of Node on this machine)')
    console.log(`\nphases: ${Object.entries(phases).map(([k, v]) => `${k} ${v} ms`).join(', ')}`)

    const row = (r: Measured): Record<string, unknown> => ({
      blockSize: r.blockSize,
      blocks: r.blocks,
      fetched: r.fetched,
      bytes: r.bytes,
      ms: round(r.ms, 1),
      mbPerS: round(r.mbPerS, 2),
      e2eMs: round(r.e2eMs, 1),
      setupMs: round(r.setupMs, 1),
      e2eMbPerS: round(r.e2eMbPerS, 2),
      blocksPerS: Math.round(r.blocksPerS),
      ...(r.raw === null ? {} : { raw: { ms: round(r.raw.ms, 1), bytes: r.raw.bytes, mbPerS: round(r.raw.mbPerS, 2), cpuUsPerBlock: cpuPerBlock(r.raw.cpu, r.blocks) }, overRaw: round(r.mbPerS / r.raw.mbPerS) }),
      ...(r.rawUdx === null ? {} : { rawUdx: { ms: round(r.rawUdx.ms, 1), bytes: r.rawUdx.bytes, mbPerS: round(r.rawUdx.mbPerS, 2), cpuUsPerBlock: cpuPerBlock(r.rawUdx.cpu, r.blocks), ...(r.rawUdx.datagrams === undefined ? {} : { datagramsPerBlock: datagramsPerBlock(r.rawUdx.datagrams, r.blocks) }) }, overRawUdx: round(r.mbPerS / r.rawUdx.mbPerS) }),
      ...(r.datagrams === null ? {} : { datagramsPerBlock: datagramsPerBlock(r.datagrams, r.blocks) }),
      ...(r.cpu === null ? {} : { cpuUsPerBlock: cpuPerBlock(r.cpu, r.blocks) })
    })
    const cpuList = cpus()
    const result = {
      date: new Date().toISOString(),
      machine: {
        cpus: cpuList.length,
        cpuModel: cpuList[0]?.model ?? 'unknown',
        totalMemBytes: totalmem(),
        os: `${platform()} ${release()}`,
        node: process.version,
        chromium: 'skipped' in browser ? null : browser.chromiumVersion
      },
      method: {
        blocks: BLOCKS,
        mb: 'MB = 10^6 payload bytes; ms from the range request to the last block stored, in the reader',
        writer: 'SuperNode (in-process, Hypercore 10 on disk, embedded DHT on 127.0.0.1)',
        nodeReader: READER_RELAY ? 'ShadwNode in a child process through the super node relay (WebSocket), Corestore on disk' : 'ShadwNode in a child process, native UDX, Corestore on disk',
        browserReader: 'app node worker in headless Chromium, persistent profile (OPFS), through the super node relay',
        e2e: 'the download call as Node saw it (browser: page.evaluate and the bridge included)'
      },
      nodeToNode: node.map(row),
      nodeToBrowser: 'skipped' in browser ? browser : browser.rows.map(row),
      ratios: ratios.map(r => ({
        blockSize: r.blockSize,
        browserOverNode: r.ratio === null ? null : round(r.ratio),
        e2eBrowserOverNode: r.e2eRatio === null ? null : round(r.e2eRatio)
      })),
      phasesMs: phases,
      reference: 'a colleague measured the browser side at about 0.3x of Node on this machine'
    }
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
    writeFileSync(RESULTS, JSON.stringify(result, null, 2) + '\n')
    console.log(`\nwrote ${RESULTS.pathname}`)
  } finally {
    if (superNode !== null) await bounded('stopping the super node', TEARDOWN_TIMEOUT_MS, superNode.stop()).catch(err => { console.error(String(err)) })
    await rm(tmp, { recursive: true, force: true })
  }
}

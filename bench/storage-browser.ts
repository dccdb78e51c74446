/**
 * Storage benchmark, browser side: one 256 MiB file into and out of a browser node (headless
 * Chromium, a persistent profile so OPFS is on disk), each as a ratio to raw Hypercore
 * replication of the same bytes into the same browser, measured in the same run.
 *
 * - raw in: a Node writer appends 256 MiB to a plain log in 64 KiB blocks, the super node
 *   downloads it, the writer leaves; the page's node downloads the whole log from the super
 *   node (bridge `download` calls of 32 MiB each, the bridge's longest wait being 60 s).
 *   Run first and last; the best of the two is the baseline.
 * - get: a Node writer puts the same bytes into a drive, the super node downloads the drive,
 *   the writer leaves; the page fetches `/drive/<key>/bench.bin` through its service worker,
 *   which its own node answers window by window (fetching and verifying every block from the
 *   super node), and counts the body's bytes as they stream.
 * - put: the Storage view's own path: a drive created in the view, a 256 MiB file on disk
 *   picked in its file input, streamed from `File.stream()` into the tab's node in 4 MiB
 *   chunks until the view reports the new version. Then, for information, the time the super
 *   node takes to download that drive from the tab.
 * get ratio = raw in / get; put ratio = raw in / put (both move the bytes into the browser
 * node's OPFS-backed logs; put adds the page → node worker bridge and Hyperdrive).
 */
import { execFileSync } from 'node:child_process'
import { createWriteStream, existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import { chromium, type BrowserContext, type Page } from 'playwright-core'
import { Drive } from '../src/core/drive/index.ts'
import { ShadwNode } from '../src/core/node/index.ts'
import { parseBootstrap, SuperNode } from '../src/super-node/super-node.ts'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/helpers/chromium-flags.ts'

const ROOT = fileURLToPath(new URL('../', import.meta.url))
/** Bound on a tab's node coming up. */
const READY_TIMEOUT_MS = 60_000
/** Bound on each timed phase. */
const PHASE_TIMEOUT_MS = 900_000
/** Blocks per bridge `download` call: 32 MiB, well inside the bridge's 60 s cap per call. */
const DOWNLOAD_SPAN = 512
const MB = 1_000_000

/** What the browser part measured. */
export interface BrowserStorageResult {
  fileBytes: number
  ms: { rawIn: number[], get: number, put: number, putReplicateToSuperNode: number }
  mbps: { rawIn: number, get: number, put: number, putReplicateToSuperNode: number }
  ratios: { getOverRaw: number, putOverRaw: number }
}

const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits

async function within<T> (what: string, p: Promise<T>, ms = PHASE_TIMEOUT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([p, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`${what} timed out`)) }, ms) })])
  } finally {
    clearTimeout(timer)
  }
}

async function lightNode (bootstrap: string[], dir: string): Promise<{ node: ShadwNode, stop (): Promise<void> }> {
  const dht = new HyperDHT({ bootstrap: parseBootstrap(bootstrap), host: '127.0.0.1' })
  const node = new ShadwNode({ swarm: new Hyperswarm({ dht }), store: new Corestore(dir), tier: 'light' })
  await node.start()
  return { node, stop: async () => { await node.stop(); await dht.destroy() } }
}

/** Calls the page's node (the app's `window.shadw`); source text, as tsx's helpers do not exist there. */
async function call (page: Page, method: string, params: unknown, timeoutMs = 70_000): Promise<unknown> {
  return await page.evaluate(`window.shadw.call(${JSON.stringify(method)}, ${JSON.stringify(params)}, ${timeoutMs})`)
}

/** Raw in: a plain log made and held by the super node, then downloaded by the page's node. */
async function rawIn (page: Page, superNode: SuperNode, bootstrap: string[], dir: string, bytes: number, block: (i: number) => Uint8Array): Promise<number> {
  const up = await lightNode(bootstrap, dir)
  const log = await up.node.createLog('bench-raw')
  const blocks = bytes / block(0).byteLength
  for (let i = 0; i < blocks; i += 256) await up.node.append(log.key, Array.from({ length: Math.min(256, blocks - i) }, (_, j) => block(i + j)))
  await superNode.node.follow(log.key)
  await superNode.node.waitForLength(log.key, blocks, PHASE_TIMEOUT_MS)
  await superNode.node.download(log.key, { start: 0, end: blocks }, { timeout: PHASE_TIMEOUT_MS })
  await up.stop()
  await call(page, 'follow', { key: log.key })
  const started = performance.now()
  for (let start = 0; start < blocks; start += DOWNLOAD_SPAN) {
    await call(page, 'download', { key: log.key, start, end: Math.min(blocks, start + DOWNLOAD_SPAN), timeout: 60_000 })
  }
  const ms = performance.now() - started
  console.log(`  browser raw replicate ← super node   ${(ms / 1000).toFixed(2).padStart(7)} s  ${round(bytes / MB / (ms / 1000), 1).toString().padStart(6)} MB/s`)
  return ms
}

/** Get: the drive is held by the super node; the page streams the file through its service worker. */
async function driveGet (page: Page, superNode: SuperNode, bootstrap: string[], dir: string, file: () => AsyncIterable<Uint8Array>, bytes: number): Promise<number> {
  const up = await lightNode(bootstrap, dir)
  const { drive } = await Drive.create(up.node)
  await drive.put('/bench.bin', file())
  const held = await Drive.open(superNode.node, drive.key)
  await held.download()
  await held.close()
  await drive.close()
  await up.stop()
  const r = await within('browser drive get', page.evaluate(`(async () => {
    const t = performance.now()
    const res = await fetch('/drive/${drive.key}/bench.bin')
    const reader = res.body.getReader()
    let n = 0
    for (;;) { const { value, done } = await reader.read(); if (done) break; n += value.byteLength }
    return { ms: performance.now() - t, n, status: res.status, via: res.headers.get('x-shadw-served-by') }
  })()`) as Promise<{ ms: number, n: number, status: number, via: string | null }>)
  if (r.status !== 200 || r.n !== bytes || r.via !== 'browser-node') throw new Error(`drive get answered ${r.status} via ${String(r.via)} with ${r.n} bytes`)
  console.log(`  browser drive get ← super node       ${(r.ms / 1000).toFixed(2).padStart(7)} s  ${round(bytes / MB / (r.ms / 1000), 1).toString().padStart(6)} MB/s`)
  return r.ms
}

/** Put: the Storage view uploads a file from disk into a drive of the tab; then the super node fetches it. */
async function drivePut (page: Page, superNode: SuperNode, path: string, bytes: number): Promise<{ put: number, replicate: number }> {
  await page.evaluate('location.hash = "storage"')
  await page.locator('#drive-create').click()
  const key = await within('drive create', (async () => {
    for (let i = 0; i < 600; i++) {
      const k = await page.locator('#drive-created').getAttribute('data-key')
      if (k !== null) return k
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    throw new Error('the view did not create a drive')
  })())
  const started = performance.now()
  await page.locator('#upload-files').setInputFiles(path)
  await within('browser drive put', (async () => {
    for (;;) {
      if (await page.locator('#upload-state').getAttribute('data-version') !== null) return
      const code = await page.locator('#upload-state').getAttribute('data-code')
      if (code !== null) throw new Error(`upload failed: ${code}: ${await page.locator('#upload-state').textContent() ?? ''}`)
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  })())
  const put = performance.now() - started
  console.log(`  browser drive put (Storage view)     ${(put / 1000).toFixed(2).padStart(7)} s  ${round(bytes / MB / (put / 1000), 1).toString().padStart(6)} MB/s`)
  const t = performance.now()
  const held = await Drive.open(superNode.node, key)
  await within('super node download of the browser drive', held.download())
  const replicate = performance.now() - t
  await held.close()
  console.log(`  super node replicate ← browser drive ${(replicate / 1000).toFixed(2).padStart(7)} s  ${round(bytes / MB / (replicate / 1000), 1).toString().padStart(6)} MB/s`)
  return { put, replicate }
}

/** Writes the benchmark file to disk for the file input, block by block. */
async function writeFileOnDisk (path: string, file: () => AsyncIterable<Uint8Array>): Promise<void> {
  const out = createWriteStream(path)
  for await (const b of file()) if (!out.write(b)) await once(out, 'drain')
  out.end()
  await once(out, 'close')
}

/** Runs the browser part on its own super node and Chromium; returns its figures. */
export async function runBrowserStorageBench (o: { bytes: number, block: (i: number) => Uint8Array, file: () => AsyncIterable<Uint8Array> }): Promise<BrowserStorageResult> {
  const tmp = await mkdtemp(join(tmpdir(), 'shadw-bench-storage-browser-'))
  let context: BrowserContext | null = null
  let superNode: SuperNode | null = null
  try {
    const app = join(tmp, 'app')
    execFileSync('npx', ['vite', 'build', '--outDir', app, '--emptyOutDir', '--logLevel', 'error'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'], timeout: 180_000 })
    if (!existsSync(join(app, 'index.html'))) throw new Error('vite build wrote no index.html')
    superNode = await SuperNode.start({ storage: join(tmp, 'super'), appRoot: app, port: 0, workers: 0, diskBudget: 0 })
    const bootstrap = superNode.info.bootstrap
    const path = join(tmp, 'bench.bin')
    await writeFileOnDisk(path, o.file)
    context = await chromium.launchPersistentContext(join(tmp, 'profile'), { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: READY_TIMEOUT_MS })
    const page = context.pages()[0] ?? await context.newPage()
    await page.goto(superNode.info.appUrl, { timeout: READY_TIMEOUT_MS })
    await page.evaluate(`window.shadw.ready(${READY_TIMEOUT_MS})`)
    await page.evaluate('navigator.serviceWorker.ready')
    for (let i = 0; i < 200 && !(await page.evaluate('navigator.serviceWorker.controller !== null') as boolean); i++) await new Promise(resolve => setTimeout(resolve, 100))

    const raw1 = await within('browser raw in', rawIn(page, superNode, bootstrap, join(tmp, 'raw1'), o.bytes, o.block))
    const get = await driveGet(page, superNode, bootstrap, join(tmp, 'get'), o.file, o.bytes)
    const { put, replicate } = await drivePut(page, superNode, path, o.bytes)
    const raw2 = await within('browser raw in', rawIn(page, superNode, bootstrap, join(tmp, 'raw2'), o.bytes, o.block))
    const raw = Math.min(raw1, raw2)
    const mbps = (ms: number): number => round(o.bytes / MB / (ms / 1000), 1)
    const result: BrowserStorageResult = {
      fileBytes: o.bytes,
      ms: { rawIn: [round(raw1, 0), round(raw2, 0)], get: round(get, 0), put: round(put, 0), putReplicateToSuperNode: round(replicate, 0) },
      mbps: { rawIn: mbps(raw), get: mbps(get), put: mbps(put), putReplicateToSuperNode: mbps(replicate) },
      ratios: { getOverRaw: round(raw / get), putOverRaw: round(raw / put) }
    }
    console.log(`  browser: get / raw in: ${round(result.ratios.getOverRaw, 2)}×   put / raw in: ${round(result.ratios.putOverRaw, 2)}×   (goal ≥ 0.7×)`)
    return result
  } finally {
    await context?.close().catch(() => {})
    await superNode?.stop().catch(() => {})
    await rm(tmp, { recursive: true, force: true })
  }
}

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { AddressInfo } from 'node:net'
import { chromium, type Browser, type Page } from 'playwright-core'
import { createServer, type InlineConfig, type ViteDevServer } from 'vite'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { CHROMIUM_ARGS, CHROMIUM_PATH, launchChromium, newContext } from '../../helpers/chromium.ts'
import { describeModuleStore } from '../../compliance/module-store.ts'
import { describeRandomAccessStorage, type StorageTarget } from '../../compliance/random-access-storage.ts'
import { OPFS } from '../../compliance/storage-capabilities.ts'
import type { CallResult, StorageOp, WorkerCommand } from './pages/opfs-protocol.ts'
import type { OpfsTestApi } from './pages/opfs-page.ts'

declare global {
  interface Window { opfsTest: OpfsTestApi }
}

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/**
 * The Vite settings Hypercore 10 + Corestore 6 need in a browser worker, and no more. They are
 * CommonJS, so they must be pre-bundled; listing them with discovery off means the optimizer
 * runs once at start-up instead of finding them mid-test and reloading the page.
 */
const VITE_CONFIG: InlineConfig = {
  root: REPO_ROOT,
  configFile: false,
  logLevel: 'warn',
  // a private optimizer cache: the shared node_modules/.vite belongs to the app's own config
  cacheDir: 'node_modules/.vite-opfs-test',
  // no HMR and no watcher: other engineers edit the tree while tests run
  server: { host: '127.0.0.1', port: 0, hmr: false, watch: null },
  optimizeDeps: {
    noDiscovery: true,
    include: ['hypercore', 'corestore', 'random-access-memory', 'random-access-storage', 'b4a']
  }
}

/** Bounds every wait on the browser: a hung worker fails the test instead of stalling it. */
const CALL_TIMEOUT_MS = 30_000

/**
 * The quota the full-disk test imposes: far above what the OPFS itself uses when empty (a
 * 1 MiB quota already refuses a 1-byte write) and far below the 2× write that must fail.
 */
const QUOTA_BYTES = 16 * 1024 * 1024

let server: ViteDevServer
let pageUrl: string

beforeAll(async () => {
  server = await createServer(VITE_CONFIG)
  await server.listen()
  const { port } = server.httpServer?.address() as AddressInfo
  pageUrl = `http://127.0.0.1:${port}/test/browser/browser/pages/opfs.html`
})

afterAll(async () => { await server?.close() })

function withTimeout<T> (p: Promise<T>, what: string, ms = CALL_TIMEOUT_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms) })
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer))
}

async function waitReady (page: Page): Promise<void> {
  await page.waitForFunction(() => window.opfsTest?.ready === true, null, { timeout: CALL_TIMEOUT_MS })
}

/** A fresh browser and context (so a fresh OPFS), with the test page loaded. */
async function openPage (): Promise<Page> {
  const browser = await launchChromium()
  const context = await newContext(browser)
  const page = await context.newPage()
  await page.goto(pageUrl, { timeout: CALL_TIMEOUT_MS })
  await waitReady(page)
  return page
}

async function reload (page: Page): Promise<void> {
  await page.reload({ timeout: CALL_TIMEOUT_MS })
  await waitReady(page)
}

function spawn (page: Page): Promise<number> {
  return withTimeout(page.evaluate(() => window.opfsTest.spawn()), 'spawn')
}

function send (page: Page, worker: number, cmd: WorkerCommand): Promise<CallResult> {
  return withTimeout(page.evaluate(([w, c]) => window.opfsTest.call(w, c), [worker, cmd] as const), cmd.kind)
}

/** Sends a command that must succeed and returns its value. */
async function must<T> (page: Page, worker: number, cmd: WorkerCommand): Promise<T> {
  const r = await send(page, worker, cmd)
  if (!r.ok) throw new Error(`${cmd.kind} failed: ${r.error.message}`)
  return r.value as T
}

async function open (page: Page, worker: number, root: string, name: string, options?: Extract<WorkerCommand, { kind: 'open' }>['options']): Promise<number> {
  return await must<number>(page, worker, { kind: 'open', impl: 'opfs', root, name, ...(options === undefined ? {} : { options }) })
}

function op (page: Page, worker: number, sid: number, call: StorageOp): Promise<CallResult> {
  return send(page, worker, { kind: 'op', sid, call })
}

/** A deterministic PRNG (mulberry32), so the compliance script is the same on every run. */
function prng (seed: number): () => number {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

function hexOf (bytes: number[]): string {
  return Buffer.from(bytes).toString('hex')
}

describe('OPFS random-access-storage adapter', () => {
  it('gives the same results as random-access-memory for the same script of operations', async () => {
    const page = await openPage()
    const w = await spawn(page)
    const opfs = await open(page, w, 'compliance', 'file')
    const ram = await must<number>(page, w, { kind: 'open', impl: 'ram', root: '', name: 'ram' })

    const rand = prng(42)
    const int = (n: number): number => Math.floor(rand() * n)
    let size = 0
    const script: StorageOp[] = [
      { op: 'write', offset: 0, hex: hexOf([1, 2, 3, 4, 5, 6, 7, 8]) },
      { op: 'write', offset: 20, hex: hexOf([9, 9]) }, // leaves a hole of zeros
      { op: 'read', offset: 6, size: 16 },
      { op: 'del', offset: 2, size: 3 }, // in the middle: zeros
      { op: 'del', offset: 18, size: 100 }, // reaches the end: truncates
      { op: 'truncate', offset: 30 }, // grows with zeros
      { op: 'truncate', offset: 4 }
    ]
    for (let i = 0; i < 150; i++) {
      const kind = int(5)
      if (kind === 0 || kind === 1) script.push({ op: 'write', offset: int(48), hex: hexOf(Array.from({ length: 1 + int(24) }, () => int(256))) })
      else if (kind === 2) script.push({ op: 'read', offset: int(64), size: 1 + int(24) })
      else if (kind === 3) script.push({ op: 'del', offset: int(48), size: 1 + int(24) })
      else script.push({ op: 'truncate', offset: int(64) })
    }

    let compared = 0
    for (const call of script) {
      // random-access-memory grows the file when deleting past its end; we leave it alone
      // (tested below), so the script only deletes where something is stored
      if (call.op === 'del' && call.offset >= size) continue
      const [a, b] = [await op(page, w, opfs, call), await op(page, w, ram, call)]
      expect(a.ok, JSON.stringify(call)).toBe(b.ok)
      if (a.ok && b.ok) expect(a.value, JSON.stringify(call)).toEqual(b.value)
      if (!a.ok && !b.ok) expect([call.op, a.error.code]).toEqual(['read', 'EPARTIALREAD'])
      const [sa, sb] = [await op(page, w, opfs, { op: 'stat' }), await op(page, w, ram, { op: 'stat' })]
      expect(sa).toEqual(sb)
      size = (sa as { value: { size: number } }).value.size
      compared++
    }
    expect(compared).toBeGreaterThan(120)
    const all = { op: 'read', offset: 0, size } as const
    expect(await op(page, w, opfs, all)).toEqual(await op(page, w, ram, all))
  })

  it('opens a missing file for reading with ENOENT and creates it only on the first write', async () => {
    const page = await openPage()
    const w = await spawn(page)
    const sid = await open(page, w, 'lazy', 'cores/ab/oplog')
    const missing = await op(page, w, sid, { op: 'stat' })
    expect(missing.ok ? null : missing.error.code).toBe('ENOENT')
    expect(await must(page, w, { kind: 'list', root: 'lazy' })).toEqual([])

    expect(await op(page, w, sid, { op: 'write', offset: 3, hex: 'ff' })).toEqual({ ok: true, value: null })
    expect(await op(page, w, sid, { op: 'read', offset: 0, size: 4 })).toEqual({ ok: true, value: '000000ff' })
    expect(await must(page, w, { kind: 'list', root: 'lazy' })).toEqual(['cores/ab/oplog'])
  })

  it('maps path segments to nested directories and removes emptied ones on unlink', async () => {
    const page = await openPage()
    const w = await spawn(page)
    const deep = await open(page, w, 'nest', 'a/b/c')
    const side = await open(page, w, 'nest', 'a/d')
    await must(page, w, { kind: 'op', sid: deep, call: { op: 'write', offset: 0, hex: 'c0' } })
    await must(page, w, { kind: 'op', sid: side, call: { op: 'write', offset: 0, hex: 'd0' } })
    expect(await must(page, w, { kind: 'list', root: 'nest' })).toEqual(['a/b/c', 'a/d'])

    expect(await op(page, w, deep, { op: 'unlink' })).toEqual({ ok: true, value: null })
    expect(await must(page, w, { kind: 'list', root: 'nest' })).toEqual(['a/d'])

    const bad = await send(page, w, { kind: 'open', impl: 'opfs', root: 'nest', name: '../escape' })
    expect(bad.ok ? null : bad.error.code).toBe('INVALID_ARGUMENT')
  })

  it('keeps bytes written without close across a page reload', async () => {
    const page = await openPage()
    const w = await spawn(page)
    const sid = await open(page, w, 'reload', 'x/file')
    expect(await op(page, w, sid, { op: 'write', offset: 0, hex: 'deadbeef' })).toEqual({ ok: true, value: null })

    // the worker dies with the file open; the next one may find it still locked for a moment
    await reload(page)
    const w2 = await spawn(page)
    const again = await open(page, w2, 'reload', 'x/file')
    expect(await op(page, w2, again, { op: 'read', offset: 0, size: 4 })).toEqual({ ok: true, value: 'deadbeef' })
    expect(await op(page, w2, again, { op: 'stat' })).toEqual({ ok: true, value: { size: 4 } })
  })
})

describe('Hypercore 10 on OPFS', () => {
  const BLOCKS = Array.from({ length: 64 }, (_, i) => `block-${i}`)

  it('reopens a core after a reload with the same key, length and blocks', async () => {
    const page = await openPage()
    const w = await spawn(page)
    const written = await must<{ key: string, length: number }>(page, w, { kind: 'core-append', root: 'core', blocks: BLOCKS, close: false })
    expect(written.length).toBe(64)

    await reload(page)
    const w2 = await spawn(page)
    const read = await must<{ key: string, length: number, blocks: string[] }>(page, w2, { kind: 'core-read', root: 'core', createIfMissing: false })
    expect(read).toEqual({ key: written.key, length: 64, blocks: BLOCKS })
    expect(await must(page, w2, { kind: 'list', root: 'core' })).toEqual(['bitfield', 'data', 'oplog', 'tree'])
  })

  it('reopens a named Corestore core after a reload', async () => {
    const page = await openPage()
    const w = await spawn(page)
    const written = await must<{ key: string, length: number }>(page, w, { kind: 'store-append', root: 'store', name: 'receipts', blocks: BLOCKS.slice(0, 10) })

    await reload(page)
    const w2 = await spawn(page)
    const read = await must<{ key: string, length: number, blocks: string[] }>(page, w2, { kind: 'store-read', root: 'store', name: 'receipts' })
    expect(read).toEqual({ key: written.key, length: 10, blocks: BLOCKS.slice(0, 10) })
    const files = await must<string[]>(page, w2, { kind: 'list', root: 'store' })
    expect(files[files.length - 1]).toBe('primary-key')
    // ten blocks may still sit in the oplog (the write-ahead log open() replays: the hypercore
    // patch flushes tree and bitfield every 1024 operations), so those two files may not exist yet
    const names = files.filter(f => f.startsWith('cores/')).map(f => f.split('/').pop())
    expect(names).toEqual(expect.arrayContaining(['data', 'oplog']))
    expect(names.every(n => ['bitfield', 'data', 'oplog', 'tree'].includes(n ?? ''))).toBe(true)
  })
})

describe('bad input', () => {
  it('fails with STORAGE_LOCKED when another worker holds the file, after bounded retries', async () => {
    const page = await openPage()
    const holder = await spawn(page)
    const other = await spawn(page)
    const held = await open(page, holder, 'lock', 'f')
    await must(page, holder, { kind: 'op', sid: held, call: { op: 'write', offset: 0, hex: '01' } })

    const sid = await open(page, other, 'lock', 'f', { lockRetries: 2, lockRetryDelayMs: 1, reportRetries: true })
    const r = await op(page, other, sid, { op: 'stat' })
    expect(r.ok ? null : [r.error.code, r.error.details]).toEqual(['STORAGE_LOCKED', { path: 'lock/f' }])
    expect(await page.evaluate(() => window.opfsTest.events.map(e => e.retry))).toEqual([1, 2])
  })

  it('opens the file once its holder lets go while it retries (leader hand-over)', async () => {
    const page = await openPage()
    const holder = await spawn(page)
    const next = await spawn(page)
    const held = await open(page, holder, 'handover', 'f')
    await must(page, holder, { kind: 'op', sid: held, call: { op: 'write', offset: 0, hex: 'abcd' } })

    // generous retries: the release below comes after the first retry, however slow the machine
    const sid = await open(page, next, 'handover', 'f', { lockRetries: 40, lockRetryDelayMs: 10, reportRetries: true })
    const pending = op(page, next, sid, { op: 'read', offset: 0, size: 2 })
    await page.waitForFunction(() => window.opfsTest.events.length > 0, null, { timeout: CALL_TIMEOUT_MS })
    expect(await op(page, holder, held, { op: 'close' })).toEqual({ ok: true, value: null })
    expect(await pending).toEqual({ ok: true, value: 'abcd' })
  })

  it('fails with STORAGE_UNAVAILABLE on a page, where sync access handles do not exist', async () => {
    const page = await openPage()
    const r = await withTimeout(page.evaluate(() => window.opfsTest.openInWindow('window', 'f')), 'openInWindow')
    expect(r.ok ? null : r.error.code).toBe('STORAGE_UNAVAILABLE')
  })

  it('fails with STORAGE_FULL when the quota is exhausted and keeps what was stored', async () => {
    // DevTools can shrink an origin's quota, which makes Chromium throw the real
    // QuotaExceededError; it takes effect only in a profile on disk, not in an incognito context
    const profile = await mkdtemp(join(tmpdir(), 'shadw-opfs-quota-'))
    onTestFinished(async () => { await rm(profile, { recursive: true, force: true }) })
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: CALL_TIMEOUT_MS })
    onTestFinished(async () => { await context.close().catch(() => {}) })
    const page = await context.newPage()
    await page.goto(pageUrl, { timeout: CALL_TIMEOUT_MS })
    await waitReady(page)
    const w = await spawn(page)
    const sid = await open(page, w, 'quota', 'f')
    expect(await op(page, w, sid, { op: 'write', offset: 0, hex: '0102030405' })).toEqual({ ok: true, value: null })

    const cdp = await context.newCDPSession(page)
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: new URL(pageUrl).origin, quotaSize: QUOTA_BYTES })
    // overlaps stored bytes 3..4 and grows the file far past the quota
    const big = await op(page, w, sid, { op: 'fill', offset: 3, size: 2 * QUOTA_BYTES, byte: 0xab })
    expect(big.ok ? null : [big.error.code, big.error.details, big.error.causeName]).toEqual(['STORAGE_FULL', { path: 'quota/f' }, 'QuotaExceededError'])
    expect(await op(page, w, sid, { op: 'stat' })).toEqual({ ok: true, value: { size: 5 } })
    expect(await op(page, w, sid, { op: 'read', offset: 0, size: 5 })).toEqual({ ok: true, value: '0102030405' })

    const grow = await op(page, w, sid, { op: 'truncate', offset: 4 * QUOTA_BYTES })
    expect(grow.ok ? null : [grow.error.code, grow.error.causeName]).toEqual(['STORAGE_FULL', 'QuotaExceededError'])
    expect(await op(page, w, sid, { op: 'stat' })).toEqual({ ok: true, value: { size: 5 } })
    // small writes within what is left still work
    expect(await op(page, w, sid, { op: 'write', offset: 5, hex: '06' })).toEqual({ ok: true, value: null })
    expect(await op(page, w, sid, { op: 'read', offset: 0, size: 6 })).toEqual({ ok: true, value: '010203040506' })
  })
})

describe('corrupted OPFS files under Hypercore 10', () => {
  const BLOCKS = Array.from({ length: 20 }, (_, i) => `block-${i}`)

  /** Stores a closed core under `root`, then damages one of its files behind its back. */
  async function damaged (root: string, file: string, damage: (page: Page, w: number, sid: number) => Promise<void>): Promise<{ page: Page, w: number, key: string }> {
    const page = await openPage()
    const w = await spawn(page)
    const { key } = await must<{ key: string }>(page, w, { kind: 'core-append', root, blocks: BLOCKS, close: true })
    const sid = await open(page, w, root, file)
    await damage(page, w, sid)
    await must(page, w, { kind: 'op', sid, call: { op: 'close' } })
    return { page, w, key }
  }

  async function sizeOf (page: Page, w: number, sid: number): Promise<number> {
    return (await must<{ size: number }>(page, w, { kind: 'op', sid, call: { op: 'stat' } })).size
  }

  it('turns a truncated Merkle tree into STORAGE_CORRUPT', async () => {
    const { page, w } = await damaged('c-tree', 'tree', async (p, w, sid) => {
      await must(p, w, { kind: 'op', sid, call: { op: 'truncate', offset: Math.floor(await sizeOf(p, w, sid) / 2) } })
    })
    const r = await send(page, w, { kind: 'core-read', root: 'c-tree', createIfMissing: false })
    expect(r.ok ? null : [r.error.code, r.error.details]).toEqual(['STORAGE_CORRUPT', { path: 'c-tree' }])
  })

  it('turns an overwritten oplog into STORAGE_CORRUPT', async () => {
    const { page, w } = await damaged('c-oplog', 'oplog', async (p, w, sid) => {
      await must(p, w, { kind: 'op', sid, call: { op: 'write', offset: 0, hex: '41'.repeat(await sizeOf(p, w, sid)) } })
    })
    const r = await send(page, w, { kind: 'core-read', root: 'c-oplog', createIfMissing: false })
    expect(r.ok ? null : r.error.code).toBe('STORAGE_CORRUPT')
  })

  it('turns an emptied oplog into STORAGE_CORRUPT with createIfMissing false; the default would start a new core', async () => {
    const { page, w, key } = await damaged('c-empty', 'oplog', async (p, w, sid) => {
      await must(p, w, { kind: 'op', sid, call: { op: 'truncate', offset: 0 } })
    })
    const r = await send(page, w, { kind: 'core-read', root: 'c-empty', createIfMissing: false })
    expect(r.ok ? null : r.error.code).toBe('STORAGE_CORRUPT')
    // why callers must reopen with createIfMissing: false: Hypercore silently makes a new key
    const fresh = await must<{ key: string, length: number }>(page, w, { kind: 'core-read', root: 'c-empty', createIfMissing: true })
    expect(fresh.length).toBe(0)
    expect(fresh.key).not.toBe(key)
  })

  it('serves overwritten data blocks unverified until audit, which drops every bad block', async () => {
    const { page, w } = await damaged('c-data', 'data', async (p, w, sid) => {
      await must(p, w, { kind: 'op', sid, call: { op: 'write', offset: 0, hex: '5a'.repeat(await sizeOf(p, w, sid)) } })
    })
    // Hypercore 10 does not re-verify local blocks on read: the open and the reads succeed
    const read = await must<{ blocks: string[] }>(page, w, { kind: 'core-read', root: 'c-data', createIfMissing: false })
    expect(read.blocks[0]).toBe('ZZZZZZZ')
    const audited = await must<{ corrections: { tree: number, blocks: number }, blocks: string[] }>(page, w, { kind: 'core-audit', root: 'c-data' })
    expect(audited.corrections).toEqual({ tree: 0, blocks: 20 })
    expect(audited.blocks).toEqual(BLOCKS.map(() => '<missing>'))
  })
})

describe('OPFS against the storage compliance suites', () => {
  let browser: Browser | undefined
  let page: Page | undefined
  let worker = 0

  // one browser, page and worker for every case: each case works under a root of its own
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: CALL_TIMEOUT_MS })
    page = await (await browser.newContext()).newPage()
    await page.goto(pageUrl, { timeout: CALL_TIMEOUT_MS })
    await waitReady(page)
    worker = await spawn(page)
  })

  afterAll(async () => { await browser?.close() })

  const target = (): StorageTarget => ({
    run: async cmd => {
      if (page === undefined) throw new Error('the OPFS test page is not loaded')
      return await must(page, worker, { kind: 'compliance', cmd })
    }
  })

  describeRandomAccessStorage('OpfsStorage in a Dedicated Worker', OPFS, target)
  describeModuleStore('StorageModuleStore over OpfsStorage', { persistent: true }, target)
})

/**
 * Does Chromium keep V8's compiled code for a wasm module compiled with
 * `WebAssembly.compileStreaming` from a Cache Storage response (what the browser executor's
 * instrumented store does, src/browser/executor/instrumented-cache.ts)? Puts the bench's
 * ~100 KB cold module, instrumented, and a ~1.1 MB module in Cache Storage as `application/wasm`,
 * compiles each from there (running the large one's padding 300,000 times so V8 tiers it up),
 * then again after a reload of the page and after a restart of the browser on the same
 * profile, with a CDP trace of V8's wasm events around each compile. Prints each round's
 * compile ms and the trace's cache events: `wasm.GetNativeModuleFromCache` is V8's in-process
 * module cache (same renderer process), a `v8.wasm.moduleCacheHit` / `v8.wasm.cachedModule`
 * would be Chromium's code cache on disk.
 *
 * Run: `node --import tsx bench/wasm-code-cache.ts` (not part of `npm run bench`: a check, not a figure).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium, type BrowserContext, type CDPSession, type Page } from 'playwright-core'
import { instrumentModule } from '../src/core/sandbox/instrument.ts'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../test/helpers/chromium-flags.ts'
import { coldModule } from './invocation-cold.ts'

const CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.wasm', 'disabled-by-default-v8.wasm.detailed', 'v8']
/** Time given to Chromium after a round to write a code cache for what tiered up. */
const SETTLE_MS = 3_000

interface TraceEvent { name: string, cat: string, args: unknown }

async function openPage (dir: string, url: string): Promise<{ ctx: BrowserContext, page: Page, cdp: CDPSession, events: TraceEvent[] }> {
  const ctx = await chromium.launchPersistentContext(dir, { executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS })
  const page = ctx.pages()[0] ?? await ctx.newPage()
  await page.goto(url)
  const cdp = await ctx.newCDPSession(page)
  const events: TraceEvent[] = []
  cdp.on('Tracing.dataCollected', (d) => {
    for (const e of d.value as unknown as TraceEvent[]) if (/wasm/i.test(e.name) || /wasm/i.test(e.cat)) events.push(e)
  })
  return { ctx, page, cdp, events }
}

async function traced<T> (cdp: CDPSession, fn: () => Promise<T>): Promise<T> {
  await cdp.send('Tracing.start', { traceConfig: { includedCategories: CATEGORIES }, transferMode: 'ReportEvents' })
  const out = await fn()
  const complete = new Promise(resolve => cdp.once('Tracing.tracingComplete', resolve))
  await cdp.send('Tracing.end')
  await complete
  return out
}

/** Compiles the cached module `name` in `page` from Cache Storage; ms of the compile. */
async function compileFromCache (page: Page, name: string, run: boolean): Promise<number> {
  return await page.evaluate(`(async () => {
    const c = await caches.open('probe')
    const t = performance.now()
    const m = await WebAssembly.compileStreaming(await c.match('/.probe/${name}'))
    const ms = performance.now() - t
    if (${String(run)}) {
      const inst = await WebAssembly.instantiate(m, {})
      let x = 0
      for (let i = 0; i < 300000; i++) x = inst.exports.pad(x + i)
    }
    return ms
  })()`) as number
}

const srv = createServer((_req, res) => { res.setHeader('content-type', 'text/html'); res.end('<html><body></body></html>') })
await new Promise<void>(resolve => srv.listen(0, '127.0.0.1', resolve))
const url = `http://127.0.0.1:${(srv.address() as { port: number }).port}/`
const dir = await mkdtemp(join(tmpdir(), 'shadw-wasm-cache-'))
try {
  const instrumented = instrumentModule(await coldModule(100 * 1024, 777), 1).bytes
  const large = await coldModule(1024 * 1024, 778)
  let s = await openPage(dir, url)
  console.log(`Chromium ${s.ctx.browser()?.version() ?? '(persistent context)'}; instrumented ${instrumented.byteLength} B, large ${large.byteLength} B`)
  for (const [name, bytes] of [['instrumented', instrumented], ['large', large]] as const) {
    await s.page.evaluate(`(async () => {
      const c = await caches.open('probe')
      await c.put('/.probe/${name}', new Response(new Uint8Array(${JSON.stringify(Array.from(bytes))}), { headers: { 'content-type': 'application/wasm' } }))
    })()`)
  }
  for (const round of ['first', 'after a reload', 'after a browser restart', 'after another reload']) {
    if (round === 'after a browser restart') {
      await s.ctx.close()
      s = await openPage(dir, url)
    } else if (round !== 'first') {
      await s.page.reload()
    }
    s.events.length = 0
    const { page } = s
    const ms = await traced(s.cdp, async () => ({ instrumented: await compileFromCache(page, 'instrumented', false), large: await compileFromCache(page, 'large', true) }))
    await new Promise(resolve => setTimeout(resolve, SETTLE_MS))
    const cache = s.events.filter(e => /cache/i.test(e.name)).map(e => `${e.name}${JSON.stringify(e.args) === '{}' ? '' : ' ' + JSON.stringify(e.args)}`)
    console.log(`${round}: compile ${ms.instrumented.toFixed(1)} / ${ms.large.toFixed(1)} ms; cache events: ${cache.length === 0 ? 'none' : [...new Set(cache)].join(', ')}`)
  }
  await s.ctx.close()
} finally {
  srv.close()
  await rm(dir, { recursive: true, force: true })
}

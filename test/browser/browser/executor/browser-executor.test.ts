import { chromium, type Browser, type Page } from 'playwright-core'
import type { ViteDevServer } from 'vite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../../helpers/chromium.ts'
import { describeExecutor } from '../../../compliance/executor.ts'
import { toBase64, type Outcome, type PoolName, type WireCall } from '../../../compliance/executor-wire.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { PAGE_PATH, startSandboxServer } from './server.ts'

describe('browser Web Worker executor (headless Chromium)', () => {
  let server: ViteDevServer | undefined
  let browser: Browser | undefined
  let page: Page | undefined

  // one browser and page for the whole suite: launchChromium() closes per test
  beforeAll(async () => {
    const started = await startSandboxServer()
    server = started.server
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 })
    page = await browser.newPage()
    await page.goto(started.url + PAGE_PATH)
    await page.waitForFunction(() => window.__sandbox?.ready === true)
  })

  afterAll(async () => {
    await page?.evaluate(async () => { await window.__sandbox.closeAll() }).catch(() => {})
    await browser?.close()
    await server?.close()
  })

  it('loads the executor page without errors', async () => {
    expect(await page?.evaluate(() => typeof window.__sandbox.run)).toBe('function')
  })

  it('runs calls from an executor hosted in a dedicated worker', async () => {
    const call: WireCall = { module: toBase64(await wat('echo')), abi: 'raw', input: toBase64(new TextEncoder().encode('nested')) }
    const outcome = await page?.evaluate(async (c) => await window.__sandbox.runInWorker(c), call)
    expect(outcome).toEqual({ ok: true, output: toBase64(new TextEncoder().encode('nested')), fuelUsed: 22, exitCode: 0 })
  })

  it('warms up a worker the pool starts with, not one it starts again after a deadline', async () => {
    const spin = toBase64(await wat('spin'))
    const echo = toBase64(await wat('echo'))
    const r = await page?.evaluate(async ([s, e]) => await window.__sandbox.respawnStarts(s, e), [spin, echo] as const)
    expect(r?.spun).toBe('DEADLINE_EXCEEDED')
    expect(r?.output).toBe('again')
    expect(r?.starts.map(x => x.warmUp)).toEqual([true, false])
  })

  describeExecutor(() => ({
    run: async (pool: PoolName, calls: WireCall[]): Promise<Outcome[]> => {
      if (page === undefined) throw new Error('page not loaded')
      return await page.evaluate(async ([p, c]) => await window.__sandbox.run(p, c), [pool, calls] as const)
    }
  }))
})

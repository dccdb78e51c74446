import { chromium, type Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../../helpers/chromium.ts'
import { toBase64 } from '../../../compliance/executor-wire.ts'
import { cWasm } from '../../../fixtures/wasm/fixtures.ts'
import { PAGE_PATH, startSandboxServer } from './server.ts'

const SIZE = 4 * 1024 * 1024
const OFFSET = 3 * 1024 * 1024 + 999

describe('lazy files in the browser executor (headless Chromium)', () => {
  let browser: Browser | undefined
  const servers: Array<{ close (): Promise<void> }> = []

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS, timeout: 30_000 })
  })
  afterAll(async () => {
    await browser?.close()
    for (const s of servers) await s.close()
  })

  async function lazyRead (isolated: boolean): Promise<{ output: string, expected: string, served: number, fuel: number, sharedMemory: boolean, isolated: boolean }> {
    const { server, url } = await startSandboxServer({ isolated })
    servers.push(server)
    const page = await (browser as Browser).newPage()
    try {
      await page.goto(url + PAGE_PATH)
      await page.waitForFunction(() => window.__sandbox?.ready === true)
      return await page.evaluate(async ([m, size, offset]) => await window.__sandbox.lazyRead(m, size, offset), [toBase64(cWasm('fs-pread')), SIZE, OFFSET] as const)
    } finally {
      await page.close()
    }
  }

  it('a cross-origin isolated page fetches the page read on demand; one that is not fetches the file first; both print the same and use the same fuel', async () => {
    const isolated = await lazyRead(true)
    expect(isolated.isolated).toBe(true)
    expect(isolated.sharedMemory).toBe(true)
    expect(isolated.output).toBe(isolated.expected)
    expect(isolated.served).toBe(64 * 1024)
    const plain = await lazyRead(false)
    expect(plain.isolated).toBe(false)
    expect(plain.sharedMemory).toBe(false)
    expect(plain.output).toBe(plain.expected)
    expect(plain.served).toBe(SIZE)
    expect(plain.fuel).toBe(isolated.fuel)
  }, 120_000)
})

import { chromium, type Browser, type BrowserContext } from 'playwright-core'
import { onTestFinished } from 'vitest'
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium-flags.ts'

export { CHROMIUM_ARGS, CHROMIUM_PATH }

/** Launches headless Chromium; closed when the calling test finishes. */
export async function launchChromium (opts: { args?: string[] } = {}): Promise<Browser> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(opts.args ?? [])],
    timeout: 30_000
  })
  onTestFinished(async () => { await browser.close().catch(() => {}) })
  return browser
}

/**
 * A fresh context with a persistent profile dir is what keeps OPFS and service workers
 * across page reloads; a plain `newContext()` is enough when only one page life matters.
 */
export async function newContext (browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext()
  onTestFinished(async () => { await context.close().catch(() => {}) })
  return context
}

import { chromium, type Browser, type BrowserContext } from 'playwright-core'
import { onTestFinished } from 'vitest'

/** Debian's Chromium; playwright's own browser download cannot run on our machines. */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'

/**
 * Flags for headless Chromium as root with no network: no sandbox (root), and nothing that
 * phones home (background networking, component updates, sync, QUIC) so nothing waits on
 * a closed network. Loopback WebRTC needs its own flag.
 */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--allow-loopback-in-peer-connection'
]

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

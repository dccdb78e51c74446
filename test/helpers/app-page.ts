import type { BrowserContext, Page } from 'playwright-core'
import type { BridgeMethod, BridgeMethods, BridgeStatus } from '../../src/browser/bridge-protocol.ts'

/** Bound on waiting for a browser node to come up (Chromium start, OPFS, relay, DHT announce). */
export const NODE_READY_TIMEOUT_MS = 30_000

/** Opens the app in a new tab and waits until the origin's node answers. */
export async function openApp (context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage()
  page.on('pageerror', err => { console.error('[page error]', err.message) })
  if (process.env['SHADW_DEBUG'] !== undefined) {
    const spec = process.env['SHADW_DEBUG']
    await page.addInitScript((s) => { localStorage.setItem('shadwDebug', s) }, spec)
    page.on('console', msg => { console.error('[page]', Date.now() % 100000, msg.text()) })
  }
  await page.goto(url)
  await nodeReady(page)
  return page
}

/** Waits until the page can reach a node (its own or another tab's); returns the status. */
export async function nodeReady (page: Page, timeoutMs = NODE_READY_TIMEOUT_MS): Promise<BridgeStatus> {
  return await page.evaluate(async (t) => await (window as unknown as { shadw: { ready (t: number): Promise<BridgeStatus> } }).shadw.ready(t), timeoutMs)
}

/** Calls the node from the page; blocks cross the page boundary as arrays of bytes. */
export async function call<M extends BridgeMethod> (page: Page, method: M, params: BridgeMethods[M]['params'], timeoutMs = NODE_READY_TIMEOUT_MS): Promise<BridgeMethods[M]['result']> {
  return await page.evaluate(async ([m, p, t]) => {
    const shadw = (window as unknown as { shadw: { call (m: string, p: unknown, t: number): Promise<unknown> } }).shadw
    return await shadw.call(m, p, t)
  }, [method, params, timeoutMs] as const) as BridgeMethods[M]['result']
}

/** Appends UTF-8 strings as blocks from the page. */
export async function appendText (page: Page, key: string, texts: string[]): Promise<number> {
  return await page.evaluate(async ([k, list]) => {
    const shadw = (window as unknown as { shadw: { call (m: string, p: unknown): Promise<{ length: number }> } }).shadw
    const blocks = list.map(t => new TextEncoder().encode(t))
    return (await shadw.call('append', { key: k, blocks })).length
  }, [key, texts] as const)
}

/** Reads a block as UTF-8 from the page (null when absent and `wait` is false). */
export async function getText (page: Page, key: string, index: number, opts: { wait?: boolean, timeout?: number } = {}): Promise<string | null> {
  return await page.evaluate(async ([k, i, o]) => {
    const shadw = (window as unknown as { shadw: { call (m: string, p: unknown, t: number): Promise<{ block: Uint8Array | null }> } }).shadw
    const timeout = o.timeout ?? 20_000
    const { block } = await shadw.call('get', { key: k, index: i, ...o, timeout }, timeout + 5_000)
    return block === null ? null : new TextDecoder().decode(block)
  }, [key, index, opts] as const)
}

/** Polls `fn` until it returns a truthy value or the bound runs out. */
export async function until<T> (what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await fn()
    if (value !== null && value !== undefined && value !== false) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, everyMs))
  }
}

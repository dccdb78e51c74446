import type { Testnet } from 'hyperdht/testnet'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { verifyReceipt, type SignedReceipt } from '../../../../src/core/ledger/index.ts'
import { parseBootstrap } from '../../../../src/super-node/super-node.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { call, nodeReady, openApp } from '../../../helpers/app-page.ts'
import { launchChromium, newContext } from '../../../helpers/chromium.ts'
import { startSuperNode } from '../../../helpers/super-node.ts'
import { publisher } from '../../../helpers/invoke.ts'

/** The channel the executor workers report each module preparation on (src/browser/executor/worker-api.ts). */
const PREPARE_CHANNEL = 'shadw-sandbox-prepare'

/** Starts recording the page's origin's preparation reports into `window.prepared`. */
async function watchPrepares (page: Page): Promise<void> {
  await page.evaluate((name) => {
    const w = window as unknown as { prepared: unknown[] }
    w.prepared = []
    new BroadcastChannel(name).onmessage = (ev) => { w.prepared.push(ev.data) }
  }, PREPARE_CHANNEL)
}

async function prepares (page: Page): Promise<Array<{ hash: string, source: string }>> {
  return await page.evaluate(() => (window as unknown as { prepared: Array<{ hash: string, source: string }> }).prepared)
}

async function invoke (tenant: Page, ref: string, text: string): Promise<{ output: string, receipts: SignedReceipt[] }> {
  const a = await call(tenant, 'invoke', { ref, input: new TextEncoder().encode(text), deadline: 30_000 }, 45_000)
  return { output: new TextDecoder().decode(new Uint8Array(Object.values(a.output as unknown as Record<string, number>))), receipts: a.receipts }
}

/** Calls `ref` from the tenant until the (reloaded) contributor answers. */
async function invokeAgain (tenant: Page, ref: string, text: string): Promise<{ output: string, receipts: SignedReceipt[] } | null> {
  const deadline = Date.now() + 120_000
  for (let i = 0; i < 60 && Date.now() < deadline; i++) {
    const a = await invoke(tenant, ref, text).catch(() => null)
    if (a !== null) return a
    await new Promise(resolve => setTimeout(resolve, 500))
  }
  return null
}

async function setup (): Promise<{ ref: string, contributor: Page, contributorKey: string, tenant: Page }> {
  const superNode = await startSuperNode({ workers: 0 })
  const pub = await publisher({ bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet)
  const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
  const browser = await launchChromium()
  const contributor = await openApp(await newContext(browser), `${superNode.info.appUrl}?execute=1`)
  const contributorKey = (await call(contributor, 'status', {})).publicKey
  const tenant = await openApp(await newContext(browser), superNode.info.appUrl)
  return { ref, contributor, contributorKey, tenant }
}

describe('instrumented modules kept across a contributor tab\'s reload', () => {
  it('after a reload the contributor runs the module from its stored instrumented form, not instrumenting it again, with the same output and fuel', async () => {
    const { ref, contributor, contributorKey, tenant } = await setup()
    await watchPrepares(contributor)
    const first = await invoke(tenant, ref, 'same input')
    expect(first.output).toBe('same input')
    const before = verifyReceipt(first.receipts[0] as SignedReceipt)
    expect(before.executor).toBe(contributorKey)
    expect((await prepares(contributor)).map(p => p.source)).toEqual(['instrumented'])

    await contributor.reload()
    await nodeReady(contributor)
    await watchPrepares(contributor)
    // the tenant finds the reloaded tab again once its adverts arrive
    const second = await invokeAgain(tenant, ref, 'same input')
    expect(second?.output).toBe('same input')
    const after = verifyReceipt(second?.receipts[0] as SignedReceipt)
    expect(after.executor).toBe(contributorKey)
    expect(after.fuel).toBe(before.fuel)
    expect(after.moduleHash).toBe(before.moduleHash)
    const seen = await prepares(contributor)
    expect(seen.map(p => p.source)).toEqual(['store'])
    expect(seen[0]?.hash).toBe(before.moduleHash)
    // and the module's bytes came from the node's own cache, not fetched again
    expect((await call(contributor, 'loadFunction', { ref })).source).toBe('cache')
  }, 180_000)
})

describe('a stored instrumented module that was altered', () => {
  it('fails its hash on load: the module is instrumented again and runs the same, and the entry is replaced', async () => {
    const { ref, contributor, contributorKey, tenant } = await setup()
    await watchPrepares(contributor)
    const first = await invoke(tenant, ref, 'x')
    const before = verifyReceipt(first.receipts[0] as SignedReceipt)
    expect(before.executor).toBe(contributorKey)
    // the stored copy's bytes change (one byte), its headers (and so its recorded hash) stay
    const altered = await contributor.evaluate(async () => {
      const cache = await caches.open('shadw-instrumented')
      const [req] = await cache.keys()
      if (req === undefined) return false
      const res = await cache.match(req) as Response
      const bytes = new Uint8Array(await res.arrayBuffer())
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] ?? 0) ^ 1
      await cache.put(req, new Response(bytes, { headers: res.headers }))
      return true
    })
    expect(altered).toBe(true)

    await contributor.reload()
    await nodeReady(contributor)
    await watchPrepares(contributor)
    const second = await invokeAgain(tenant, ref, 'x')
    expect(second?.output).toBe('x')
    const after = verifyReceipt(second?.receipts[0] as SignedReceipt)
    expect(after.executor).toBe(contributorKey)
    expect(after.fuel).toBe(before.fuel)
    expect((await prepares(contributor)).map(p => p.source)).toEqual(['instrumented'])
  }, 180_000)
})

import type { Testnet } from 'hyperdht/testnet'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { verifyReceipt, type SignedReceipt } from '../../../../src/core/ledger/index.ts'
import { parseBootstrap } from '../../../../src/super-node/super-node.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { call, openApp, until } from '../../../helpers/app-page.ts'
import { launchChromium, newContext } from '../../../helpers/chromium.ts'
import { startSuperNode } from '../../../helpers/super-node.ts'
import { publisher } from '../../../helpers/invoke.ts'
import { serveTestPage } from '../../../helpers/test-page.ts'

/** A contributor tab executing in one Web Worker wrapped in `fault` (the app itself has no fault switch). */
async function faultyTab (relayUrl: string, fault: 'lie' | 'hold'): Promise<string> {
  const page = await serveTestPage('test/browser/core/invoke/faulty-tab/page.html')
  return `${page}?relay=${encodeURIComponent(relayUrl)}&fault=${fault}&execute=1`
}

async function controlled (page: Page): Promise<void> {
  await page.evaluate(async () => { await navigator.serviceWorker.ready })
  await until('the service worker to control the page', async () => await page.evaluate(() => navigator.serviceWorker.controller !== null))
}

async function fn (page: Page, path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number, body: string, receipts: SignedReceipt[], dissenters: SignedReceipt[], code: string | null }> {
  return await page.evaluate(async ([p, b, h]) => {
    const res = await fetch(p, { method: 'POST', body: b, headers: h })
    return {
      status: res.status,
      body: await res.text(),
      receipts: JSON.parse(res.headers.get('shadw-receipts') ?? '[]') as SignedReceipt[],
      dissenters: JSON.parse(res.headers.get('shadw-dissenters') ?? '[]') as SignedReceipt[],
      code: res.headers.get('shadw-error-code')
    }
  }, [path, body, headers] as const)
}

describe('invocation executed in a contributor tab', () => {
  it('with super-node execution off, a tenant page\'s /fn/ call runs in a contributor tab of another browser profile; the receipt names the tab\'s node and sits in its ledger', async () => {
    const superNode = await startSuperNode({ workers: 0 })
    expect(superNode.executor).toBe(null)
    const pub = await publisher({ bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet)
    await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const browser = await launchChromium()
    const contributor = await openApp(await newContext(browser), `${superNode.info.appUrl}?execute=1`)
    const contributorKey = (await call(contributor, 'status', {})).publicKey
    const tenant = await openApp(await newContext(browser), superNode.info.appUrl)
    await controlled(tenant)

    const answer = await fn(tenant, `/fn/${pub.registry.key}/echo`, 'run me in a tab', { 'shadw-deadline': '30000' })
    expect(answer.code).toBe(null)
    expect(answer.status).toBe(200)
    expect(answer.body).toBe('run me in a tab')
    expect(answer.receipts.map(r => verifyReceipt(r).executor)).toEqual([contributorKey])
    const ledger = (await call(contributor, 'status', {})).logs.find(l => l.name === 'ledger')
    expect(ledger?.length).toBe(1)
  })

  it('k=3 over three contributor tabs, one whose executor a test wraps in a lie: the honest result is accepted and the liar recorded', async () => {
    const superNode = await startSuperNode({ workers: 0 })
    const pub = await publisher({ bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet)
    await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const browser = await launchChromium()
    const honest = [
      await openApp(await newContext(browser), `${superNode.info.appUrl}?execute=1`),
      await openApp(await newContext(browser), `${superNode.info.appUrl}?execute=1`)
    ]
    const liar = await openApp(await newContext(browser), await faultyTab(superNode.info.relayUrl, 'lie'))
    const honestKeys = await Promise.all(honest.map(async p => (await call(p, 'status', {})).publicKey))
    const liarKey = (await call(liar, 'status', {})).publicKey
    const tenant = await openApp(await newContext(browser), superNode.info.appUrl)
    await controlled(tenant)
    // the tenant's node must know all three executors before a k=3 call can spread over them
    await until('three executors at the tenant', async () => {
      const r = await fn(tenant, `/fn/${pub.registry.key}/echo`, 'probe', { 'shadw-deadline': '20000', 'shadw-redundancy': '3', 'shadw-quorum': '1' })
      return r.receipts.length + r.dissenters.length === 3
    }, 60_000, 500)

    const answer = await fn(tenant, `/fn/${pub.registry.key}/echo`, 'the truth', { 'shadw-deadline': '30000', 'shadw-redundancy': '3' })
    expect(answer.status).toBe(200)
    expect(answer.body).toBe('the truth')
    expect(answer.receipts.map(r => verifyReceipt(r).executor).sort()).toEqual([...honestKeys].sort())
    expect(answer.dissenters.map(r => verifyReceipt(r).executor)).toEqual([liarKey])
  })

  it('the contributor tab holding a call is closed mid-call: the call is retried on another tab and answers within its deadline', async () => {
    const superNode = await startSuperNode({ workers: 0 })
    const pub = await publisher({ bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet)
    await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const browser = await launchChromium()
    // the only executor at first holds every call (a test page's fault)
    const doomedContext = await newContext(browser)
    const doomed = await openApp(doomedContext, await faultyTab(superNode.info.relayUrl, 'hold'))
    const doomedKey = (await call(doomed, 'status', {})).publicKey
    const tenant = await openApp(await newContext(browser), superNode.info.appUrl)
    await controlled(tenant)
    await until('the tenant to reach the holding tab', async () => (await call(tenant, 'status', {})).peers.some(p => p.publicKey === doomedKey), 60_000)

    const pending = fn(tenant, `/fn/${pub.registry.key}/echo`, 'still answered', { 'shadw-deadline': '50000' })
    const rescuer = await openApp(await newContext(browser), `${superNode.info.appUrl}?execute=1`)
    const rescuerKey = (await call(rescuer, 'status', {})).publicKey
    await until('the tenant to reach the second tab', async () => (await call(tenant, 'status', {})).peers.some(p => p.publicKey === rescuerKey), 60_000)
    // the second tab has the function already (a fresh node finding a registry through the
    // relay can take longer than a loaded machine's retry leaves)
    await call(rescuer, 'loadFunction', { ref: `${pub.registry.key}/echo@1.0.0` }, 60_000)
    await doomedContext.close()

    const answer = await pending
    expect(answer.code).toBe(null)
    expect(answer.body).toBe('still answered')
    expect(answer.receipts.map(r => verifyReceipt(r).executor)).toEqual([rescuerKey])
  })
})

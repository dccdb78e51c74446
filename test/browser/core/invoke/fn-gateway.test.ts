import type { Testnet } from 'hyperdht/testnet'
import { describe, expect, it } from 'vitest'
import { verifyReceipt, type SignedReceipt } from '../../../../src/core/ledger/index.ts'
import { parseBootstrap } from '../../../../src/super-node/super-node.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { call, openApp, until } from '../../../helpers/app-page.ts'
import { launchChromium, newContext } from '../../../helpers/chromium.ts'
import { startSuperNode } from '../../../helpers/super-node.ts'
import { publisher } from '../../../helpers/invoke.ts'

describe('invocation from a page of the app', () => {
  it('a same-origin page POSTs /fn/<publisher>/<name>: the service worker routes it to the origin\'s node, which invokes on the swarm; output and verifiable receipts come back', async () => {
    const superNode = await startSuperNode({ workers: 1 })
    const pub = await publisher({ bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const browser = await launchChromium()
    const page = await openApp(await newContext(browser), superNode.info.appUrl)
    await page.evaluate(async () => { await navigator.serviceWorker.ready })
    await until('the service worker to control the page', async () => await page.evaluate(() => navigator.serviceWorker.controller !== null))

    // through the bridge: the node worker's own endpoint
    const direct = await call(page, 'invoke', { ref, input: new TextEncoder().encode('bridge'), deadline: 20_000 }, 30_000)
    expect(new TextDecoder().decode(direct.output)).toBe('bridge')
    expect(direct.receipts.map(r => r.executor)).toEqual([superNode.info.publicKey])

    // a call replayed with the same nonce is refused by the executor that ran it
    const replay = await page.evaluate(async (r) => {
      const shadw = (window as unknown as { shadw: { call (m: string, p: unknown, t: number): Promise<unknown> } }).shadw
      const nonce = crypto.getRandomValues(new Uint8Array(32))
      await shadw.call('invoke', { ref: r, input: new TextEncoder().encode('once'), nonce, deadline: 20_000 }, 30_000)
      try {
        await shadw.call('invoke', { ref: r, input: new TextEncoder().encode('once'), nonce, deadline: 20_000 }, 30_000)
        return 'accepted'
      } catch (err) {
        return (err as { code: string }).code
      }
    }, ref)
    expect(replay).toBe('REQUEST_REPLAYED')

    // through the service worker's gateway, as a tenant page does
    const answer = await page.evaluate(async (path) => {
      const res = await fetch(path, { method: 'POST', body: 'through the service worker', headers: { 'shadw-deadline': '20000' } })
      return { status: res.status, body: await res.text(), receipts: res.headers.get('shadw-receipts') }
    }, `/fn/${pub.registry.key}/echo@%5E1`)
    expect(answer.status).toBe(200)
    expect(answer.body).toBe('through the service worker')
    const receipts = JSON.parse(answer.receipts as string) as SignedReceipt[]
    expect(verifyReceipt(receipts[0] as SignedReceipt).executor).toBe(superNode.info.publicKey)
    expect(receipts[0]?.tenant).toBe((await call(page, 'status', {})).publicKey)

    const refused = await page.evaluate(async (path) => {
      const res = await fetch(path, { method: 'POST', body: 'x' })
      return { status: res.status, code: res.headers.get('shadw-error-code') }
    }, '/fn/nobody/echo')
    expect(refused).toEqual({ status: 400, code: 'INVALID_FUNCTION_REF' })

    // 200 calls at once from the page: each answers with its own output or a typed refusal
    const burst = await page.evaluate(async (path) => {
      return await Promise.all(Array.from({ length: 200 }, async (_, i) => {
        const res = await fetch(path, { method: 'POST', body: `call ${i}`, headers: { 'shadw-deadline': '30000' } })
        return { i, status: res.status, body: res.status === 200 ? await res.text() : null, code: res.headers.get('shadw-error-code') }
      }))
    }, `/fn/${pub.registry.key}/echo@%5E1`)
    const ok = burst.filter(r => r.status === 200)
    for (const r of ok) expect(r.body).toBe(`call ${r.i}`)
    for (const r of burst.filter(r => r.status !== 200)) expect([r.status, r.code]).toEqual([503, 'BUSY'])
    expect(ok.length).toBeGreaterThanOrEqual(2)
  })
})

import type { Testnet } from 'hyperdht/testnet'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import { decodeReceipt, verifyReceipt, type SignedReceipt } from '../../../src/core/ledger/index.ts'
import { parseBootstrap } from '../../../src/super-node/super-node.ts'
import { wat } from '../../fixtures/wasm/fixtures.ts'
import { call, nodeReady, openApp, until } from '../../helpers/app-page.ts'
import { launchChromium, newContext } from '../../helpers/chromium.ts'
import { startSuperNode } from '../../helpers/super-node.ts'
import { publisher } from '../../helpers/invoke.ts'
import { screenshots } from './screens.ts'

async function controlled (page: Page): Promise<void> {
  await page.evaluate(async () => { await navigator.serviceWorker.ready })
  await until('the service worker to control the page', async () => await page.evaluate(() => navigator.serviceWorker.controller !== null))
}

async function fnCall (page: Page, path: string, body: string): Promise<{ status: number, body: string, receipts: SignedReceipt[] }> {
  return await page.evaluate(async ([p, b]) => {
    const res = await fetch(p, { method: 'POST', body: b, headers: { 'shadw-deadline': '30000' } })
    return { status: res.status, body: await res.text(), receipts: JSON.parse(res.headers.get('shadw-receipts') ?? '[]') as SignedReceipt[] }
  }, [path, body] as const)
}

const data = async (page: Page, selector: string, key: string): Promise<string | null> => await page.locator(selector).getAttribute(`data-${key}`)

describe('the app as people use it', () => {
  it('contributor: nothing executes before the opt-in; the switch makes the tab execute a tenant\'s call, the figures and chart show it, pause stops it', async () => {
    const superNode = await startSuperNode({ workers: 0 })
    const pub = await publisher({ bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet)
    await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    await pub.publish(await wat('spin'), { name: 'spin', version: '1.0.0', limits: { fuel: 10_000_000 } })
    const browser = await launchChromium()
    const contributor = await openApp(await newContext(browser), superNode.info.appUrl)
    const contributorKey = (await call(contributor, 'status', {})).publicKey
    expect((await call(contributor, 'contribution', {})).workers).toBe(0)
    expect(await contributor.locator('#contribute-switch').isChecked()).toBe(false)
    expect(await contributor.locator('#pause').isDisabled()).toBe(true)

    await contributor.locator('label.switch').click()
    await until('the node to execute', async () => await data(contributor, '#view-contribute', 'workers') === '1')
    expect(await contributor.locator('#contribute-note').textContent()).toBe('Executing for the swarm in 1 worker.')

    const tenant = await openApp(await newContext(browser), superNode.info.appUrl)
    await controlled(tenant)
    const answer = await fnCall(tenant, `/fn/${pub.registry.key}/echo`, 'computed by a volunteer')
    expect(answer.status).toBe(200)
    expect(answer.body).toBe('computed by a volunteer')
    expect(answer.receipts.map(r => verifyReceipt(r).executor)).toEqual([contributorKey])

    await until('the dashboard to count the call', async () => await data(contributor, '#view-contribute', 'calls') === '1')
    const figures = await contributor.locator('.figure-value').allTextContents()
    expect(figures[0]).toBe('1')
    expect(figures[1]).toBe('1 / 0')
    expect(Number(figures[2])).toBe(answer.receipts[0]?.fuel)
    // credits: the total the tab's receipt carries, the same block as the one in its own `ledger` log
    const ledgerKey = (await call(contributor, 'status', {})).logs.find(l => l.name === 'ledger')?.key ?? ''
    const receiptBytes = await contributor.evaluate(async (k) => {
      const shadw = (window as unknown as { shadw: { call (m: string, p: unknown): Promise<{ block: Uint8Array | null }> } }).shadw
      return Array.from((await shadw.call('get', { key: k, index: 0 })).block ?? [])
    }, ledgerKey)
    const stored = decodeReceipt(Uint8Array.from(receiptBytes))
    expect(stored).toEqual(answer.receipts[0])
    expect(stored.total).toBeGreaterThan(0)
    expect((await call(contributor, 'contribution', {})).totals.earned).toBe(stored.total)
    await until('the credits figure', async () => (await contributor.locator('.figure-value').nth(4).textContent()) !== '0')
    expect(Number(await contributor.locator('.figure-value').nth(4).textContent())).toBe(stored.total / 1_000_000)
    expect(await contributor.locator('#view-contribute .chart').first().locator('rect.chart-bar').count()).toBe(1)
    expect(await contributor.locator('#view-contribute .chart').first().getAttribute('aria-label')).toBe('Calls per 10 seconds, last 5 minutes: 1 in the last 10 s, 1 in 5 minutes')
    const tenantKey = (await call(tenant, 'status', {})).publicKey
    await until('the receipt in the latest work', async () => await contributor.locator('#recent-work tr').count() === 2)
    expect(await contributor.locator('#recent-work tr').nth(1).locator('td').allTextContents()).toEqual([
      expect.any(String), 'echo@1.0.0', `${tenantKey.slice(0, 8)}…${tenantKey.slice(-6)}`, String(answer.receipts[0]?.fuel)
    ])

    // a call that fails (out of fuel) counts as a failure, drawn in red
    const spin = await tenant.evaluate(async (p) => {
      const res = await fetch(p, { method: 'POST', body: 'x', headers: { 'shadw-deadline': '30000' } })
      return res.headers.get('shadw-error-code')
    }, `/fn/${pub.registry.key}/spin`)
    expect(spin).toBe('FUEL_EXHAUSTED')
    await until('the dashboard to count the failure', async () => await data(contributor, '#view-contribute', 'calls') === '2')
    expect(await contributor.locator('.figure-value').nth(1).textContent()).toBe('1 / 1')
    // the failed call burned its whole fuel limit: work contributed, though not billed
    expect((await call(contributor, 'contribution', {})).totals.fuel).toBe(10_000_000 + (answer.receipts[0]?.fuel ?? 0))
    expect(await contributor.locator('#view-contribute .chart').first().locator('rect.chart-bar-fail').count()).toBe(1)

    // the budget takes effect on the running node at once: every core the browser reports
    const cores = await contributor.evaluate(() => navigator.hardwareConcurrency)
    expect(await contributor.locator('#budget').getAttribute('max')).toBe(String(Math.min(16, cores)))
    await contributor.locator('#budget').fill(String(Math.min(16, cores)))
    await until('the new budget on the node', async () => (await call(contributor, 'contribution', {})).workers === Math.min(16, cores))
    await screenshots(contributor, 'contribute', 'contributor')

    // the ledger explorer reads the receipt the contributor signed
    await contributor.evaluate(() => { location.hash = 'network' })
    await contributor.getByRole('button', { name: 'Show receipts' }).click()
    await until('the receipt in the explorer', async () => await contributor.locator('#ledger-list .receipt').count() === 1)
    expect(await contributor.locator('#ledger-list .receipt').getAttribute('data-verified')).toBe('true')
    await screenshots(contributor, 'network', 'network')

    await contributor.evaluate(() => { location.hash = 'contribute' })
    await contributor.locator('#pause').click()
    await until('the node to stop executing', async () => await data(contributor, '#view-contribute', 'workers') === '0')
    expect((await call(contributor, 'contribution', {})).workers).toBe(0)
    expect(await contributor.locator('#pause').textContent()).toBe('Resume')

    // the opt-in is the contributor's standing choice: a reload starts the node contributing with the saved budget (a pause lasts for the page)
    await contributor.reload()
    await nodeReady(contributor)
    expect((await call(contributor, 'contribution', {})).workers).toBe(Math.min(16, cores))
    await until('the switch to show it', async () => await contributor.locator('#contribute-switch').isChecked())
    // switching off is saved too
    await contributor.locator('label.switch').click()
    await until('the node to stop executing', async () => (await call(contributor, 'contribution', {})).workers === 0)
    await contributor.reload()
    await nodeReady(contributor)
    expect((await call(contributor, 'contribution', {})).workers).toBe(0)
  })

  it('playground: a module published from the page is invoked on the swarm and its receipt is verified in the page', async () => {
    const superNode = await startSuperNode()
    const browser = await launchChromium()
    const page = await openApp(await newContext(browser), superNode.info.appUrl)
    // the tabs follow the WAI-ARIA pattern: arrow keys move between views
    await page.locator('#tab-contribute').focus()
    await page.keyboard.press('ArrowRight')
    await until('the playground view', async () => await page.locator('#view-playground').isVisible())
    expect(await page.evaluate(() => [location.hash, document.activeElement?.id])).toEqual(['#playground', 'tab-playground'])
    expect(await page.locator('#view-contribute').isVisible()).toBe(false)
    await screenshots(page, 'playground', 'playground-empty')

    // bad requests from a page get typed errors and change nothing
    const codeOf = async (method: string, params: unknown): Promise<string> => await page.evaluate(async ([m, p]) => {
      try {
        await (window as unknown as { shadw: { call (m: string, p: unknown): Promise<unknown> } }).shadw.call(m, p)
        return 'no error'
      } catch (err) {
        return (err as { code: string }).code
      }
    }, [method, params] as const)
    expect(await codeOf('contribute', { workers: 99 })).toBe('INVALID_ARGUMENT')
    expect(await codeOf('publish', { module: 'not bytes', name: 'x', version: '1.0.0' })).toBe('INVALID_ARGUMENT')
    expect(await page.evaluate(async () => {
      try {
        await (window as unknown as { shadw: { call (m: string, p: unknown): Promise<unknown> } }).shadw.call('publish', { module: new Uint8Array([1, 2, 3]), name: 'junk', version: '1.0.0' })
        return 'no error'
      } catch (err) {
        return (err as { code: string }).code
      }
    })).toBe('INVALID_MODULE')

    // the file picker fills the form; dropping a file does the same
    await page.locator('#pub-file').setInputFiles({ name: 'other.wasm', mimeType: 'application/wasm', buffer: Buffer.from(await wat('echo')) })
    await until('the picked module', async () => await page.locator('#pub-name').inputValue() === 'other')
    await page.locator('#pub-name').fill('')
    const bytes = [...await wat('echo')]
    const dataTransfer = await page.evaluateHandle((b) => {
      const dt = new DataTransfer()
      dt.items.add(new File([new Uint8Array(b)], 'echo.wasm', { type: 'application/wasm' }))
      return dt
    }, bytes)
    await page.locator('#pub-drop').dispatchEvent('drop', { dataTransfer })
    await until('the dropped module', async () => await page.locator('#pub-chosen').textContent() === `echo.wasm · ${bytes.length} bytes`)
    expect(await page.locator('#pub-name').inputValue()).toBe('echo')
    await page.getByLabel('Fuel', { exact: true }).fill('5000000')
    await page.getByRole('button', { name: 'Publish' }).click()
    await until('the published ref', async () => await page.locator('#pub-ref').count() === 1, 60_000)
    const ref = await page.locator('#pub-ref').textContent() ?? ''
    const publisherKey = (await call(page, 'publisher', {})).key
    expect(ref).toBe(`${publisherKey}/echo@1.0.0`)
    expect(await page.locator('#inv-ref').inputValue()).toBe(ref)
    expect(await page.locator('#snippet-fetch').textContent()).toContain(`/fn/${publisherKey}/echo`)

    await page.locator('#inv-input').fill('hello from the playground')
    await page.getByRole('button', { name: 'Invoke' }).click()
    await until('the output', async () => await page.locator('#inv-output').count() === 1 || await page.locator('#inv-result.error').count() === 1, 60_000)
    expect(await page.locator('#inv-result.error').count()).toBe(0)
    expect(await page.locator('#inv-output').textContent()).toBe('hello from the playground')
    expect(await page.locator('#inv-executor').textContent()).toBe(`${superNode.info.publicKey.slice(0, 8)}…${superNode.info.publicKey.slice(-6)}`)
    expect(Number(await page.locator('#inv-fuel').textContent())).toBeGreaterThan(0)
    expect(await page.locator('#inv-result .receipt').getAttribute('data-verified')).toBe('true')
    expect(await page.locator('#inv-result .receipt .checks').textContent()).toBe('✓ executor signature valid✓ input hash matches✓ output hash matches')

    // a gated function: a wallet allow-list naming the playground's test tenant, who signs the call
    await page.locator('#inv-auth').selectOption('test-key')
    await until('the test tenant address', async () => await page.locator('#inv-tenant').getAttribute('data-address'))
    const address = await page.locator('#inv-tenant').getAttribute('data-address') ?? ''
    expect(address).toMatch(/^0x[0-9a-fA-F]{40}$/)
    await page.locator('#pub-name').fill('gated')
    await page.locator('#pub-access').selectOption('wallets')
    await page.locator('#pub-access-addresses').fill(address)
    await page.getByRole('button', { name: 'Publish' }).click()
    await until('the gated ref', async () => (await page.locator('#pub-ref').textContent())?.endsWith('/gated@1.0.0') === true, 60_000)
    // the form lists this app's host, so any executor accepts the tenant's sign-in on this page
    expect(await page.locator('#pub-auth-for').textContent()).toBe(`Sign-in accepted for: ${new URL(page.url()).host}`)
    expect(await page.locator('#inv-ref').inputValue()).toBe(`${publisherKey}/gated@1.0.0`)
    await page.locator('#inv-input').fill('signed call')
    await page.getByRole('button', { name: 'Invoke' }).click()
    await until('the gated output', async () => await page.locator('#inv-output').textContent() === 'signed call' || await page.locator('#inv-result.error').count() === 1, 60_000)
    expect(await page.locator('#inv-result.error').count()).toBe(0)
    expect(await page.locator('#inv-output').textContent()).toBe('signed call')
    expect(await page.locator('#inv-result .receipt dd').nth(2).getAttribute('title')).toBe(address)
    await screenshots(page, 'playground', 'playground')

    await page.locator('#inv-auth').selectOption('none')
    await page.getByRole('button', { name: 'Invoke' }).click()
    await until('the refusal', async () => await page.locator('#inv-result.error').count() === 1, 60_000)
    expect(await page.locator('#inv-result').getAttribute('data-code')).toBe('AUTH_MALFORMED')
  })

  it('PWA: installable; a reload with the network gone shows the shell, says it is offline and shows the last figures the node reported', async () => {
    const superNode = await startSuperNode()
    const browser = await launchChromium()
    const context = await newContext(browser)
    const page = await openApp(context, superNode.info.appUrl)
    await controlled(page)
    const cdp = await context.newCDPSession(page)
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors') as { installabilityErrors: Array<{ errorId: string }> }
    // playwright's contexts are off-the-record profiles, where Chromium never offers install; every app-side criterion holds
    expect(installabilityErrors.map(e => e.errorId)).toEqual(['in-incognito'])
    await cdp.detach()
    const key = (await call(page, 'status', {})).publicKey
    await until('a snapshot of the node\'s figures', async () => await page.evaluate(() => localStorage.getItem('shadw.lastState') !== null))
    await superNode.stop()
    await context.setOffline(true)
    await page.reload()
    expect(await page.locator('h1').textContent()).toBe('shadw')
    await until('the offline notice', async () => await page.locator('#offline').isVisible())
    expect(await page.getByRole('tab').allTextContents()).toEqual(['Contribute', 'Playground', 'Network', 'Functions', 'Storage'])
    await until('the status line to say offline', async () => (await page.locator('#node-state').textContent())?.startsWith('offline · ') === true)
    expect(await page.locator('#node-state').textContent()).toContain(`showing what node ${key.slice(0, 8)}…${key.slice(-6)} reported at`)
    expect(await page.locator('.figure-value').first().textContent()).toBe('0')
    await screenshots(page, 'contribute', 'offline')
  })
})

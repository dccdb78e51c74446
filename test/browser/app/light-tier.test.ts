import b4a from 'b4a'
import type { Testnet } from 'hyperdht/testnet'
import type { Page } from 'playwright-core'
import { describe, expect, it, onTestFinished } from 'vitest'
import { AuditChannels } from '../../../src/core/attest/index.ts'
import { decodeAttestation, verifyAttestation } from '../../../src/core/ledger/index.ts'
import { signingTopic } from '../../../src/core/node/index.ts'
import { InvokeEndpoint } from '../../../src/core/invoke/index.ts'
import { receiptHash, verifyReceipt, type SignedReceipt } from '../../../src/core/ledger/index.ts'
import { parseBootstrap } from '../../../src/super-node/super-node.ts'
import { wat } from '../../fixtures/wasm/fixtures.ts'
import { call, nodeReady, openApp, until } from '../../helpers/app-page.ts'
import { launchChromium, newContext } from '../../helpers/chromium.ts'
import { startSuperNode } from '../../helpers/super-node.ts'
import { keyedNode, publisher } from '../../helpers/invoke.ts'

const SIGNING = b4a.toString(signingTopic(), 'hex')

const data = async (page: Page, key: string): Promise<string | null> => await page.locator('#view-contribute').getAttribute(`data-${key}`)

/** Reads block `index` of a log the page's node holds, as bytes. */
async function block (page: Page, key: string, index: number): Promise<Uint8Array> {
  const bytes = await page.evaluate(async ([k, i]) => {
    const shadw = (window as unknown as { shadw: { call (m: string, p: unknown): Promise<{ block: Uint8Array | null }> } }).shadw
    return Array.from((await shadw.call('get', { key: k, index: i })).block ?? [])
  }, [key, index] as const)
  return Uint8Array.from(bytes)
}

describe('a browser contributor in the light tier', () => {
  it('switched to light, the tab executes nothing for tenants and co-signs receipts of calls the super node ran (re-running audited calls in its own sandbox) into its OPFS attestations log, which verifies offline; the saved choice survives a leader hand-over; switched back to shadow it executes again; it is on the signing topic only while it contributes (not before opting in, not once paused)', async () => {
    const superNode = await startSuperNode({ workers: 1 })
    const net = { bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet
    const pub = await publisher(net)
    const ref = `${pub.registry.key}/echo@1.0.0`
    await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const browser = await launchChromium()
    const context = await newContext(browser)
    const first = await openApp(context, superNode.info.appUrl)
    let page = first
    const pageKey = (await call(page, 'status', {})).publicKey
    // a tab that never opted in executes nothing: it is not on the signing topic, so light nodes do not dial it
    expect((await call(page, 'status', {})).topics).not.toContain(SIGNING)

    // a tenant on a Node caller that asks for its calls to be audited
    const { node: tenantNode } = await keyedNode(net, 'light')
    const audits = new AuditChannels({ host: tenantNode })
    audits.start()
    const tenant = new InvokeEndpoint({ host: tenantNode, tier: 'light', audit: audits })
    tenant.start()
    onTestFinished(() => { tenant.stop(); audits.stop() })

    await page.locator('label[for="tier-light"]').click()
    await page.locator('label.switch').click()
    await until('the node to be light and verifying', async () => await data(page, 'tier') === 'light' && await data(page, 'workers') === '1')
    expect(await page.locator('#contribute-note').textContent()).toBe('Verifying for the swarm: co-signing receipts, re-running audited calls in up to 1 worker.')
    expect(await page.evaluate(() => JSON.parse(localStorage.getItem('shadw.contribute') ?? 'null') as unknown)).toEqual({ optedIn: true, workers: 1, tier: 'light' })
    const status = await call(page, 'status', {})
    expect(status.tier).toBe('light')
    const attestationsKey = status.logs.find(l => l.name === 'attestations' && l.writable)?.key as string
    expect(attestationsKey).toMatch(/^[0-9a-f]{64}$/)
    expect(status.topics).toContain(SIGNING)
    await until('the tenant to reach the light tab', async () => audits.auditors().includes(pageKey), 60_000)
    await tenant.waitForExecutors(1, { timeoutMs: 30_000 })
    // the light tab advertises no capacity: the tenant sees one executor, the super node
    expect(tenant.peers().filter(p => (p.capacity?.total ?? 0) > 0).map(p => p.key)).toEqual([superNode.node.publicKey])

    const receipts: SignedReceipt[] = []
    for (let i = 0; i < 2; i++) {
      const res = await tenant.invoke(ref, b4a.from(`audit me ${i}`), { deadline: 30_000, audit: true })
      expect(res.receipts.map(r => r.executor)).toEqual([superNode.node.publicKey])
      receipts.push(...res.receipts)
    }
    await until('two attestations in the tab\'s log', async () => (await call(page, 'contribution', {})).signing?.attestations === 2, 60_000)
    const attestations = [await block(page, attestationsKey, 0), await block(page, attestationsKey, 1)].map(b => verifyAttestation(decodeAttestation(b)))
    expect(attestations.map(a => [a.signer, a.verdict, a.method, a.executor])).toEqual(Array(2).fill([pageKey, 'agree', 'reexec', superNode.node.publicKey]))
    expect(attestations.map(a => a.receiptHash).sort()).toEqual(receipts.map(r => receiptHash(verifyReceipt(r))).sort())
    const c = await call(page, 'contribution', {})
    expect(c.totals.calls).toBe(0)
    expect(c.signing).toMatchObject({ attestations: 2, agree: 2, disagree: 0, reexec: 2, audits: 2 })
    await until('the status line and figures show it', async () => (await page.locator('#node-state').textContent())?.includes(' · light · 2 attestations · ') === true)
    expect(await page.locator('.figure-value').nth(5).textContent()).toBe('2 (2 / 0)')

    // the choice is saved: a second tab takes over the node when the first closes, and starts it light, signing, with its log
    const oldLeader = (await nodeReady(first)).leader
    page = await openApp(context, superNode.info.appUrl)
    await first.close()
    // a call sent while the closing tab still hosted the node would wait out its whole timeout
    await until('the second tab to host the node', async () => {
      const s = await nodeReady(page)
      return s.leader !== oldLeader ? s : null
    }, 30_000, 250)
    await until('the second tab\'s node is light with both attestations', async () => {
      const s = await call(page, 'contribution', {})
      return s.tier === 'light' && s.signing?.attestations === 2
    }, 60_000)
    expect(await page.locator('input#tier-light').isChecked()).toBe(true)
    // same OPFS storage, same identity: the tenant reaches it again as a light node
    expect((await call(page, 'status', {})).publicKey).toBe(pageKey)

    // back to shadow on the running node: it executes for tenants again
    await page.locator('label[for="tier-shadow"]').click()
    await until('the node to be shadow and executing', async () => await data(page, 'tier') === 'shadow' && await data(page, 'workers') === '1')
    expect((await call(page, 'status', {})).tier).toBe('shadow')
    await until('the tab advertises capacity again', async () => tenant.peers().some(p => p.key === pageKey && (p.capacity?.total ?? 0) > 0), 30_000)
    await until('the tab no longer takes audits', async () => !audits.auditors().includes(pageKey), 30_000)
    const res = await tenant.invoke(ref, b4a.from('run me in the tab too'), { deadline: 30_000, redundancy: 2 })
    expect(res.receipts.map(r => verifyReceipt(r).executor).sort()).toEqual([pageKey, superNode.node.publicKey].sort())
    await until('the tab counts its execution', async () => (await call(page, 'contribution', {})).totals.calls === 1)
    expect((await call(page, 'contribution', {})).signing).toBe(null)
    expect((await call(page, 'status', {})).topics).toContain(SIGNING)

    // paused, the tab executes nothing and leaves the signing topic
    await page.locator('label.switch').click()
    await until('the node to stop contributing', async () => await data(page, 'workers') === '0')
    await until('the tab to leave the signing topic', async () => !(await call(page, 'status', {})).topics.includes(SIGNING), 30_000)
  }, 180_000)
})

import '../../../helpers/quiet-lit.ts'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { Page } from 'playwright-core'
import { createServer, type InlineConfig } from 'vite'
import { describe, expect, it, onTestFinished } from 'vitest'
import { AccessGate } from '../../../../src/core/access/access-gate.ts'
import { launchChromium, newContext } from '../../../helpers/chromium.ts'
import { FN, addressIs, holdsErc20, newWallet } from '../../../helpers/access-fixtures.ts'
import { startLocalLitNetwork } from '../../../integration/core/access/local-lit-network.ts'
import type { LitTestApi } from './lit-page.ts'
import type { AccessTestApi, Outcome } from './page.ts'

declare global {
  interface Window { accessTest: AccessTestApi, litTest: LitTestApi }
}

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url))

/** ethers, siwe, Lit's conditions package and hypercore-crypto (Solana sign-in's ed25519) are CommonJS or many modules: pre-bundle them once. */
const VITE_CONFIG: InlineConfig = {
  root: REPO_ROOT,
  configFile: false,
  logLevel: 'warn',
  cacheDir: 'node_modules/.vite-access-test',
  define: { global: 'globalThis' },
  server: { host: '127.0.0.1', port: 0, hmr: false, watch: null },
  optimizeDeps: { noDiscovery: true, include: ['ethers', 'siwe', '@lit-protocol/access-control-conditions', '@lit-protocol/constants', 'hypercore-crypto', 'b4a'] }
}

/** The Lit page also loads the Lit SDK (lazily, but Vite must pre-bundle it: it is CommonJS). */
const LIT_VITE_CONFIG: InlineConfig = {
  ...VITE_CONFIG,
  cacheDir: 'node_modules/.vite-access-lit-test',
  optimizeDeps: { noDiscovery: true, include: ['ethers', 'siwe', '@lit-protocol/access-control-conditions', '@lit-protocol/constants', '@lit-protocol/lit-node-client', 'buffer', 'hypercore-crypto', 'b4a'] }
}

async function openPage (pageName = 'page.html', config = VITE_CONFIG): Promise<{ page: Page, host: string }> {
  const server = await createServer(config)
  await server.listen()
  onTestFinished(async () => { await server.close() })
  const { port } = server.httpServer?.address() as AddressInfo
  const browser = await launchChromium()
  const page = await (await newContext(browser)).newPage()
  if (process.env['SHADW_DEBUG'] !== undefined) page.on('console', m => { console.log('[page]', m.text()) })
  page.on('pageerror', err => { console.error('[page error]', err.message) })
  await page.goto(`http://127.0.0.1:${port}/test/browser/core/access/${pageName}`)
  await page.waitForFunction(() => window.accessTest !== undefined, undefined, { timeout: 60_000 })
  return { page, host: `127.0.0.1:${port}` }
}

describe('access in the browser', () => {
  it('a tenant page signs with its injected wallet; an allowed tenant passes and a stranger is refused, on a super node and on a browser node', async () => {
    const { page, host } = await openPage()
    const tenant = newWallet()
    const stranger = newWallet()
    const access = { accessControlConditions: [addressIs(tenant.address)] }
    const nodeGate = new AccessGate({ domain: host })

    const injected = await page.evaluate(key => window.accessTest.injectWallet(key), tenant.privateKey)
    expect(injected).toBe(tenant.address)
    const signed = await page.evaluate(async fn => await window.accessTest.sign(fn), FN)
    if (!signed.ok) throw new Error(signed.message)
    expect(await page.evaluate(() => window.accessTest.walletCalls)).toEqual(['eth_requestAccounts', 'personal_sign'])
    const auth = signed.value as { address: string, signedMessage: string }
    expect(auth.address).toBe(tenant.address)
    expect(auth.signedMessage.startsWith(`${host} wants you to sign in with your Ethereum account:\n${tenant.address}\n`)).toBe(true)

    // a super node (this process) decides
    expect(await nodeGate.authorize({ fn: FN, access, auth })).toEqual({ path: 'local', address: tenant.address })
    // a browser node decides on a second auth from the same page (each auth is single use)
    const again = await page.evaluate(async fn => await window.accessTest.sign(fn), FN)
    expect(await page.evaluate(async ([fn, a, au]) => await window.accessTest.authorize(fn, a, au), [FN, access, again.ok ? again.value : null] as const))
      .toEqual({ ok: true, value: { path: 'local', address: tenant.address } } satisfies Outcome)
    // and refuses its replay
    const replayed = await page.evaluate(async ([fn, a, au]) => await window.accessTest.authorize(fn, a, au), [FN, access, again.ok ? again.value : null] as const)
    expect(replayed.ok ? 'PASSED' : replayed.code).toBe('AUTH_REPLAYED')

    // the stranger's wallet signs a valid auth, which does not meet the conditions
    await page.evaluate(key => window.accessTest.injectWallet(key), stranger.privateKey)
    const strangerAuth = await page.evaluate(async fn => await window.accessTest.sign(fn), FN)
    if (!strangerAuth.ok) throw new Error(strangerAuth.message)
    await expect(nodeGate.authorize({ fn: FN, access, auth: strangerAuth.value })).rejects.toMatchObject({ code: 'ACCESS_DENIED' })
    const strangerAgain = await page.evaluate(async fn => await window.accessTest.sign(fn), FN)
    const refused = await page.evaluate(async ([fn, a, au]) => await window.accessTest.authorize(fn, a, au), [FN, access, strangerAgain.ok ? strangerAgain.value : null] as const)
    expect(refused.ok ? 'PASSED' : refused.code).toBe('ACCESS_DENIED')

    // an auth signed on this page is refused by a node serving another app domain
    await expect(new AccessGate({ domain: 'other.example' }).authorize({ fn: FN, access, auth: (await page.evaluate(async fn => await window.accessTest.sign(fn), FN) as { value: unknown }).value }))
      .rejects.toMatchObject({ code: 'AUTH_WRONG_DOMAIN' })
  })

  it('falls back to a local key without a wallet, and reports a wallet rejection as ABORTED', async () => {
    const { page } = await openPage()
    const key = newWallet()
    const noWallet = await page.evaluate(async fn => await window.accessTest.sign(fn), FN)
    expect(noWallet.ok ? 'PASSED' : noWallet.code).toBe('INVALID_ARGUMENT')
    const local = await page.evaluate(async ([fn, k]) => await window.accessTest.sign(fn, k), [FN, key.privateKey] as const)
    expect(local.ok && (local.value as { address: string }).address).toBe(key.address)
    await page.evaluate(k => window.accessTest.injectWallet(k, { reject: true }), key.privateKey)
    const rejected = await page.evaluate(async fn => await window.accessTest.sign(fn), FN)
    expect(rejected.ok ? 'PASSED' : rejected.code).toBe('ABORTED')
  })

  it('a Lit-gated call from an injected wallet: the page\'s LitNodeClient asks the loopback Lit network; the holder passes, a stranger is refused', async () => {
    const token = '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48'
    const tenant = newWallet()
    const stranger = newWallet()
    const network = await startLocalLitNetwork({ chain: { erc20: { [token]: { [tenant.address.toLowerCase()]: 5n } } } })
    onTestFinished(async () => { await network.close() })
    const { page } = await openPage('lit.html', LIT_VITE_CONFIG)
    await page.waitForFunction(() => window.litTest !== undefined, undefined, { timeout: 60_000 })
    const access = { accessControlConditions: [holdsErc20(token)] }
    const state = { nodeUrls: network.nodeUrls, subnetPubKey: network.subnetPubKey, minNodeCount: network.minNodeCount }
    const secret = await page.evaluate(async ([s, a]) => await window.litTest.publish(s, a), [state, access] as const)

    await page.evaluate(key => window.accessTest.injectWallet(key), tenant.privateKey)
    const auth = await page.evaluate(async fn => await window.accessTest.sign(fn), FN)
    const before = network.requests
    const allowed = await page.evaluate(async ([fn, a, s, au]) => await window.litTest.authorize(fn, a, s, au), [FN, access, secret, auth.ok ? auth.value : null] as const)
    expect(allowed).toEqual({ ok: true, value: { path: 'lit', address: tenant.address } } satisfies Outcome)
    expect(network.requests - before).toBe(3)

    await page.evaluate(key => window.accessTest.injectWallet(key), stranger.privateKey)
    const strangerAuth = await page.evaluate(async fn => await window.accessTest.sign(fn), FN)
    const refused = await page.evaluate(async ([fn, a, s, au]) => await window.litTest.authorize(fn, a, s, au), [FN, access, secret, strangerAuth.ok ? strangerAuth.value : null] as const)
    expect(refused.ok ? 'PASSED' : refused.code).toBe('ACCESS_DENIED')
    expect(await page.evaluate(() => window.litTest.leaked())).toBe(false)
  })
})

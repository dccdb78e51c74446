import { createServer } from 'node:http'
import b4a from 'b4a'
import { Wallet, utils } from 'ethers'
import type { Testnet } from 'hyperdht/testnet'
import type { Page } from 'playwright-core'
import { describe, expect, it, onTestFinished } from 'vitest'
import { signAuth } from '../../../../src/core/access/index.ts'
import { ShadwError } from '../../../../src/core/errors.ts'
import { connect, FN_REQUEST_HEADERS, type ClientInvokeOptions } from '../../../../src/core/gateway/index.ts'
import { DEFAULT_INVOKE_DEADLINE_MS } from '../../../../src/core/invoke/index.ts'
import { verifyReceipt, type SignedReceipt } from '../../../../src/core/ledger/index.ts'
import { parseBootstrap } from '../../../../src/super-node/super-node.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { call, openApp, until } from '../../../helpers/app-page.ts'
import { launchChromium, newContext } from '../../../helpers/chromium.ts'
import { startSuperNode } from '../../../helpers/super-node.ts'
import { publisher } from '../../../helpers/invoke.ts'

/** What one call came back with, on any path. */
interface Outcome { status: number, code: string | null, output: string | null, receipts: SignedReceipt[] }

/** One call's options, written as a tenant writes them on each path: SDK options, or headers. */
interface Case { options: ClientInvokeOptions, headers: Record<string, string> }

type Send = (ref: string, body: string, c: Case) => Promise<Outcome>

/** Audited calls sent before one reaches the light node: its audit channel to the caller opens with their connection. */
const AUDIT_TRIES = 10

/** A page of another origin than the app's: a plain HTTP server on another port. */
async function otherOrigin (): Promise<string> {
  const server = createServer((_req, res) => { res.writeHead(200, { 'content-type': 'text/html' }); res.end('<!doctype html><title>a tenant</title>') })
  await new Promise<void>(resolve => { server.listen(0, '127.0.0.1', resolve) })
  onTestFinished(async () => { server.closeAllConnections(); await new Promise(resolve => server.close(resolve)) })
  return `http://127.0.0.1:${(server.address() as { port: number }).port}/`
}

/** POSTs from a page (raw `fetch`, as a tenant's page does) and reads what the answer shows. */
async function post (page: Page, url: string, body: string, headers: Record<string, string>): Promise<Outcome> {
  const res = await page.evaluate(async ([u, b, h]) => {
    const r = await fetch(u, { method: 'POST', body: b, headers: h })
    return { status: r.status, code: r.headers.get('shadw-error-code'), text: await r.text(), receipts: r.headers.get('shadw-receipts') }
  }, [url, body, headers] as const)
  return { status: res.status, code: res.code, output: res.status === 200 ? res.text : null, receipts: JSON.parse(res.receipts ?? '[]') as SignedReceipt[] }
}

describe('invocation options on every path from a tenant to the executors', () => {
  it('every shadw-* header survives the SDK, a cross-origin page and a same-origin page (service worker → bridge → node worker): maxCharge refuses before anything runs (402), and deadline, auth, redundancy, quorum and audit reach the executors', async () => {
    const superNode = await startSuperNode({ workers: 1 })
    const bootstrap = superNode.info.bootstrap
    const other = await startSuperNode({ workers: 1, bootstrap })
    const light = await startSuperNode({ tier: 'light', bootstrap })
    const executors = [superNode, other]
    const pub = await publisher({ bootstrap: parseBootstrap(bootstrap) } as unknown as Testnet)
    const echo = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const wallet = new Wallet(utils.hexlify(utils.randomBytes(32)))
    const access = [{ conditionType: 'evmBasic', contractAddress: '', standardContractType: '', chain: 'ethereum', method: '', parameters: [':userAddress'], returnValueTest: { comparator: '=', value: wallet.address } }]
    // both executors accept auth that names the app's domain: the pages' origin
    const domain = new URL(superNode.info.appUrl).host
    const gated = await pub.publish(await wat('echo'), { name: 'gated', version: '1.0.0', access, authDomains: [domain] })
    await superNode.executor?.endpoint.waitForExecutors(1, { timeoutMs: 30_000 })

    const browser = await launchChromium()
    const context = await newContext(browser)
    const app = await openApp(context, superNode.info.appUrl)
    await app.evaluate(async () => { await navigator.serviceWorker.ready })
    await until('the service worker to control the page', async () => await app.evaluate(() => navigator.serviceWorker.controller !== null))
    await until('the app\'s node to hear both executors', async () => (await call(app, 'contribution', {})).executors.filter(e => e.total > 0).length === 2, 60_000)
    const tenant = await context.newPage()
    await tenant.goto(await otherOrigin())

    // the SDK, with the HTTP status of each answer taken from the real fetch
    let status = 0
    const client = connect({ url: superNode.info.appUrl, fetch: async (url, init) => { const res = await fetch(url, init); status = res.status; return res } })
    const paths: Array<[string, Send]> = [
      ['sdk', async (ref, body, c) => {
        try {
          const r = await client.invoke(ref, b4a.from(body), c.options)
          return { status, code: null, output: b4a.toString(r.output), receipts: r.receipts }
        } catch (err) {
          if (err instanceof ShadwError) return { status, code: err.code, output: null, receipts: [] }
          throw err
        }
      }],
      // the super node's gateway from a page of another origin: CORS preflight, every header allowed
      ['cross-origin', async (ref, body, c) => await post(tenant, new URL(`/fn/${ref}`, superNode.info.appUrl).href, body, c.headers)],
      // a page of the app: its service worker routes the call over the bridge to the origin's node worker
      ['same-origin', async (ref, body, c) => await post(app, `/fn/${ref}`, body, c.headers)]
    ]
    const tested = new Set<string>()
    const track = (c: Case): Case => { for (const h of Object.keys(c.headers)) tested.add(h); return c }
    const executed = (): number[] => executors.map(n => n.executor?.service.executions ?? -1)

    for (const [path, send] of paths) {
      const ok = await send(echo, `plain ${path}`, { options: {}, headers: {} })
      expect([path, ok.status, ok.output, ok.receipts.length]).toEqual([path, 200, `plain ${path}`, 1])

      // maxCharge: every priced executor refuses before any work, and nothing ran anywhere
      const before = executed()
      const capped = await send(echo, `capped ${path}`, track({ options: { maxCharge: 1 }, headers: { 'shadw-max-charge': '1' } }))
      expect([path, capped.status, capped.code]).toEqual([path, 402, 'SPENDING_CAP_EXCEEDED'])
      expect([path, executed()]).toEqual([path, before])
      const generous = await send(echo, `generous ${path}`, { options: { maxCharge: 999_999_999 }, headers: { 'shadw-max-charge': '999999999' } })
      expect([path, generous.status, generous.output]).toEqual([path, 200, `generous ${path}`])

      // deadline: the executor signs the attempt's deadline, which only the call's own deadline (not the default) allows this far out
      const late = await send(echo, `deadline ${path}`, track({ options: { deadline: 45_000 }, headers: { 'shadw-deadline': '45000' } }))
      expect([path, late.status]).toEqual([path, 200])
      const receipt = verifyReceipt(late.receipts[0] as SignedReceipt)
      expect([path, receipt.deadline - receipt.time > DEFAULT_INVOKE_DEADLINE_MS, receipt.deadline - receipt.time <= 45_000]).toEqual([path, true, true])

      // auth: the gate refuses the gated function without it, and bills the wallet with it
      const refused = await send(gated, `no auth ${path}`, { options: {}, headers: {} })
      expect([path, refused.status, refused.code]).toEqual([path, 401, 'AUTH_MALFORMED'])
      const auth = await signAuth(wallet, { domain, fn: { publisher: pub.registry.key, name: 'gated', version: '1.0.0' } })
      const authed = await send(gated, `auth ${path}`, track({ options: { auth }, headers: { 'shadw-auth': JSON.stringify(auth) } }))
      expect([path, authed.status, authed.output, authed.receipts.map(r => r.tenant)]).toEqual([path, 200, `auth ${path}`, [wallet.address]])

      // redundancy: one receipt from each executor
      const twice = await send(echo, `twice ${path}`, track({ options: { redundancy: 2 }, headers: { 'shadw-redundancy': '2' } }))
      expect([path, twice.status, twice.receipts.map(r => verifyReceipt(r).executor).sort()]).toEqual([path, 200, executors.map(n => n.info.publicKey).sort()])
      // quorum: three slots, two executors; the default quorum (2) is met, a quorum of 3 is not
      const majority = await send(echo, `three ${path}`, { options: { redundancy: 3 }, headers: { 'shadw-redundancy': '3' } })
      expect([path, majority.status, majority.receipts.length]).toEqual([path, 200, 2])
      const all = await send(echo, `all three ${path}`, track({ options: { redundancy: 3, quorum: 3 }, headers: { 'shadw-redundancy': '3', 'shadw-quorum': '3' } }))
      expect([path, all.status, all.code]).toEqual([path, 502, 'QUORUM_FAILED'])

      // blocks: a pin travels with the call on every path; a function that reads no chain runs as
      // before (the decision at a pinned block is tested on a real chain in pinned-blocks.test.ts)
      const pinned = await send(echo, `pinned ${path}`, track({ options: { blocks: { sepolia: 7n } }, headers: { 'shadw-blocks': 'sepolia=7' } }))
      expect([path, pinned.status, pinned.output]).toEqual([path, 200, `pinned ${path}`])

      // audit: the call's input reaches the light node, which takes it for re-execution
      const signing = light.signing
      let audited = false
      for (let i = 0; i < AUDIT_TRIES && !audited; i++) {
        const taken = signing?.stats().audits ?? 0
        const res = await send(echo, `audit ${path} ${i}`, track({ options: { audit: true }, headers: { 'shadw-audit': '1' } }))
        expect([path, res.status]).toEqual([path, 200])
        audited = await until('the light node to take the audit', async () => (signing?.stats().audits ?? 0) > taken, 3_000).then(() => true, () => false)
      }
      expect([path, audited]).toEqual([path, true])
    }
    // every option header the gateway allows was sent on every path
    expect([...tested].sort()).toEqual(FN_REQUEST_HEADERS.filter(h => h.startsWith('shadw-')).sort())
  }, 300_000)
})

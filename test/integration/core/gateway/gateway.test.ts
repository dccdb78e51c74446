import b4a from 'b4a'
import type { Testnet } from 'hyperdht/testnet'
import { Wallet, utils } from 'ethers'
import { describe, expect, it } from 'vitest'
import { signAuth } from '../../../../src/core/access/index.ts'
import { ShadwError } from '../../../../src/core/errors.ts'
import { connect } from '../../../../src/core/gateway/index.ts'
import { verifyReceipt, type SignedReceipt } from '../../../../src/core/ledger/index.ts'
import { parseBootstrap } from '../../../../src/super-node/super-node.ts'
import { sha256Hex } from '../../../../src/core/sandbox/index.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { startSuperNode } from '../../../helpers/super-node.ts'
import { publisher } from '../../../helpers/invoke.ts'

async function failure (p: Promise<unknown>): Promise<ShadwError> {
  try {
    await p
  } catch (err) {
    if (err instanceof ShadwError) return err
    throw err
  }
  throw new Error('expected a typed error')
}

describe('the /fn/* gateway of a super node and the tenant SDK', () => {
  it('answers POST /fn/<publisher>/<name>@<range> with the output and receipts (CORS), typed errors with HTTP statuses, and the SDK checks the receipts', async () => {
    const superNode = await startSuperNode({ workers: 1 })
    const pub = await publisher({ bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet)
    const wallet = new Wallet(utils.hexlify(utils.randomBytes(32)))
    const access = [{ conditionType: 'evmBasic', contractAddress: '', standardContractType: '', chain: 'ethereum', method: '', parameters: [':userAddress'], returnValueTest: { comparator: '=', value: wallet.address } }]
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0', limits: { maxInputBytes: 64 } })
    const gated = await pub.publish(await wat('echo'), { name: 'gated', version: '1.0.0', access })
    const base = superNode.info.appUrl

    // raw HTTP, as a page on another origin would call it
    const res = await fetch(new URL(`/fn/${pub.registry.key}/echo@%5E1`, base), { method: 'POST', body: 'over http' })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-expose-headers')).toBe('shadw-receipts, shadw-dissenters, shadw-error-code')
    expect(await res.text()).toBe('over http')
    const receipts = JSON.parse(res.headers.get('shadw-receipts') as string) as SignedReceipt[]
    expect(receipts).toHaveLength(1)
    expect(verifyReceipt(receipts[0] as SignedReceipt).executor).toBe(superNode.info.publicKey)
    expect(receipts[0]?.outputHash).toBe(await sha256Hex(b4a.from('over http')))

    const preflight = await fetch(new URL(`/fn/${pub.registry.key}/echo`, base), { method: 'OPTIONS' })
    expect(preflight.status).toBe(204)
    expect(preflight.headers.get('access-control-allow-headers')).toBe('content-type, accept, shadw-redundancy, shadw-quorum, shadw-deadline, shadw-auth, shadw-max-charge, shadw-audit, shadw-blocks')

    const badPath = await fetch(new URL('/fn/not-a-publisher/echo', base), { method: 'POST', body: 'x' })
    expect(badPath.status).toBe(400)
    expect(badPath.headers.get('shadw-error-code')).toBe('INVALID_FUNCTION_REF')
    const tooBig = await fetch(new URL(`/fn/${pub.registry.key}/echo`, base), { method: 'POST', body: 'x'.repeat(65) })
    expect(tooBig.status).toBe(413)
    const message = 'INPUT_TOO_LARGE: input of 65 bytes exceeds the limit of 64'
    expect(await tooBig.json()).toEqual({ code: 'INPUT_TOO_LARGE', message, details: { failures: [{ executor: superNode.info.publicKey, code: 'INPUT_TOO_LARGE', message }] } })

    // the SDK: same calls, receipts checked on the tenant's side
    const shadw = connect({ url: base })
    const ok = await shadw.invoke(ref, b4a.from('via the sdk'), { deadline: 20_000 })
    expect(b4a.toString(ok.output)).toBe('via the sdk')
    expect(ok.receipts.map(r => r.executor)).toEqual([superNode.info.publicKey])
    expect((await failure(shadw.invoke(ref, new Uint8Array(65)))).code).toBe('INPUT_TOO_LARGE')
    // audits: the share is checked by the SDK before sending and by the gateway; none reaches a light node here and the call still answers
    expect(b4a.toString((await shadw.invoke(ref, b4a.from('audit me'), { audit: true })).output)).toBe('audit me')
    expect((await failure(shadw.invoke(ref, b4a.from('x'), { audit: 2 }))).code).toBe('INVALID_ARGUMENT')
    const badAudit = await fetch(new URL(`/fn/${pub.registry.key}/echo`, base), { method: 'POST', body: 'x', headers: { 'shadw-audit': '2' } })
    expect(badAudit.status).toBe(400)
    expect(badAudit.headers.get('shadw-error-code')).toBe('INVALID_ARGUMENT')
    expect((await failure(shadw.invoke(gated, b4a.from('x')))).code).toBe('AUTH_MALFORMED')
    // SIWE auth names the super node's app domain
    const fn = { publisher: pub.registry.key, name: 'gated', version: '1.0.0' }
    const domain = new URL(base).host
    const authed = await shadw.invoke(gated, b4a.from('mine'), { auth: await signAuth(wallet, { domain, fn }) })
    expect(b4a.toString(authed.output)).toBe('mine')
    expect(authed.receipts[0]?.tenant).toBe(wallet.address)
    // a gateway that lies about redundancy is caught: one signer cannot make a quorum of 2 of 3
    const lying = connect({
      url: base,
      fetch: async (url, init) => await fetch(url, { ...init, headers: { ...(init?.headers as Record<string, string>), 'shadw-redundancy': '1' } })
    })
    const caught = await failure(lying.invoke(ref, b4a.from('x'), { redundancy: 3 }))
    expect(caught.code).toBe('RECEIPT_INVALID')
    expect(caught.message).toBe('RECEIPT_INVALID: 1 distinct executor(s) signed; the quorum is 2')
  })

  it('every super node is a gateway: one started with workers 0 and a light one each answer POST /fn/<publisher>/<name> with the output, executed by another node of the swarm', async () => {
    const executor = await startSuperNode({ workers: 1 })
    const bootstrap = executor.info.bootstrap
    const pub = await publisher({ bootstrap: parseBootstrap(bootstrap) } as unknown as Testnet)
    const ref = await pub.publish(await wat('echo'), { name: 'echo', version: '1.0.0' })
    const idle = await startSuperNode({ workers: 0, bootstrap })
    const light = await startSuperNode({ tier: 'light', bootstrap })
    expect([idle.executor, light.executor]).toEqual([null, null])

    for (const [gateway, body] of [[idle, 'through a node that does not execute'], [light, 'through a light node']] as const) {
      // the gateway's node may not have heard the executor yet: it waits for one within the deadline
      const res = await fetch(new URL(`/fn/${pub.registry.key}/echo@%5E1`, gateway.info.appUrl), { method: 'POST', body, headers: { 'shadw-deadline': '30000' } })
      expect([res.status, res.headers.get('shadw-error-code')]).toEqual([200, null])
      expect(res.headers.get('access-control-allow-origin')).toBe('*')
      expect(await res.text()).toBe(body)
      const receipts = (JSON.parse(res.headers.get('shadw-receipts') as string) as SignedReceipt[]).map(r => verifyReceipt(r))
      expect(receipts.map(r => r.executor)).toEqual([executor.info.publicKey])
      expect(receipts[0]?.outputHash).toBe(await sha256Hex(b4a.from(body)))
      // the gateway's node called: it is the tenant the executor billed
      expect(receipts[0]?.tenant).toBe(gateway.info.publicKey)
    }
    // receipts are appended after the answer leaves (pipelined), so the ledger gets there shortly after
    const ledger = executor.executor?.ledgerKey as string
    await expect.poll(() => executor.node.logInfo(ledger).length, { timeout: 10_000 }).toBe(2)

    // the SDK takes a gateway that does not execute like any other
    const answer = await connect({ url: idle.info.appUrl }).invoke(ref, b4a.from('via the sdk'), { deadline: 20_000 })
    expect(b4a.toString(answer.output)).toBe('via the sdk')
    expect(answer.receipts.map(r => r.executor)).toEqual([executor.info.publicKey])
  }, 120_000)
})

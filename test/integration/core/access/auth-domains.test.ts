import b4a from 'b4a'
import { Wallet, utils } from 'ethers'
import { describe, expect, it } from 'vitest'
import { AccessGate, signAuth } from '../../../../src/core/access/index.ts'
import { ShadwError } from '../../../../src/core/errors.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'
import { testnet } from '../../../helpers/testnet.ts'
import { callerNode, executorNode, FaultyExecutor, publisher, sharedExecutor } from '../../../helpers/invoke.ts'

/** The domains the two executors serve their apps on, as `shadw start` derives them (host:port). */
const DOMAIN_A = 'a.shadw.test:4000'
const DOMAIN_B = 'b.shadw.test:5000'
/** The tenant app the publisher lists: neither executor's own. */
const APP = 'app.shadw.test'

async function failure (p: Promise<unknown>): Promise<ShadwError> {
  try {
    await p
  } catch (err) {
    if (err instanceof ShadwError) return err
    throw err
  }
  throw new Error('expected a typed error')
}

/** A gated function (one tenant's address) on two executors with different app domains, and a caller that sees both. */
async function twoDomains (authDomains?: string[]): Promise<{ ref: string, fn: { publisher: string, name: string, version: string }, wallet: Wallet, runs: FaultyExecutor[], caller: Awaited<ReturnType<typeof callerNode>> }> {
  const net = await testnet()
  const pub = await publisher(net)
  const wallet = new Wallet(utils.hexlify(utils.randomBytes(32)))
  const access = [{ conditionType: 'evmBasic', contractAddress: '', standardContractType: '', chain: 'ethereum', method: '', parameters: [':userAddress'], returnValueTest: { comparator: '=', value: wallet.address } }]
  const ref = await pub.publish(await wat('echo'), { name: 'gated', version: '1.0.0', access, ...(authDomains === undefined ? {} : { authDomains }) })
  const shared = sharedExecutor(2)
  const runs = [new FaultyExecutor(shared), new FaultyExecutor(shared)]
  await executorNode(net, runs[0]!, { gate: new AccessGate({ domain: DOMAIN_A }) })
  await executorNode(net, runs[1]!, { gate: new AccessGate({ domain: DOMAIN_B }) })
  const caller = await callerNode(net)
  await caller.endpoint.waitForExecutors(2, { timeoutMs: 20_000 })
  return { ref, fn: { publisher: pub.registry.key, name: 'gated', version: '1.0.0' }, wallet, runs, caller }
}

describe('SIWE domains are the publisher\'s signed policy', () => {
  it('two executors on different domains both accept an auth signed for a domain the manifest lists', async () => {
    const { ref, fn, wallet, runs, caller } = await twoDomains([APP, 'other-app.shadw.test:8443'])
    // redundancy 2 with quorum 2: the call must pass the gate on both executors
    const ok = await caller.endpoint.invoke(ref, b4a.from('x'), { redundancy: 2, quorum: 2, deadline: 20_000, auth: await signAuth(wallet, { domain: APP, fn }) })
    expect(b4a.toString(ok.output)).toBe('x')
    expect(ok.receipts.map(r => r.tenant)).toEqual([wallet.address, wallet.address])
    expect(ok.failures).toEqual([])
    expect(runs.map(r => r.calls)).toEqual([1, 1])
  })

  it('a domain the manifest does not list is AUTH_WRONG_DOMAIN on every executor, its own included', async () => {
    const { ref, fn, wallet, runs, caller } = await twoDomains([APP])
    for (const domain of [DOMAIN_A, DOMAIN_B, 'evil.example']) {
      const err = await failure(caller.endpoint.invoke(ref, b4a.from('x'), { redundancy: 2, quorum: 2, deadline: 20_000, auth: await signAuth(wallet, { domain, fn }) }))
      expect(err.code).toBe('AUTH_WRONG_DOMAIN')
      expect(err.message).toBe(`AUTH_WRONG_DOMAIN: auth signature is for "${domain}", not one of "${APP}"`)
    }
    expect(runs.map(r => r.calls)).toEqual([0, 0])
  })

  it('without a list each executor accepts only its own domain, as before (so one auth cannot pass both)', async () => {
    const { ref, fn, wallet, runs, caller } = await twoDomains()
    const err = await failure(caller.endpoint.invoke(ref, b4a.from('x'), { redundancy: 2, quorum: 2, deadline: 20_000, auth: await signAuth(wallet, { domain: DOMAIN_A, fn }) }))
    // executor A ran it, executor B refused the auth for A's domain: no quorum of two
    expect(err.code).toBe('QUORUM_FAILED')
    expect((err.details?.['failures'] as Array<{ code: string, message: string }>).map(f => [f.code, f.message])).toEqual([
      ['AUTH_WRONG_DOMAIN', `AUTH_WRONG_DOMAIN: auth signature is for "${DOMAIN_A}", not "${DOMAIN_B}"`]
    ])
    expect(runs.map(r => r.calls)).toEqual([1, 0])
  })

  it('a call lands on an executor of the domain the tenant signed for: one of another domain refuses, and the call moves on', async () => {
    const { ref, fn, wallet, runs, caller } = await twoDomains()
    // the router may pick either executor first; A refuses the auth for B's domain before
    // spending its nonce, so B accepts the same auth
    for (let i = 0; i < 6; i++) {
      const ok = await caller.endpoint.invoke(ref, b4a.from('x' + i), { deadline: 20_000, auth: await signAuth(wallet, { domain: DOMAIN_B, fn }) })
      expect(b4a.toString(ok.output)).toBe('x' + i)
    }
    expect(runs.map(r => r.calls)).toEqual([0, 6])
  })
})

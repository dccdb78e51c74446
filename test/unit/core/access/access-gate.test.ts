import '../../../helpers/quiet-lit.ts'
import { describe, expect, it } from 'vitest'
import { AccessGate } from '../../../../src/core/access/access-gate.ts'
import { signAuth } from '../../../../src/core/access/siwe-auth.ts'
import { ShadwError } from '../../../../src/core/errors.ts'
import { addressIs, DOMAIN, FN, newWallet } from '../../../helpers/access-fixtures.ts'

const T0 = Date.parse('2026-01-02T03:04:05.000Z')
const LISTED = ['app.shadw.test', 'mirror.shadw.test:8080']

async function codeOf (p: Promise<unknown>): Promise<string | undefined> {
  try { await p } catch (err) { return (err as ShadwError).code }
  return undefined
}

describe('AccessGate domains', () => {
  it('takes the manifest\'s domain list over the node\'s own domain', async () => {
    const wallet = newWallet()
    const access = [{ conditionType: 'evmBasic', ...addressIs(wallet.address) }]
    const gate = new AccessGate({ domain: DOMAIN, now: () => T0 })
    const listed = await signAuth(wallet, { domain: 'mirror.shadw.test:8080', fn: FN, issuedAt: T0 })
    expect(await gate.authorize({ fn: FN, access, domains: LISTED, auth: listed })).toEqual({ path: 'local', address: wallet.address })
    // the node's own domain is not accepted once the publisher has listed others
    const own = await signAuth(wallet, { domain: DOMAIN, fn: FN, issuedAt: T0 })
    expect(await codeOf(gate.authorize({ fn: FN, access, domains: LISTED, auth: own }))).toBe('AUTH_WRONG_DOMAIN')
  })

  it('falls back to the node\'s own domain when the manifest lists none (absent or empty)', async () => {
    const wallet = newWallet()
    const access = [{ conditionType: 'evmBasic', ...addressIs(wallet.address) }]
    const gate = new AccessGate({ domain: DOMAIN, now: () => T0 })
    const own = await signAuth(wallet, { domain: DOMAIN, fn: FN, issuedAt: T0 })
    expect((await gate.authorize({ fn: FN, access, auth: own })).path).toBe('local')
    const again = await signAuth(wallet, { domain: DOMAIN, fn: FN, issuedAt: T0 })
    expect((await gate.authorize({ fn: FN, access, domains: [], auth: again })).path).toBe('local')
    const listed = await signAuth(wallet, { domain: 'app.shadw.test', fn: FN, issuedAt: T0 })
    expect(await codeOf(gate.authorize({ fn: FN, access, auth: listed }))).toBe('AUTH_WRONG_DOMAIN')
  })

  it('checks no auth for a public function, list or not', async () => {
    const gate = new AccessGate({ domain: DOMAIN, now: () => T0 })
    expect(await gate.authorize({ fn: FN, access: [], domains: LISTED })).toEqual({ path: 'public', address: null })
  })
})

import '../../../helpers/quiet-lit.ts'
import { describe, expect, it } from 'vitest'
import { MAX_SCOPES_PER_AUTH, ReplayGuard } from '../../../../src/core/access/replay-guard.ts'
import { authCall, signAuth, verifyAuth, type VerifyAuthOptions } from '../../../../src/core/access/siwe-auth.ts'
import { ShadwError } from '../../../../src/core/errors.ts'
import { DOMAIN, FN, newWallet } from '../../../helpers/access-fixtures.ts'

const T0 = Date.parse('2026-01-02T03:04:05.000Z')
const CALL = 'c0'.repeat(32)
const KEY = 'ee'.repeat(32)
const OTHER_FN = { ...FN, name: 'drive-key', version: '1' }

function code (value: unknown, options: VerifyAuthOptions): string {
  try { verifyAuth(value, options) } catch (err) { expect(err).toBeInstanceOf(ShadwError); return (err as ShadwError).code }
  return 'accepted'
}

describe('auth bound to a call', () => {
  it('names the call and the extra keys in its resources; the caller reads the call back as its nonce', async () => {
    const auth = await signAuth(newWallet(), { domain: DOMAIN, fn: FN, issuedAt: T0, call: CALL, keys: [KEY] })
    expect(auth.signedMessage).toContain(`- shadw:call:${CALL}`)
    expect(auth.signedMessage).toContain(`- shadw:key:${KEY}`)
    expect(authCall(auth)).toBe(CALL)
    expect(authCall(await signAuth(newWallet(), { domain: DOMAIN, fn: FN }))).toBe(null)
    const ok = verifyAuth(auth, { domain: DOMAIN, fn: FN, now: T0 + 1000, call: CALL })
    expect({ call: ok.call, keys: ok.keys }).toEqual({ call: CALL, keys: [KEY] })
    await expect(signAuth(newWallet(), { domain: DOMAIN, fn: FN, call: 'xyz' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  })

  it('refuses an auth for another call or none with AUTH_WRONG_CALL; a key holder takes the key only when the auth names it or its function', async () => {
    const wallet = newWallet()
    const bound = await signAuth(wallet, { domain: DOMAIN, fn: FN, issuedAt: T0, call: CALL })
    const unbound = await signAuth(wallet, { domain: DOMAIN, fn: FN, issuedAt: T0 })
    const at = { domain: DOMAIN, now: T0 + 1000 }
    expect(code(bound, { ...at, fn: FN, call: 'c1'.repeat(32) })).toBe('AUTH_WRONG_CALL')
    expect(code(unbound, { ...at, fn: FN, call: CALL })).toBe('AUTH_WRONG_CALL')
    // a holder of a drive key (another function) during a call: the auth must name the key
    expect(code(bound, { ...at, fn: OTHER_FN, call: CALL, key: KEY })).toBe('AUTH_WRONG_CALL')
    const naming = await signAuth(wallet, { domain: DOMAIN, fn: FN, issuedAt: T0, call: CALL, keys: [KEY] })
    expect(code(naming, { ...at, fn: OTHER_FN, call: CALL, key: KEY })).toBe('accepted')
    // a holder of the function's own secret: the function binding is the tenant's consent
    expect(code(bound, { ...at, fn: FN, call: CALL, key: KEY })).toBe('accepted')
    // ...but never without the call binding
    expect(code(unbound, { ...at, fn: FN, call: CALL, key: KEY })).toBe('AUTH_WRONG_CALL')
    // outside a call, naming a key is no binding to another function
    expect(code(naming, { ...at, fn: OTHER_FN })).toBe('AUTH_WRONG_FUNCTION')
  })

  it('spends the nonce once per requesting node, for a bounded number of nodes', async () => {
    const auth = await signAuth(newWallet(), { domain: DOMAIN, fn: FN, issuedAt: T0, call: CALL })
    const replay = new ReplayGuard({ now: () => T0 + 1000 })
    const use = (scope: string): string => code(auth, { domain: DOMAIN, fn: FN, now: T0 + 1000, call: CALL, replay, replayScope: scope })
    expect(use('executor-a')).toBe('accepted')
    expect(use('executor-a')).toBe('AUTH_REPLAYED')
    for (let i = 1; i < MAX_SCOPES_PER_AUTH; i++) expect(use(`executor-${i}`)).toBe('accepted')
    expect(use('one-too-many')).toBe('AUTH_REPLAYED')
    // the unscoped use (a reader asking for itself) is its own
    expect(code(auth, { domain: DOMAIN, fn: FN, now: T0 + 1000, replay })).toBe('accepted')
  })
})

import '../../../helpers/quiet-lit.ts'
import { describe, expect, it } from 'vitest'
import { ReplayGuard } from '../../../../src/core/access/replay-guard.ts'
import { createAuthMessage, MAX_AUTH_LIFETIME_MS, signAuth, verifyAuth, type VerifyAuthOptions } from '../../../../src/core/access/siwe-auth.ts'
import { ShadwError } from '../../../../src/core/errors.ts'
import { DOMAIN, FN, newWallet } from '../../../helpers/access-fixtures.ts'

const T0 = Date.parse('2026-01-02T03:04:05.000Z')

function refusal (value: unknown, options: VerifyAuthOptions): ShadwError {
  try {
    verifyAuth(value, options)
  } catch (err) {
    expect(err).toBeInstanceOf(ShadwError)
    return err as ShadwError
  }
  throw new Error('auth was accepted')
}

describe('SIWE auth', () => {
  it('verifies a real signature from a locally generated key and returns the checksummed address', async () => {
    const wallet = newWallet()
    const auth = await signAuth(wallet, { domain: DOMAIN, fn: FN, issuedAt: T0, nonce: 'n0nce0001' })
    expect(auth.derivedVia).toBe('web3.eth.personal.sign')
    expect(auth.signedMessage).toContain(`${DOMAIN} wants you to sign in with your Ethereum account:\n${wallet.address}\n`)
    expect(auth.signedMessage).toContain(`- shadw:fn:${FN.publisher}/${FN.name}@${FN.version}`)
    const ok = verifyAuth(auth, { domain: DOMAIN, fn: FN, now: T0 + 1000, replay: new ReplayGuard() })
    expect(ok.address).toBe(wallet.address)
    expect(ok.nonce).toBe('n0nce0001')
    expect(ok.expiresAt).toBe(T0 + 5 * 60_000)
  })

  it('refuses a signature by another key as AUTH_FORGED', async () => {
    const alice = newWallet()
    const mallory = newWallet()
    const auth = await signAuth(alice, { domain: DOMAIN, fn: FN, issuedAt: T0 })
    const forged = { ...auth, sig: await mallory.signMessage(auth.signedMessage) }
    expect(refusal(forged, { domain: DOMAIN, fn: FN, now: T0 }).code).toBe('AUTH_FORGED')
  })

  it('refuses a message edited after signing as AUTH_FORGED', async () => {
    const auth = await signAuth(newWallet(), { domain: DOMAIN, fn: FN, issuedAt: T0 })
    const other = { ...FN, name: 'other' }
    const edited = { ...auth, signedMessage: auth.signedMessage.replace('/hello@', '/other@') }
    expect(refusal(edited, { domain: DOMAIN, fn: other, now: T0 }).code).toBe('AUTH_FORGED')
  })

  it('refuses an auth whose claimed address is not the signer as AUTH_FORGED', async () => {
    const auth = await signAuth(newWallet(), { domain: DOMAIN, fn: FN, issuedAt: T0 })
    expect(refusal({ ...auth, address: newWallet().address }, { domain: DOMAIN, fn: FN, now: T0 }).code).toBe('AUTH_FORGED')
  })

  it('refuses a signature that recovers to nothing as AUTH_FORGED', async () => {
    const auth = await signAuth(newWallet(), { domain: DOMAIN, fn: FN, issuedAt: T0 })
    const bad = { ...auth, sig: '0x' + '00'.repeat(64) + '1b' }
    expect(refusal(bad, { domain: DOMAIN, fn: FN, now: T0 }).code).toBe('AUTH_FORGED')
  })

  it('refuses an auth made for another site as AUTH_WRONG_DOMAIN', async () => {
    const auth = await signAuth(newWallet(), { domain: 'evil.example', fn: FN, issuedAt: T0 })
    const err = refusal(auth, { domain: DOMAIN, fn: FN, now: T0 })
    expect(err.code).toBe('AUTH_WRONG_DOMAIN')
    expect(err.details).toEqual({ domain: 'evil.example', expected: DOMAIN })
  })

  it('accepts an auth naming any domain of a list and refuses the others, the list in its details', async () => {
    const listed = ['app.shadw.test', 'other.shadw.test:8443']
    const auth = await signAuth(newWallet(), { domain: 'other.shadw.test:8443', fn: FN, issuedAt: T0 })
    expect(verifyAuth(auth, { domain: listed, fn: FN, now: T0 }).address).toBe(auth.address)
    const err = refusal(await signAuth(newWallet(), { domain: DOMAIN, fn: FN, issuedAt: T0 }), { domain: listed, fn: FN, now: T0 })
    expect(err.code).toBe('AUTH_WRONG_DOMAIN')
    expect(err.message).toBe(`AUTH_WRONG_DOMAIN: auth signature is for "${DOMAIN}", not one of "app.shadw.test", "other.shadw.test:8443"`)
    expect(err.details).toEqual({ domain: DOMAIN, expected: listed })
    // exact comparison, as EIP-4361 asks: no case folding, no default port
    expect(refusal(await signAuth(newWallet(), { domain: 'App.shadw.test', fn: FN, issuedAt: T0 }), { domain: listed, fn: FN, now: T0 }).code).toBe('AUTH_WRONG_DOMAIN')
    expect(refusal(await signAuth(newWallet(), { domain: 'app.shadw.test:443', fn: FN, issuedAt: T0 }), { domain: listed, fn: FN, now: T0 }).code).toBe('AUTH_WRONG_DOMAIN')
  })

  it('refuses an auth for another function, name or version, as AUTH_WRONG_FUNCTION', async () => {
    const auth = await signAuth(newWallet(), { domain: DOMAIN, fn: FN, issuedAt: T0 })
    expect(refusal(auth, { domain: DOMAIN, fn: { ...FN, version: '1.0.1' }, now: T0 }).code).toBe('AUTH_WRONG_FUNCTION')
    expect(refusal(auth, { domain: DOMAIN, fn: { ...FN, name: 'hello2' }, now: T0 }).code).toBe('AUTH_WRONG_FUNCTION')
    expect(refusal(auth, { domain: DOMAIN, fn: { ...FN, publisher: 'cd'.repeat(32) }, now: T0 }).code).toBe('AUTH_WRONG_FUNCTION')
  })

  it('refuses a SIWE message without a function binding as AUTH_WRONG_FUNCTION', async () => {
    const wallet = newWallet()
    const text = createAuthMessage(wallet.address, { domain: DOMAIN, fn: FN, issuedAt: T0 }).replace(/\nResources:\n- .*$/, '')
    const auth = { sig: await wallet.signMessage(text), derivedVia: 'web3.eth.personal.sign', signedMessage: text, address: wallet.address }
    expect(refusal(auth, { domain: DOMAIN, fn: FN, now: T0 }).code).toBe('AUTH_WRONG_FUNCTION')
  })

  it('refuses an expired auth, and one not valid yet, as AUTH_EXPIRED', async () => {
    const auth = await signAuth(newWallet(), { domain: DOMAIN, fn: FN, issuedAt: T0, ttlMs: 60_000 })
    expect(refusal(auth, { domain: DOMAIN, fn: FN, now: T0 + 60_000 }).code).toBe('AUTH_EXPIRED')
    const later = await signAuth(newWallet(), { domain: DOMAIN, fn: FN, issuedAt: T0, notBefore: T0 + 120_000, ttlMs: 60_000 })
    const err = refusal(later, { domain: DOMAIN, fn: FN, now: T0 })
    expect(err.code).toBe('AUTH_EXPIRED')
    expect(err.message).toContain('not valid yet')
    expect(verifyAuth(later, { domain: DOMAIN, fn: FN, now: T0 + 150_000 }).expiresAt).toBe(T0 + 180_000)
    const future = await signAuth(newWallet(), { domain: DOMAIN, fn: FN, issuedAt: T0 + 600_000 })
    expect(refusal(future, { domain: DOMAIN, fn: FN, now: T0 }).code).toBe('AUTH_EXPIRED')
  })

  it('refuses a replayed nonce as AUTH_REPLAYED, and only consumes nonces of auth that passed', async () => {
    const wallet = newWallet()
    const auth = await signAuth(wallet, { domain: DOMAIN, fn: FN, issuedAt: T0 })
    const replay = new ReplayGuard({ now: () => T0 })
    expect(refusal(auth, { domain: 'other.example', fn: FN, now: T0, replay }).code).toBe('AUTH_WRONG_DOMAIN')
    expect(replay.size).toBe(0)
    verifyAuth(auth, { domain: DOMAIN, fn: FN, now: T0, replay })
    expect(replay.size).toBe(1)
    const err = refusal(auth, { domain: DOMAIN, fn: FN, now: T0 + 1, replay })
    expect(err.code).toBe('AUTH_REPLAYED')
  })

  it('refuses malformed auth as AUTH_MALFORMED', async () => {
    const auth = await signAuth(newWallet(), { domain: DOMAIN, fn: FN, issuedAt: T0 })
    const opts = { domain: DOMAIN, fn: FN, now: T0 }
    expect(refusal(null, opts).code).toBe('AUTH_MALFORMED')
    expect(refusal('0x1234', opts).code).toBe('AUTH_MALFORMED')
    expect(refusal({ ...auth, sig: 42 }, opts).code).toBe('AUTH_MALFORMED')
    expect(refusal({ ...auth, sig: '0x1234' }, opts).code).toBe('AUTH_MALFORMED')
    expect(refusal({ ...auth, derivedVia: 'lit.bls' }, opts).code).toBe('AUTH_MALFORMED')
    expect(refusal({ ...auth, signedMessage: 'hello' }, opts).code).toBe('AUTH_MALFORMED')
    expect(refusal({ ...auth, signedMessage: auth.signedMessage + 'x'.repeat(5000) }, opts).code).toBe('AUTH_MALFORMED')
  })

  it('refuses a signed SIWE message without an expiry, or living too long, as AUTH_MALFORMED', async () => {
    const wallet = newWallet()
    const noExpiry = createAuthMessage(wallet.address, { domain: DOMAIN, fn: FN, issuedAt: T0 }).replace(/\nExpiration Time: .*/, '')
    const a = { sig: await wallet.signMessage(noExpiry), derivedVia: 'web3.eth.personal.sign', signedMessage: noExpiry, address: wallet.address }
    expect(refusal(a, { domain: DOMAIN, fn: FN, now: T0 }).message).toContain('no expiration time')
    const long = createAuthMessage(wallet.address, { domain: DOMAIN, fn: FN, issuedAt: T0 })
      .replace(/Expiration Time: .*/, `Expiration Time: ${new Date(T0 + MAX_AUTH_LIFETIME_MS + 1).toISOString()}`)
    const b = { sig: await wallet.signMessage(long), derivedVia: 'web3.eth.personal.sign', signedMessage: long, address: wallet.address }
    const err = refusal(b, { domain: DOMAIN, fn: FN, now: T0 })
    expect(err.code).toBe('AUTH_MALFORMED')
    expect(err.details).toEqual({ lifetimeMs: MAX_AUTH_LIFETIME_MS + 1, limit: MAX_AUTH_LIFETIME_MS })
  })

  it('refuses to build a message for an invalid function or address', () => {
    expect(() => createAuthMessage('0x1234', { domain: DOMAIN, fn: FN })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
    expect(() => createAuthMessage(newWallet().address, { domain: DOMAIN, fn: { ...FN, name: 'a/b' } })).toThrowError(expect.objectContaining({ code: 'INVALID_FUNCTION_REF' }))
    expect(() => createAuthMessage(newWallet().address, { domain: DOMAIN, fn: FN, ttlMs: MAX_AUTH_LIFETIME_MS + 1 })).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
  })
})

describe('replay guard', () => {
  it('forgets nonces once their auth expired, and refuses new ones with BUSY when full of live ones', () => {
    let now = 1000
    const guard = new ReplayGuard({ maxEntries: 2, now: () => now })
    guard.use('0xA', 'n1', 2000)
    guard.use('0xa', 'n2', 3000)
    expect(() => guard.use('0xA', 'n2', 3000)).toThrowError(expect.objectContaining({ code: 'AUTH_REPLAYED' }))
    expect(() => guard.use('0xB', 'n3', 3000)).toThrowError(expect.objectContaining({ code: 'BUSY' }))
    now = 2000
    guard.use('0xB', 'n3', 3000)
    expect(guard.size).toBe(2)
    expect(() => guard.use('0xB', 'n3', 3000)).toThrowError(expect.objectContaining({ code: 'AUTH_REPLAYED' }))
  })

  it('keeps the same nonce of different addresses apart', () => {
    const guard = new ReplayGuard({ now: () => 0 })
    guard.use('0xA', 'same', 10)
    guard.use('0xB', 'same', 10)
    expect(guard.size).toBe(2)
  })
})

import '../../../helpers/quiet-lit.ts'
import crypto from 'hypercore-crypto'
import { utils } from 'ethers'
import { describe, expect, it } from 'vitest'
import { ReplayGuard } from '../../../../src/core/access/replay-guard.ts'
import { signSolanaAuth, verifyAuth } from '../../../../src/core/access/siwe-auth.ts'
import { DERIVED_VIA_SOLANA, formatSolanaAuthMessage, parseSolanaAuthMessage } from '../../../../src/core/access/siws-auth.ts'
import type { ShadwError } from '../../../../src/core/errors.ts'
import { DOMAIN, FN } from '../../../helpers/access-fixtures.ts'

const T0 = Date.parse('2026-01-02T03:04:05.000Z')

/** A Solana account: an ed25519 key pair, its public key in base58. */
function account (): { address: string, signMessage: (m: Uint8Array) => Promise<Uint8Array> } {
  const { publicKey, secretKey } = crypto.keyPair()
  return { address: utils.base58.encode(publicKey), signMessage: async m => crypto.sign(Buffer.from(m), secretKey) }
}

function code (fn: () => unknown): string {
  try { fn() } catch (err) { return (err as ShadwError).code }
  return 'PASSED'
}

describe('SIWS auth (Solana accounts)', () => {
  it('signs and verifies a Sign In With Solana message bound to the function, with Lit\'s AuthSig shape', async () => {
    const wallet = account()
    const auth = await signSolanaAuth(wallet, { domain: DOMAIN, fn: FN, issuedAt: T0, nonce: 'n0nce0001' })
    expect(auth.derivedVia).toBe(DERIVED_VIA_SOLANA)
    expect(auth.sig).toMatch(/^[0-9a-f]{128}$/)
    expect(auth.signedMessage.startsWith(`${DOMAIN} wants you to sign in with your Solana account:\n${wallet.address}\n\n`)).toBe(true)
    const ok = verifyAuth(auth, { domain: DOMAIN, fn: FN, now: T0 + 1000, replay: new ReplayGuard() })
    expect(ok).toMatchObject({ address: wallet.address, nonce: 'n0nce0001', expiresAt: T0 + 5 * 60_000 })
    // the same checks as SIWE: expiry and the function binding
    expect(code(() => verifyAuth(auth, { domain: DOMAIN, fn: FN, now: T0 + 6 * 60_000 }))).toBe('AUTH_EXPIRED')
    expect(code(() => verifyAuth(auth, { domain: DOMAIN, fn: { ...FN, name: 'other' }, now: T0 + 1000 }))).toBe('AUTH_WRONG_FUNCTION')
  })

  it('round-trips the message and refuses what the grammar does not allow', () => {
    const fields = { domain: DOMAIN, address: account().address, statement: 'hi', uri: 'https://x.example', version: '1', nonce: 'abcdefgh12', issuedAt: '2026-01-02T03:04:05.000Z', resources: ['shadw:fn:x'] }
    const text = formatSolanaAuthMessage(fields)
    expect(parseSolanaAuthMessage(text)).toEqual(fields)
    const bad = [
      text.replace('Solana account', 'Ethereum account'),
      text.replace(fields.address, '0x' + 'ab'.repeat(20)),
      text.replace('Version: 1', 'Version: 2'),
      text.replace('Nonce: abcdefgh12', 'Nonce: short'),
      text.replace('URI: https://x.example\nVersion: 1', 'Version: 1\nURI: https://x.example'),
      text + '\nExtra: line',
      text.replace('- shadw:fn:x', 'shadw:fn:x')
    ]
    for (const b of bad) expect(code(() => parseSolanaAuthMessage(b)), b).toBe('AUTH_MALFORMED')
  })

  it('refuses a signature by another key, a bad sig encoding, and an address that differs from the message\'s', async () => {
    const wallet = account()
    const other = account()
    const auth = await signSolanaAuth(wallet, { domain: DOMAIN, fn: FN, issuedAt: T0 })
    const opts = { domain: DOMAIN, fn: FN, now: T0 + 1000 }
    expect(code(() => verifyAuth({ ...auth, sig: '00'.repeat(64) }, opts))).toBe('AUTH_FORGED')
    expect(code(() => verifyAuth({ ...auth, sig: auth.sig.slice(2) }, opts))).toBe('AUTH_MALFORMED')
    expect(code(() => verifyAuth({ ...auth, address: other.address }, opts))).toBe('AUTH_FORGED')
    const forged = { ...auth, sig: (await signSolanaAuth(other, { domain: DOMAIN, fn: FN, issuedAt: T0 })).sig }
    expect(code(() => verifyAuth(forged, opts))).toBe('AUTH_FORGED')
  })
})

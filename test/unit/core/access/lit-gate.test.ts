import '../../../helpers/quiet-lit.ts'
import { describe, expect, it } from 'vitest'
import { checkConditions, type AccessPolicy } from '../../../../src/core/access/conditions.ts'
import type { LitClient } from '../../../../src/core/access/lit-client.ts'
import { LitGate } from '../../../../src/core/access/lit-gate.ts'
import type { VerifiedAuth } from '../../../../src/core/access/siwe-auth.ts'
import { ShadwError } from '../../../../src/core/errors.ts'
import { FN, holdsErc20 } from '../../../helpers/access-fixtures.ts'

// A narrow fake of our own LitClient interface: "decrypts" to the secret whose SHA-256 the
// manifest names, and counts calls. The real SDK path runs in test/integration/access.
const SECRET = new Uint8Array(32).fill(7)
async function sha256Hex (bytes: Uint8Array): Promise<string> {
  return Buffer.from(await crypto.subtle.digest('SHA-256', new Uint8Array(bytes))).toString('hex')
}

function fakeClient (behaviour: () => Promise<Uint8Array> = async () => SECRET): LitClient & { decrypts: number } {
  const fake = {
    decrypts: 0,
    encrypt: async () => ({ ciphertext: 'x', dataToEncryptHash: 'y' }),
    decrypt: async () => { fake.decrypts++; return { decryptedData: await behaviour() } },
    disconnect: async () => {}
  }
  return fake
}

function tenant (n: number): VerifiedAuth {
  const address = '0x' + n.toString(16).padStart(40, '0')
  return { address, nonce: 'n' + n, expiresAt: 0, authSig: { sig: '0x', derivedVia: 'web3.eth.personal.sign', signedMessage: '', address } }
}

describe('Lit gate (with a fake Lit client)', () => {
  async function setup (): Promise<{ policy: AccessPolicy, secret: { ciphertext: string, dataToEncryptHash: string } }> {
    const policy = await checkConditions({ accessControlConditions: [holdsErc20('0x' + '11'.repeat(20))] })
    return { policy, secret: { ciphertext: 'Y2lwaGVy', dataToEncryptHash: await sha256Hex(SECRET) } }
  }

  it('connects lazily, once, and again only after a failed connection', async () => {
    const { policy, secret } = await setup()
    const client = fakeClient()
    let attempts = 0
    const gate = new LitGate({
      connect: async () => {
        attempts++
        if (attempts === 1) throw ShadwError.LIT_UNAVAILABLE('down')
        return client
      }
    })
    expect(gate.connected).toBe(false)
    await expect(gate.check({ fn: FN, policy, auth: tenant(1), secret })).rejects.toMatchObject({ code: 'LIT_UNAVAILABLE' })
    await gate.check({ fn: FN, policy, auth: tenant(1), secret })
    await gate.check({ fn: FN, policy, auth: tenant(2), secret })
    expect(attempts).toBe(2)
    await gate.close()
    await gate.close()
  })

  it('keeps at most maxCacheEntries passes, dropping the oldest', async () => {
    const { policy, secret } = await setup()
    const client = fakeClient()
    const gate = new LitGate({ connect: async () => client, maxCacheEntries: 2 })
    await gate.check({ fn: FN, policy, auth: tenant(1), secret })
    await gate.check({ fn: FN, policy, auth: tenant(2), secret })
    await gate.check({ fn: FN, policy, auth: tenant(3), secret })
    expect(gate.cachedPasses).toBe(2)
    await gate.check({ fn: FN, policy, auth: tenant(3), secret })
    expect(client.decrypts).toBe(3)
    await gate.check({ fn: FN, policy, auth: tenant(1), secret })
    expect(client.decrypts).toBe(4)
  })

  it('does not cache refusals, and forgets a function\'s passes on request', async () => {
    const { policy, secret } = await setup()
    let allow = false
    const client = fakeClient(async () => {
      if (!allow) throw Object.assign(new Error('nope'), { info: { errorCode: 'NodeAccessControlConditionsReturnedNotAuthorized' } })
      return SECRET
    })
    const gate = new LitGate({ connect: async () => client })
    await expect(gate.check({ fn: FN, policy, auth: tenant(1), secret })).rejects.toMatchObject({ code: 'ACCESS_DENIED', details: { litErrorCode: 'NodeAccessControlConditionsReturnedNotAuthorized' } })
    allow = true
    await gate.check({ fn: FN, policy, auth: tenant(1), secret })
    await gate.check({ fn: FN, policy, auth: tenant(1), secret })
    expect(client.decrypts).toBe(2)
    gate.forget(FN)
    await gate.check({ fn: FN, policy, auth: tenant(1), secret })
    expect(client.decrypts).toBe(3)
  })

  it('refuses a decryption that does not match the manifest\'s data hash', async () => {
    const { policy } = await setup()
    const gate = new LitGate({ connect: async () => fakeClient() })
    await expect(gate.check({ fn: FN, policy, auth: tenant(1), secret: { ciphertext: 'Y2lwaGVy', dataToEncryptHash: '00'.repeat(32) } })).rejects.toMatchObject({ code: 'ACCESS_DENIED' })
  })

  it('refuses a malformed Lit secret before asking Lit', async () => {
    const { policy } = await setup()
    const client = fakeClient()
    const gate = new LitGate({ connect: async () => client })
    for (const secret of [null, { ciphertext: 'x y', dataToEncryptHash: '00'.repeat(32) }, { ciphertext: 'Y2lwaGVy', dataToEncryptHash: 'ZZ' }, { ciphertext: 'A'.repeat(5000), dataToEncryptHash: '00'.repeat(32) }]) {
      await expect(gate.check({ fn: FN, policy, auth: tenant(1), secret: secret as never })).rejects.toMatchObject({ code: 'ACCESS_CONDITIONS_INVALID' })
    }
    expect(client.decrypts).toBe(0)
    expect(gate.connected).toBe(false)
  })

  it('classifies an unknown node failure as LIT_UNAVAILABLE and honours aborts', async () => {
    const { policy, secret } = await setup()
    const failing = new LitGate({ connect: async () => fakeClient(async () => { throw new Error('socket hang up') }) })
    await expect(failing.check({ fn: FN, policy, auth: tenant(1), secret })).rejects.toMatchObject({ code: 'LIT_UNAVAILABLE' })
    const hanging = new LitGate({ connect: async () => fakeClient(async () => await new Promise<Uint8Array>(() => {})) })
    const controller = new AbortController()
    const pending = hanging.check({ fn: FN, policy, auth: tenant(1), secret, signal: controller.signal })
    controller.abort()
    await expect(pending).rejects.toMatchObject({ code: 'ABORTED' })
    await failing.close()
    await expect(failing.check({ fn: FN, policy, auth: tenant(1), secret })).rejects.toMatchObject({ code: 'LIT_UNAVAILABLE' })
  })
})

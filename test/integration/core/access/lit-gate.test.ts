import '../../../helpers/quiet-lit.ts'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Wallet } from 'ethers'
import { AccessGate } from '../../../../src/core/access/access-gate.ts'
import { checkConditions, type AccessPolicy } from '../../../../src/core/access/conditions.ts'
import { attachLit, connectLit, type LitClient } from '../../../../src/core/access/lit-client.ts'
import { encryptFunctionSecret, LitGate, type LitSecret } from '../../../../src/core/access/lit-gate.ts'
import { signAuth, type AuthMessageOptions } from '../../../../src/core/access/siwe-auth.ts'
import { ShadwError } from '../../../../src/core/errors.ts'
import { DOMAIN, FN, addressIs, holdsErc20, newWallet } from '../../../helpers/access-fixtures.ts'
import { startLocalLitNetwork, type LocalLitNetwork } from './local-lit-network.ts'

const TOKEN = '0xa0b86991c6218b36c1d19d4a2e9eb0ce3606eb48'
const OTHER_TOKEN = '0xdac17f958d2ee523a2206206994597c13d831ec7'

// Installed before the Lit SDK is first loaded in this file, so this sees what reaches the
// console after shadw's filter, exactly as a real log sink would.
const logged: unknown[][] = []
const realLog = console.log
console.log = (...args: unknown[]) => { logged.push(args) }

async function codeOf (promise: Promise<unknown>): Promise<string> {
  try {
    await promise
  } catch (err) {
    expect(err).toBeInstanceOf(ShadwError)
    return (err as ShadwError).code
  }
  return 'PASSED'
}

describe('Lit gate against a loopback Lit network (3 BLS nodes, threshold 2)', () => {
  let network: LocalLitNetwork
  let client: LitClient
  let policy: AccessPolicy
  let secret: LitSecret
  let holder: Wallet
  let stranger: Wallet
  let connects = 0

  beforeAll(async () => {
    holder = newWallet()
    stranger = newWallet()
    network = await startLocalLitNetwork({
      chain: { erc20: { [TOKEN]: { [holder.address.toLowerCase()]: 5n }, [OTHER_TOKEN]: { [stranger.address.toLowerCase()]: 1n } } }
    })
    client = await attachLit(network)
    policy = await checkConditions({ accessControlConditions: [holdsErc20(TOKEN)] })
    if (policy.public) throw new Error('expected conditions')
    secret = await encryptFunctionSecret(client, policy.conditions)
  })

  afterAll(async () => {
    await network?.close()
    console.log = realLog
  })

  function newGate (options: { now?: () => number, requestTimeoutMs?: number, lit?: LitClient } = {}): AccessGate {
    const lit = new LitGate({
      connect: async () => { connects++; return options.lit ?? client },
      requestTimeoutMs: options.requestTimeoutMs ?? 5_000,
      ...(options.now === undefined ? {} : { now: options.now })
    })
    return new AccessGate({ domain: DOMAIN, lit, ...(options.now === undefined ? {} : { now: options.now }) })
  }

  async function auth (wallet: Wallet, extra: Partial<AuthMessageOptions> = {}): Promise<unknown> {
    return await signAuth(wallet, { domain: DOMAIN, fn: FN, ...extra })
  }

  it('encrypts to an identity bound to Lit\'s hash of the conditions', () => {
    expect(secret.ciphertext.length).toBeGreaterThan(100)
    expect(secret.dataToEncryptHash).toMatch(/^[0-9a-f]{64}$/)
  })

  it('lets a token holder through: every node checks auth and conditions, the SDK combines the shares and decrypts', async () => {
    const gate = newGate()
    const before = network.requests
    const grant = await gate.authorize({ fn: FN, policy, litSecret: secret, auth: await auth(holder) })
    expect(grant).toEqual({ path: 'lit', address: holder.address })
    expect(network.requests - before).toBe(3)
  })

  it('caches a pass per function, tenant and conditions hash, for a bounded time', async () => {
    let now = Date.now()
    const gate = newGate({ now: () => now })
    const before = network.requests
    await gate.authorize({ fn: FN, policy, litSecret: secret, auth: await auth(holder, { issuedAt: now }) })
    await gate.authorize({ fn: FN, policy, litSecret: secret, auth: await auth(holder, { issuedAt: now }) })
    expect(network.requests - before).toBe(3)
    now += 61_000
    await gate.authorize({ fn: FN, policy, litSecret: secret, auth: await auth(holder, { issuedAt: now }) })
    expect(network.requests - before).toBe(6)
  })

  it('refuses, with its code, every tampered call, and the function never runs', async () => {
    const gate = newGate()
    let ran = 0
    const invoke = async (req: Parameters<AccessGate['authorize']>[0]): Promise<void> => {
      await gate.authorize(req)
      ran++
    }
    const base = { fn: FN, policy, litSecret: secret }

    // a stranger holds no tokens: the Lit nodes refuse to sign
    expect(await codeOf(invoke({ ...base, auth: await auth(stranger) }))).toBe('ACCESS_DENIED')

    // conditions rewritten to ones the stranger meets: the nodes sign, but for another
    // identity, and the publisher's secret does not decrypt
    const rewritten = await checkConditions({ accessControlConditions: [holdsErc20(OTHER_TOKEN)] })
    expect(await codeOf(invoke({ ...base, policy: rewritten, auth: await auth(stranger) }))).toBe('ACCESS_DENIED')

    // forged: the holder's message, signed by the stranger
    const real = await signAuth(holder, { domain: DOMAIN, fn: FN })
    const forged = { ...real, sig: await stranger.signMessage(real.signedMessage) }
    const requestsBefore = network.requests
    expect(await codeOf(invoke({ ...base, auth: forged }))).toBe('AUTH_FORGED')
    expect(await codeOf(invoke({ ...base, auth: await auth(holder, { issuedAt: Date.now() - 120_000, ttlMs: 60_000 }) }))).toBe('AUTH_EXPIRED')
    expect(await codeOf(invoke({ ...base, auth: await signAuth(holder, { domain: 'evil.example', fn: FN }) }))).toBe('AUTH_WRONG_DOMAIN')
    expect(await codeOf(invoke({ ...base, auth: await signAuth(holder, { domain: DOMAIN, fn: { ...FN, version: '2.0.0' } }) }))).toBe('AUTH_WRONG_FUNCTION')
    expect(await codeOf(invoke({ ...base, auth: undefined }))).toBe('AUTH_MALFORMED')
    // auth refused offline never reaches Lit
    expect(network.requests).toBe(requestsBefore)

    const once = await auth(holder)
    await invoke({ ...base, auth: once })
    expect(ran).toBe(1)
    expect(await codeOf(invoke({ ...base, auth: once }))).toBe('AUTH_REPLAYED')
    expect(ran).toBe(1)
  })

  it('maps the Lit nodes\' refusal of an auth signature to AUTH_EXPIRED / AUTH_FORGED', async () => {
    const lit = new LitGate({ connect: async () => client })
    const issuedAt = Date.now() - 120_000
    const expired = await signAuth(holder, { domain: DOMAIN, fn: FN, issuedAt, ttlMs: 60_000 })
    // bypass shadw's own verifier to see what the Lit nodes answer
    const verified = { address: holder.address, nonce: 'x', expiresAt: 0, authSig: expired }
    expect(await codeOf(lit.check({ fn: FN, policy, auth: verified, secret }))).toBe('AUTH_EXPIRED')
    const fresh = await signAuth(holder, { domain: DOMAIN, fn: FN })
    const forged = { ...verified, authSig: { ...fresh, sig: await stranger.signMessage(fresh.signedMessage) } }
    expect(await codeOf(lit.check({ fn: FN, policy, auth: forged, secret }))).toBe('AUTH_FORGED')
  })

  it('fails with LIT_UNAVAILABLE within the request deadline when the nodes hang', async () => {
    const gate = newGate({ requestTimeoutMs: 300 })
    network.mode = 'hang'
    try {
      const err = await gate.authorize({ fn: FN, policy, litSecret: secret, auth: await auth(holder) }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ShadwError)
      expect((err as ShadwError).code).toBe('LIT_UNAVAILABLE')
      expect((err as ShadwError).details).toEqual({ ms: 300 })
    } finally {
      network.mode = 'up'
    }
  })

  it('fails with LIT_UNAVAILABLE when no Lit node accepts connections', async () => {
    const dead = await startLocalLitNetwork()
    await dead.close()
    const deadClient = await attachLit(dead)
    const gate = newGate({ lit: deadClient })
    expect(await codeOf(gate.authorize({ fn: FN, policy, litSecret: secret, auth: await auth(holder) }))).toBe('LIT_UNAVAILABLE')
  })

  it('never connects to Lit for public functions or conditions decided locally', async () => {
    const before = connects
    const gate = newGate()
    expect(await gate.authorize({ fn: FN, access: [] })).toEqual({ path: 'public', address: null })
    const local = { accessControlConditions: [addressIs(holder.address)] }
    expect(await gate.authorize({ fn: FN, access: local, auth: await auth(holder) })).toEqual({ path: 'local', address: holder.address })
    expect(await codeOf(gate.authorize({ fn: FN, access: local, auth: await auth(stranger) }))).toBe('ACCESS_DENIED')
    expect(connects).toBe(before)
  })

  it('keeps the decryption key Lit\'s crypto package logs out of the console', () => {
    expect(logged.some(args => String(args[0]).startsWith('signature from encrypt op'))).toBe(false)
  })
})

describe('connecting to the real Lit network', () => {
  it('fails fast with LIT_UNAVAILABLE when the network is unreachable, instead of hanging', async () => {
    const err = await connectLit({ network: 'datil', timeoutMs: 1_500 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ShadwError)
    expect((err as ShadwError).code).toBe('LIT_UNAVAILABLE')
  })

  it('fails with LIT_UNAVAILABLE at the deadline when the chain RPC accepts connections but never answers', async () => {
    const sockets = new Set<Socket>()
    const blackHole = createServer(socket => { sockets.add(socket) })
    await new Promise<void>(resolve => blackHole.listen(0, '127.0.0.1', resolve))
    try {
      const rpcUrl = `http://127.0.0.1:${(blackHole.address() as AddressInfo).port}`
      const err = await connectLit({ network: 'datil', rpcUrl, timeoutMs: 500 }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(ShadwError)
      expect((err as ShadwError).code).toBe('LIT_UNAVAILABLE')
      expect((err as ShadwError).details).toEqual({ ms: 500 })
      expect(sockets.size).toBeGreaterThan(0)
    } finally {
      for (const socket of sockets) socket.destroy()
      await new Promise<void>(resolve => blackHole.close(() => resolve()))
    }
  })

  it('stops waiting when the caller aborts', async () => {
    const controller = new AbortController()
    const connecting = connectLit({ network: 'datil', timeoutMs: 30_000, signal: controller.signal })
    controller.abort()
    expect(await codeOf(connecting)).toBe('ABORTED')
  })
})

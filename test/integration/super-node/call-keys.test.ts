import '../../helpers/quiet-lit.ts'
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generatePrivateKey, privateKeyToAccount, type LocalAccount } from 'viem/accounts'
import { signAuth, type FunctionId } from '../../../src/core/access/index.ts'
import { Drive } from '../../../src/core/drive/index.ts'
import type { ShadwError } from '../../../src/core/errors.ts'
import { chooseHolders, dealKey, fetchKey, keyHoldersTopic, keyIdOf, KeyService } from '../../../src/core/keys/index.ts'
import type { SuperNode } from '../../../src/super-node/super-node.ts'
import { cWasm } from '../../fixtures/wasm/fixtures.ts'
import { type EvmNode, HARDHAT_CHAIN, startEvmNode } from '../../helpers/evm.ts'
import { callerNode, publisher, until } from '../../helpers/invoke.ts'
import { startSuperNode, tempDir } from '../../helpers/super-node.ts'
import { testnet, testNode } from '../../helpers/testnet.ts'
import { kernel } from '../../helpers/fs-kernel.ts'
import { releases, newCall } from '../../helpers/key-releases.ts'
import { erc20Gate, keyDealer } from '../../helpers/keyed-calls.ts'

const DOMAIN = 'app.shadw.test'
const SECRET = 'sk-live-0123456789abcdef'

function signerOf (account: LocalAccount): { getAddress: () => Promise<string>, signMessage: (m: string) => Promise<string> } {
  return { getAddress: async () => account.address, signMessage: async message => await account.signMessage({ message }) }
}

describe('keys an executor fetches for a call', () => {
  let evm: EvmNode
  beforeAll(async () => { evm = await startEvmNode() }, 120_000)
  afterAll(async () => { await evm?.stop() })

  it('a gated function reads its secret only when the caller holds the ERC-20; a gated drive mounts for the call; the caller never gets the key', async () => {
    const holder = evm.accounts[3] as LocalAccount
    const { access } = await erc20Gate(evm, holder)
    const stranger = privateKeyToAccount(generatePrivateKey())

    const net = await testnet()
    const bootstrap = net.bootstrap.map(b => `${b.host}:${b.port}`)
    const rpc = { [HARDHAT_CHAIN]: [evm.url] }
    // three key holders that execute nothing, and one executor that holds no keys
    const supers: SuperNode[] = []
    for (let i = 0; i < 3; i++) supers.push(await startSuperNode({ storage: await tempDir(), workers: 0, bootstrap, keyHolder: true, rpc }))
    const executor = await startSuperNode({ storage: await tempDir(), workers: 1, bootstrap, rpc })
    const exec = executor.info.publicKey
    const candidates = supers.map(s => s.info.publicKey)

    const pub = await publisher(net)
    const fn: FunctionId = { publisher: pub.registry.key, name: 'secret-env', version: '1.0.0' }
    const { node: dealerNode, keys } = await keyDealer(net, candidates, 'the dealer reaches the three key holders')
    const holders = chooseHolders(keyIdOf(dealerNode.publicKey, fn), candidates, 3)
    // the publisher's secret, released only to the executor it names, for calls it runs
    const layout = await dealKey(keys, { key: b4a.from(SECRET), fn, access, domains: [DOMAIN], executors: [exec], holders, threshold: 2 })
    const ref = await pub.publish(cWasm('print-env'), {
      name: fn.name,
      version: fn.version,
      access,
      authDomains: [DOMAIN],
      secrets: [{ name: 'API_KEY', keyId: layout.keyId, dealer: layout.dealer, threshold: 2, holders, executors: [exec] }]
    })
    // published with the first, so the executor's first look at the registry finds both
    const reader = await pub.publish(cWasm('fs-read-kernel'), { name: 'read-any', version: '1.0.0', access, authDomains: [DOMAIN] })

    const caller = await callerNode(net)
    await until('the caller sees the executor', () => caller.endpoint.peers().some(p => p.key === exec && p.capacity !== null), 60_000)
    const input = b4a.from('API_KEY\n')

    // the token holder: the executor fetches the secret for this call, the function prints it
    const call = newCall()
    const ok = await caller.endpoint.invoke(ref, input, { deadline: 60_000, auth: await signAuth(signerOf(holder), { domain: DOMAIN, fn, call }) })
    expect(b4a.toString(ok.output)).toBe(`API_KEY=${SECRET}\n`)
    // the call's nonce is the one the auth is bound to, and every holder that released says so
    expect(ok.receipts[0]?.nonce).toBe(call)
    const released = (await Promise.all(supers.map(releases))).flat()
    expect(released.length).toBeGreaterThanOrEqual(2)
    for (const r of released) expect({ call: r.call, requester: r.requester, tenant: r.tenant }).toEqual({ call, requester: exec, tenant: holder.address })
    const before = released.length

    // an auth not bound to the call is refused before any holder is asked
    await expect(caller.endpoint.invoke(ref, input, { deadline: 60_000, auth: await signAuth(signerOf(holder), { domain: DOMAIN, fn }) })).rejects.toMatchObject({ code: 'AUTH_WRONG_CALL' })
    // a caller without the token: the executor's own gate refuses, no holder releases anything
    await expect(caller.endpoint.invoke(ref, input, { deadline: 60_000, auth: await signAuth(signerOf(stranger), { domain: DOMAIN, fn, call: newCall() }) })).rejects.toMatchObject({ code: 'ACCESS_DENIED' })
    expect((await Promise.all(supers.map(releases))).flat().length).toBe(before)

    // the caller asking the holders itself, with an auth bound to a call, as if it executed it:
    // the holders release the publisher's secret to the executors it named only
    const thief = new KeyService({ host: caller.node, keyPair: crypto.keyPair() })
    thief.start()
    await caller.node.joinTopic(keyHoldersTopic(), { server: false, client: true })
    await until('the caller reaches the holders', () => holders.every(h => thief.peers().includes(h)), 60_000)
    const stolen = newCall()
    let refused: ShadwError | null = null
    try {
      await fetchKey(thief, { keyId: layout.keyId, dealer: layout.dealer, holders, threshold: 2, call: stolen, auth: await signAuth(signerOf(holder), { domain: DOMAIN, fn, call: stolen }) })
    } catch (err) { refused = err as ShadwError }
    expect(refused?.code).toBe('KEY_SHARES_SHORT')
    expect(Object.values(refused?.details?.refusals as Record<string, string>)).toEqual(['KEY_REQUESTER_REFUSED', 'KEY_REQUESTER_REFUSED', 'KEY_REQUESTER_REFUSED'])
    expect((await Promise.all(supers.map(releases))).flat().length).toBe(before)

    // a private drive whose key is gated: the call mounts it through its key grant
    const store = await testNode(net)
    const priv = await Drive.create(store, { encrypt: true })
    const bytes = Uint8Array.from({ length: 5000 }, (_, i) => (i * 131 + 4) % 256)
    const version = (await priv.drive.put('/blob', [bytes])).version
    const driveFn: FunctionId = { publisher: priv.drive.key, name: 'drive-key', version: '1' }
    const driveHolders = chooseHolders(keyIdOf(dealerNode.publicKey, driveFn), candidates, 3)
    const driveKey = await dealKey(keys, { key: priv.encryptionKey as Uint8Array, fn: driveFn, access, domains: [DOMAIN], holders: driveHolders, threshold: 2 })
    const readerFn: FunctionId = { publisher: pub.registry.key, name: 'read-any', version: '1.0.0' }
    const mount = { drive: priv.drive.key, version, path: '/data', keyGrant: { keyId: driveKey.keyId, dealer: driveKey.dealer, threshold: 2, holders: driveHolders } }
    const read = newCall()
    const got = await caller.endpoint.invoke(reader, new Uint8Array(0), { deadline: 60_000, mounts: [mount], auth: await signAuth(signerOf(holder), { domain: DOMAIN, fn: readerFn, call: read, keys: [driveKey.keyId] }) })
    expect(b4a.toString(got.output)).toBe(kernel(bytes))
    expect(got.receipts[0]?.mounts).toEqual([{ drive: priv.drive.key, version }])
    // an auth that does not name the drive's key: its holders refuse the executor
    await expect(caller.endpoint.invoke(reader, new Uint8Array(0), { deadline: 60_000, mounts: [mount], auth: await signAuth(signerOf(holder), { domain: DOMAIN, fn: readerFn, call: newCall() }) }))
      .rejects.toMatchObject({ code: 'KEY_SHARES_SHORT' })
    thief.stop()
    keys.stop()
    await priv.drive.close()
  }, 300_000)
})

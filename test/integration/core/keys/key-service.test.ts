import '../../../helpers/quiet-lit.ts'
import b4a from 'b4a'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Address } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { AccessGate, ChainGate, ChainReader, keyCheck, rebuildKey, signAuth, splitKey, verifyRelease, type FunctionId } from '../../../../src/core/access/index.ts'
import { ShadwError } from '../../../../src/core/errors.ts'
import { readLedgerEntry } from '../../../../src/core/ledger/index.ts'
import { chooseHolders, dealKey, fetchKey, keyHoldersTopic, keyIdOf, KeyService, type ShareStore } from '../../../../src/core/keys/index.ts'
import type { ShadwNode } from '../../../../src/core/node/index.ts'
import { testnet } from '../../../helpers/testnet.ts'
import { type EvmNode, HARDHAT_CHAIN, startEvmNode } from '../../../helpers/evm.ts'
import { keyedNode, until } from '../../../helpers/invoke.ts'

async function codeOf (p: Promise<unknown>): Promise<string> {
  try { await p } catch (err) { return err instanceof ShadwError ? err.code : String(err) }
  return 'PASSED'
}

function signerOf (account: LocalAccount): { getAddress: () => Promise<string>, signMessage: (m: string) => Promise<string> } {
  return { getAddress: async () => account.address, signMessage: async message => await account.signMessage({ message }) }
}

const DOMAIN = 'app.shadw.test'
const FN: FunctionId = { publisher: 'cd'.repeat(32), name: 'secret', version: '1.0.0' }

describe('condition-gated keys over the wire: 3 of 5 key holders on a local testnet and a real EVM node', () => {
  let evm: EvmNode
  let token: Address
  let access: unknown[]

  beforeAll(async () => {
    evm = await startEvmNode()
    token = await evm.deploy('Token20', [1000n])
    await evm.write(token, 'Token20', 'transfer', [evm.accounts[1]!.address, 1n])
    access = [{
      conditionType: 'evmBasic', contractAddress: token, standardContractType: 'ERC20', chain: HARDHAT_CHAIN, method: 'balanceOf', parameters: [':userAddress'], returnValueTest: { comparator: '>', value: '0' }
    }]
  }, 120_000)
  afterAll(async () => { await evm?.stop() })

  it('deals shares sealed at rest, releases them to a token holder only, with a record in each holder\'s ledger; fewer than 3 rebuild nothing', async () => {
    const net = await testnet()
    const holders: Array<{ node: ShadwNode, service: KeyService, ledgerKey: string, stored: Map<string, Uint8Array> }> = []
    for (let i = 0; i < 5; i++) {
      const { node, keyPair } = await keyedNode(net, 'super')
      const ledger = await node.createLog('ledger')
      const stored = new Map<string, Uint8Array>()
      const store: ShareStore = { get: async id => stored.get(id) ?? null, put: async (id, b) => { stored.set(id, b) } }
      // each holder decides alone: its own gate, replay guard and chain reader (reading the
      // head afresh each time, so a transfer counts at once)
      const gate = new AccessGate({ domain: DOMAIN, chain: new ChainGate({ headTtlMs: 0, reader: new ChainReader({ endpoints: { [HARDHAT_CHAIN]: [evm.url] } }) }) })
      const service = new KeyService({ host: node, keyPair, holder: { gate, ledger: { append: async blocks => await node.append(ledger.key, blocks) }, store } })
      service.start()
      await node.joinTopic(keyHoldersTopic(), { server: true, client: true })
      holders.push({ node, service, ledgerKey: ledger.key, stored })
    }
    const dealer = await keyedNode(net, 'super')
    const dealerKeys = new KeyService({ host: dealer.node, keyPair: dealer.keyPair })
    dealerKeys.start()
    await dealer.node.joinTopic(keyHoldersTopic(), { server: false, client: true })
    const requester = await keyedNode(net, 'light')
    const requesterKeys = new KeyService({ host: requester.node, keyPair: requester.keyPair })
    requesterKeys.start()
    await requester.node.joinTopic(keyHoldersTopic(), { server: false, client: true })
    const holderKeys = holders.map(h => h.node.publicKey)
    await until('the dealer and the requester reach every holder', () => holderKeys.every(k => dealerKeys.peers().includes(k) && requesterKeys.peers().includes(k)), 60_000)

    // holders are chosen from the candidates alone, whatever order they were seen in
    const keyId = keyIdOf(dealer.node.publicKey, FN)
    const chosen = chooseHolders(keyId, dealerKeys.peers().filter(k => holderKeys.includes(k)), 5)
    expect(chooseHolders(keyId, [...holderKeys].reverse(), 5)).toEqual(chosen)
    expect(chooseHolders(keyId, holderKeys, 3)).toEqual(chosen.slice(0, 3))

    const secret = b4a.from('a private drive content key 32b!')
    const shares = await splitKey(secret, 3, 5)
    const byHolder = new Map(chosen.map((h, i) => [h, shares[i] as Uint8Array]))
    const commitment = dealerKeys.commitment({ keyId, epoch: 0, threshold: 3, check: keyCheck(keyId, secret) })
    for (const [h, share] of byHolder) await dealerKeys.deposit(h, { keyId, fn: FN, access, domains: [DOMAIN], share, commitment })
    // at rest each holder keeps its share sealed: neither its bytes nor their hex are in the store
    for (const h of holders) {
      const bytes = h.stored.get(keyId) as Uint8Array
      const share = byHolder.get(h.node.publicKey) as Uint8Array
      expect(Buffer.from(bytes).indexOf(Buffer.from(share))).toBe(-1)
      expect(b4a.toString(bytes).includes(b4a.toString(share, 'hex'))).toBe(false)
    }
    // two colluding holders' shares say nothing about the key
    expect(b4a.equals(await rebuildKey([shares[0]!, shares[1]!]), secret)).toBe(false)
    // nobody but the dealer deposits under its key id
    expect(await codeOf(requesterKeys.deposit(chosen[0]!, { keyId, fn: FN, access: [], share: shares[0]!, commitment }))).toBe('INVALID_ARGUMENT')

    const tenant = evm.accounts[1] as LocalAccount
    const got = await fetchKey(requesterKeys, { keyId, dealer: dealer.node.publicKey, holders: chosen, threshold: 3, auth: await signAuth(signerOf(tenant), { domain: DOMAIN, fn: FN }) })
    expect(b4a.equals(got.key, secret)).toBe(true)
    expect(got.refusals).toEqual({})
    expect(got.records).toHaveLength(5)
    for (const r of got.records) {
      expect(verifyRelease(r)).toBe(true)
      expect(r.tenant).toBe(tenant.address)
      expect(Object.keys(r.blocks)).toEqual([HARDHAT_CHAIN])
    }
    // each holder appended its signed record to its ledger before answering, and it reads back
    for (const h of holders) {
      const entry = readLedgerEntry(await h.node.get(h.ledgerKey, 0) as Uint8Array)
      expect(entry.kind).toBe('release')
      if (entry.kind === 'release') expect(entry.release.holder).toBe(h.node.publicKey)
      expect(h.service.released).toBe(1)
    }

    // only two holders reachable (or willing): fewer than three shares, so no key
    const short = await codeOf(fetchKey(requesterKeys, { keyId, dealer: dealer.node.publicKey, holders: chosen.slice(0, 2), threshold: 3, auth: await signAuth(signerOf(tenant), { domain: DOMAIN, fn: FN }) }))
    expect(short).toBe('KEY_SHARES_SHORT')

    // a requester without the token: every holder refuses with ACCESS_DENIED, nothing is recorded
    const stranger = evm.accounts[4] as LocalAccount
    const strangerAuth = await signAuth(signerOf(stranger), { domain: DOMAIN, fn: FN })
    let refused: ShadwError | null = null
    try { await fetchKey(requesterKeys, { keyId, dealer: dealer.node.publicKey, holders: chosen, threshold: 3, auth: strangerAuth }) } catch (err) { refused = err as ShadwError }
    expect(refused?.code).toBe('KEY_SHARES_SHORT')
    expect(Object.values(refused?.details?.refusals as Record<string, string>)).toEqual(Array(5).fill('ACCESS_DENIED'))
    expect(await codeOf(requesterKeys.requestShare(chosen[0]!, { keyId: 'ab'.repeat(32), auth: strangerAuth, to: new Uint8Array(32) }))).toBe('KEY_NOT_HELD')
    // two releases per holder: the token holder's and the two-holder attempt's (first two only)
    expect(holders.map(h => h.service.released).reduce((a, b) => a + b, 0)).toBe(7)

    // dealKey: split and deposit in one step, then the holder sells its token and is refused at the head
    const fn2 = { ...FN, name: 'drive-key' }
    const key2 = b4a.alloc(32, 9)
    const { keyId: id2 } = await dealKey(dealerKeys, { key: key2, fn: fn2, access, domains: [DOMAIN], holders: chosen, threshold: 3 })
    const holding = await evm.client.getBlockNumber()
    await evm.write(token, 'Token20', 'transfer', [evm.accounts[2]!.address, 1n], tenant)
    const after = await codeOf(fetchKey(requesterKeys, { keyId: id2, dealer: dealer.node.publicKey, holders: chosen, threshold: 3, auth: await signAuth(signerOf(tenant), { domain: DOMAIN, fn: fn2 }) }))
    expect(after).toBe('KEY_SHARES_SHORT')
    // pinned at the block where it still held the token, every holder reads that block and releases
    const pinned = await fetchKey(requesterKeys, { keyId: id2, dealer: dealer.node.publicKey, holders: chosen, threshold: 3, auth: await signAuth(signerOf(tenant), { domain: DOMAIN, fn: fn2 }), blocks: { [HARDHAT_CHAIN]: holding } })
    expect(b4a.equals(pinned.key, key2)).toBe(true)
    for (const r of pinned.records) expect(r.blocks).toEqual({ [HARDHAT_CHAIN]: String(holding) })
    for (const h of holders) { h.service.stop() }
    dealerKeys.stop(); requesterKeys.stop()
  }, 180_000)
})

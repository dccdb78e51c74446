import '../../../helpers/quiet-lit.ts'
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Address } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import { AccessGate, ChainGate, ChainReader, signAuth, type FunctionId } from '../../../../src/core/access/index.ts'
import { ShadwError } from '../../../../src/core/errors.ts'
import { dealKey, fetchKey, keyHoldersTopic, KeyService, rotateKey, type ShareStore } from '../../../../src/core/keys/index.ts'
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
const FN: FunctionId = { publisher: 'ab'.repeat(32), name: 'drive-key', version: '1.0.0' }

interface Holder { node: ShadwNode, service: KeyService, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }, stored: Map<string, Uint8Array> }

/**
 * What a holder that lies (or whose disk went bad) does: its stored share, opened with the
 * node's own at-rest key, one byte changed, sealed again. The holder then runs its real code
 * and releases the wrong share with a valid record and the dealer's genuine commitment.
 */
function corruptShare (h: Holder, keyId: string): void {
  const atRest = b4a.alloc(sodium.crypto_secretbox_KEYBYTES)
  sodium.crypto_generichash(atRest, b4a.concat([b4a.from('shadw/key-shares/at-rest/v1'), h.keyPair.secretKey]))
  const held = JSON.parse(b4a.toString(h.stored.get(keyId) as Uint8Array)) as { current: { nonce: string, box: string } }
  const box = b4a.from(held.current.box, 'hex')
  const nonce = b4a.from(held.current.nonce, 'hex')
  const share = b4a.alloc(box.byteLength - sodium.crypto_secretbox_MACBYTES)
  expect(sodium.crypto_secretbox_open_easy(share, box, nonce, atRest)).toBe(true)
  share[3] = (share[3] as number) ^ 0x21
  sodium.crypto_secretbox_easy(box, share, nonce, atRest)
  held.current.box = b4a.toString(box, 'hex')
  h.stored.set(keyId, b4a.from(JSON.stringify(held)))
}

describe('key shares: a lying holder named, rotation over the wire between holders', () => {
  let evm: EvmNode
  let access: unknown[]

  beforeAll(async () => {
    evm = await startEvmNode()
    const token: Address = await evm.deploy('Token20', [1000n])
    await evm.write(token, 'Token20', 'transfer', [evm.accounts[1]!.address, 1n])
    access = [{
      conditionType: 'evmBasic', contractAddress: token, standardContractType: 'ERC20', chain: HARDHAT_CHAIN, method: 'balanceOf', parameters: [':userAddress'], returnValueTest: { comparator: '>', value: '0' }
    }]
  }, 120_000)
  afterAll(async () => { await evm?.stop() })

  it('3 of 5: a wrong share is detected and its holder named; the key moves to 5 new holders (two fresh) without being rebuilt, unchanged, and old shares are refused as stale', async () => {
    const net = await testnet()
    const holders: Holder[] = []
    for (let i = 0; i < 7; i++) {
      const { node, keyPair } = await keyedNode(net, 'super')
      const ledger = await node.createLog('ledger')
      const stored = new Map<string, Uint8Array>()
      const store: ShareStore = { get: async id => stored.get(id) ?? null, put: async (id, b) => { stored.set(id, b) } }
      const gate = new AccessGate({ domain: DOMAIN, chain: new ChainGate({ reader: new ChainReader({ endpoints: { [HARDHAT_CHAIN]: [evm.url] } }) }) })
      const service = new KeyService({ host: node, keyPair, holder: { gate, ledger: { append: async blocks => await node.append(ledger.key, blocks) }, store } })
      service.start()
      await node.joinTopic(keyHoldersTopic(), { server: true, client: true })
      holders.push({ node, service, keyPair, stored })
    }
    const dealer = await keyedNode(net, 'light')
    const keys = new KeyService({ host: dealer.node, keyPair: dealer.keyPair })
    keys.start()
    await dealer.node.joinTopic(keyHoldersTopic(), { server: false, client: true })
    const all = holders.map(h => h.node.publicKey)
    // sub-shares travel holder to holder: every holder must reach every other
    await until('the dealer and every holder reach every holder', () => all.every(k => keys.peers().includes(k)) &&
      holders.every(h => all.every(k => k === h.node.publicKey || h.service.peers().includes(k))), 90_000)

    const [first, second] = [holders.slice(0, 5), holders.slice(5)]
    const secret = b4a.from('content key of a private drive!!')
    const layout = await dealKey(keys, { key: secret, fn: FN, access, domains: [DOMAIN], holders: first.map(h => h.node.publicKey), threshold: 3 })
    const tenant = evm.accounts[1] as LocalAccount
    const auth = async (): Promise<unknown> => await signAuth(signerOf(tenant), { domain: DOMAIN, fn: FN })
    const fetch = async (on: readonly string[]): ReturnType<typeof fetchKey> => await fetchKey(keys, { keyId: layout.keyId, dealer: dealer.node.publicKey, holders: on, threshold: 3, auth: await auth() })

    // a lying holder: the key still comes back right, the liar is named and its record not counted
    const liar = first[2] as Holder
    corruptShare(liar, layout.keyId)
    const got = await fetch(Object.keys(layout.holders))
    expect(b4a.equals(got.key, secret)).toBe(true)
    expect(got.refusals).toEqual({ [liar.node.publicKey]: 'KEY_SHARE_INVALID' })
    expect(got.records.map(r => r.holder).sort()).toEqual(Object.keys(layout.holders).filter(h => h !== liar.node.publicKey).sort())
    // with the liar and two honest holders only, no three good shares: a typed refusal, never a wrong key
    const short = await codeOf(fetch([liar.node.publicKey, first[0]!.node.publicKey, first[1]!.node.publicKey]))
    expect(short).toBe('KEY_SHARES_SHORT')

    // rotation: three honest old holders deal sub-shares to first[0], first[1] and the two fresh
    // nodes plus first[3]; first[4] and the liar leave. What each keeps before is kept aside
    // to play a holder that ignores the rotation.
    const staying = first[0] as Holder
    const leaving = first[4] as Holder
    const before = { staying: staying.stored.get(layout.keyId) as Uint8Array, leaving: leaving.stored.get(layout.keyId) as Uint8Array }
    const next = [first[0]!, first[1]!, first[3]!, second[0]!, second[1]!].map(h => h.node.publicKey)
    const honest = { ...layout, holders: Object.fromEntries(Object.entries(layout.holders).filter(([h]) => h !== liar.node.publicKey)) }
    const rotated = await rotateKey(keys, honest, { fn: FN, access, domains: [DOMAIN], holders: next, threshold: 3 })
    expect(rotated.commitment.epoch).toBe(1)
    expect(rotated.commitment.check).toBe(layout.commitment.check)
    expect(Object.keys(rotated.holders).sort()).toEqual([...next].sort())
    // the new holders' x coordinates are fresh, not the old ones
    expect(Object.values(rotated.holders)).not.toEqual(next.map(h => layout.holders[h]))

    const after = await fetch(next)
    expect(b4a.equals(after.key, secret)).toBe(true)
    expect(after.epoch).toBe(1)
    expect(after.refusals).toEqual({})
    // the leaving holder dropped its share at the commit
    expect(await codeOf(keys.requestShare(leaving.node.publicKey, { keyId: layout.keyId, auth: await auth(), to: new Uint8Array(32) }))).toBe('KEY_NOT_HELD')

    // holders that kept their old shares (put back as they were) are refused as stale: the
    // epoch-0 shares never mix with the epoch-1 ones, and the key is the same
    staying.stored.set(layout.keyId, before.staying)
    leaving.stored.set(layout.keyId, before.leaving)
    const mixed = await fetch([...next, leaving.node.publicKey])
    expect(b4a.equals(mixed.key, secret)).toBe(true)
    expect(mixed.refusals).toEqual({ [staying.node.publicKey]: 'KEY_SHARE_STALE', [leaving.node.publicKey]: 'KEY_SHARE_STALE' })
    expect(mixed.records).toHaveLength(4)

    // only the dealer rotates: another node asking a holder to re-deal, with a commitment of
    // its own, is refused by the holder
    const other = await keyedNode(net, 'light')
    const intruder = new KeyService({ host: other.node, keyPair: other.keyPair })
    intruder.start()
    await other.node.joinTopic(keyHoldersTopic(), { server: false, client: true })
    await until('the intruder reaches a holder', () => intruder.peers().includes(next[1]!), 60_000)
    expect(await codeOf(rotateKey(intruder, rotated, { fn: FN, access, holders: next, threshold: 3 }))).toBe('INVALID_ARGUMENT')
    const forged = intruder.commitment({ keyId: layout.keyId, epoch: 2, threshold: 2, check: layout.commitment.check })
    const reshare = { type: 'reshare' as const, keyId: layout.keyId, participants: [rotated.holders[next[1]!]!, rotated.holders[next[2]!]!], to: next.slice(0, 2).map(h => ({ holder: h, x: 200 + next.indexOf(h) })), commitment: forged }
    expect(await codeOf(intruder.rotationStep(next[1]!, reshare))).toBe('INVALID_ARGUMENT')
    expect(await codeOf(intruder.rotationStep(next[1]!, { type: 'commit', keyId: layout.keyId, epoch: 2 }))).toBe('INVALID_ARGUMENT')
    // and the key still comes back at epoch 1
    expect((await fetch(next)).epoch).toBe(1)
    for (const h of holders) h.service.stop()
    keys.stop(); intruder.stop()
  }, 240_000)
})

import '../../helpers/quiet-lit.ts'
import b4a from 'b4a'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generatePrivateKey, privateKeyToAccount, type LocalAccount } from 'viem/accounts'
import { signAuth, type FunctionId } from '../../../src/core/access/index.ts'
import { ShadwError } from '../../../src/core/errors.ts'
import { readLedgerEntry } from '../../../src/core/ledger/index.ts'
import { chooseHolders, dealKey, fetchKey, keyHoldersTopic, keyIdOf, KeyService } from '../../../src/core/keys/index.ts'
import { testnet } from '../../helpers/testnet.ts'
import { type EvmNode, HARDHAT_CHAIN, startEvmNode } from '../../helpers/evm.ts'
import { keyedNode, until } from '../../helpers/invoke.ts'
import { startSuperNode, tempDir } from '../../helpers/super-node.ts'

function signerOf (account: LocalAccount): { getAddress: () => Promise<string>, signMessage: (m: string) => Promise<string> } {
  return { getAddress: async () => account.address, signMessage: async message => await account.signMessage({ message }) }
}

const DOMAIN = 'app.shadw.test'
const FN: FunctionId = { publisher: 'ef'.repeat(32), name: 'drive-key', version: '1.0.0' }

describe('super nodes as key holders', () => {
  let evm: EvmNode
  beforeAll(async () => { evm = await startEvmNode() }, 120_000)
  afterAll(async () => { await evm?.stop() })

  it('three super nodes started with keyHolder take a 2-of-3 key and release it only to a wallet the conditions pass, each release recorded in a releases log of each holder', async () => {
    const net = await testnet()
    const bootstrap = net.bootstrap.map(b => `${b.host}:${b.port}`)
    const storages = [await tempDir(), await tempDir(), await tempDir()]
    const start = async (storage: string): ReturnType<typeof startSuperNode> => await startSuperNode({ storage, workers: 0, bootstrap, keyHolder: true, rpc: { [HARDHAT_CHAIN]: [evm.url] } })
    const supers = []
    for (const storage of storages) supers.push(await start(storage))
    const candidates = supers.map(s => s.info.publicKey)
    const dealer = await keyedNode(net, 'light')
    const keys = new KeyService({ host: dealer.node, keyPair: dealer.keyPair })
    keys.start()
    await dealer.node.joinTopic(keyHoldersTopic(), { server: false, client: true })
    await until('the dealer reaches the three key holders', () => candidates.every(k => keys.peers().includes(k)), 60_000)

    const tenant = evm.accounts[1] as LocalAccount
    // a condition only on chain state: the tenant's native balance at the block read
    const access = [{ conditionType: 'evmBasic', contractAddress: '', standardContractType: '', chain: HARDHAT_CHAIN, method: 'eth_getBalance', parameters: [':userAddress', 'latest'], returnValueTest: { comparator: '>=', value: '1' } }]
    const holders = chooseHolders(keyIdOf(dealer.node.publicKey, FN), candidates, 3)
    const secret = b4a.alloc(32, 0x5a)
    const { keyId } = await dealKey(keys, { key: secret, fn: FN, access, domains: [DOMAIN], holders, threshold: 2 })

    const got = await fetchKey(keys, { keyId, dealer: dealer.node.publicKey, holders, threshold: 2, auth: await signAuth(signerOf(tenant), { domain: DOMAIN, fn: FN }) })
    expect(b4a.equals(got.key, secret)).toBe(true)
    for (const s of supers) {
      const role = s.keys
      expect(role).not.toBeNull()
      const entry = readLedgerEntry(await s.node.get(role!.releasesKey, 0) as Uint8Array)
      expect(entry.kind === 'release' ? entry.release.tenant : entry.kind).toBe(tenant.address)
    }
    // a fresh wallet with no ether: every holder refuses, typed
    const poor = privateKeyToAccount(generatePrivateKey())
    let refused: ShadwError | null = null
    try { await fetchKey(keys, { keyId, dealer: dealer.node.publicKey, holders, threshold: 2, auth: await signAuth(signerOf(poor), { domain: DOMAIN, fn: FN }) }) } catch (err) { refused = err as ShadwError }
    expect(refused?.code).toBe('KEY_SHARES_SHORT')
    expect(Object.values(refused?.details?.refusals as Record<string, string>)).toEqual(['ACCESS_DENIED', 'ACCESS_DENIED', 'ACCESS_DENIED'])

    // a holder restarted from its storage still holds its sealed share: with another holder
    // gone, it and the third still make the threshold
    await supers[0]!.stop()
    await supers[1]!.stop()
    const restarted = await start(storages[0]!)
    expect(restarted.info.publicKey).toBe(candidates[0])
    await until('the dealer reaches the restarted holder', () => keys.peers().includes(candidates[0]!), 60_000)
    const again = await fetchKey(keys, { keyId, dealer: dealer.node.publicKey, holders, threshold: 2, auth: await signAuth(signerOf(tenant), { domain: DOMAIN, fn: FN }) })
    expect(b4a.equals(again.key, secret)).toBe(true)
    expect(again.refusals[candidates[1]!]).toBe('NODE_CLOSED')
    keys.stop()
  }, 180_000)
})

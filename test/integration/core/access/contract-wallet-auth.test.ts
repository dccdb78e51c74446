import '../../../helpers/quiet-lit.ts'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Address, type Hex, encodeFunctionData, keccak256, serializeErc6492Signature, toHex } from 'viem'
import type { LocalAccount } from 'viem/accounts'
import {
  AccessGate, ChainGate, ChainReader, createAuthMessage, DERIVED_VIA_CONTRACT, type AuthMessageOptions
} from '../../../../src/core/access/index.ts'
import type { ShadwError } from '../../../../src/core/errors.ts'
import { DOMAIN, FN } from '../../../helpers/access-fixtures.ts'
import { compileContracts, type EvmNode, HARDHAT_CHAIN, HARDHAT_CHAIN_ID, startEvmNode } from '../../../helpers/evm.ts'

async function codeOf (p: Promise<unknown>): Promise<string | undefined> {
  try { await p } catch (err) { return (err as ShadwError).code ?? String(err) }
  return 'PASSED'
}

/** A SIWE auth claimed by `wallet` (a contract), signed by `key` (its owner, or not). */
async function contractAuth (wallet: Address, key: LocalAccount, options: Partial<AuthMessageOptions> = {}, wrap?: (sig: Hex) => Hex): Promise<Record<string, string>> {
  const signedMessage = createAuthMessage(wallet, { domain: DOMAIN, fn: FN, chainId: HARDHAT_CHAIN_ID, ...options })
  const raw = await key.signMessage({ message: signedMessage })
  return { sig: wrap === undefined ? raw : wrap(raw), derivedVia: DERIVED_VIA_CONTRACT, signedMessage, address: wallet }
}

describe('smart-contract wallet auth (EIP-1271, EIP-6492) on a real EVM node', () => {
  let evm: EvmNode
  let owner: LocalAccount
  let thief: LocalAccount
  let wallet: Address
  let factory: Address
  let gate: AccessGate

  beforeAll(async () => {
    evm = await startEvmNode()
    owner = evm.accounts[1] as LocalAccount
    thief = evm.accounts[2] as LocalAccount
    wallet = await evm.deploy('Wallet1271', [owner.address])
    factory = await evm.deploy('WalletFactory')
    gate = new AccessGate({ domain: DOMAIN, chain: new ChainGate({ reader: new ChainReader({ endpoints: { [HARDHAT_CHAIN]: [evm.url] } }), headTtlMs: 0 }) })
  }, 120_000)

  afterAll(async () => { await evm?.stop() })

  const isWallet = (address: string): unknown[] => [{
    conditionType: 'evmBasic', contractAddress: '', standardContractType: '', chain: HARDHAT_CHAIN, method: '', parameters: [':userAddress'], returnValueTest: { comparator: '=', value: address }
  }]

  it('accepts a deployed wallet\'s EIP-1271 signature and refuses a forged one', async () => {
    const grant = await gate.authorize({ fn: FN, access: isWallet(wallet), auth: await contractAuth(wallet, owner) })
    expect(grant).toEqual({ path: 'local', address: wallet })
    expect(await codeOf(gate.authorize({ fn: FN, access: isWallet(wallet), auth: await contractAuth(wallet, thief) }))).toBe('AUTH_FORGED')
    // a valid wallet signature not marked as a contract wallet's is checked as an EOA's only
    const unmarked = { ...await contractAuth(wallet, owner), derivedVia: 'web3.eth.personal.sign' }
    expect(await codeOf(gate.authorize({ fn: FN, access: isWallet(wallet), auth: unmarked }))).toBe('AUTH_FORGED')
  })

  it('refuses expired, replayed and wrong-domain contract-wallet auth before or after the chain check', async () => {
    const auth = await contractAuth(wallet, owner)
    await gate.authorize({ fn: FN, access: isWallet(wallet), auth })
    expect(await codeOf(gate.authorize({ fn: FN, access: isWallet(wallet), auth }))).toBe('AUTH_REPLAYED')
    const old = await contractAuth(wallet, owner, { issuedAt: Date.now() - 10 * 60_000, ttlMs: 60_000 })
    expect(await codeOf(gate.authorize({ fn: FN, access: isWallet(wallet), auth: old }))).toBe('AUTH_EXPIRED')
    const elsewhere = await contractAuth(wallet, owner, { domain: 'evil.example' })
    expect(await codeOf(gate.authorize({ fn: FN, access: isWallet(wallet), auth: elsewhere }))).toBe('AUTH_WRONG_DOMAIN')
    // a signature for a chain this node has no endpoint for cannot be checked: refused as forged
    const otherChain = await contractAuth(wallet, owner, { chainId: 137 })
    expect(await codeOf(gate.authorize({ fn: FN, access: isWallet(wallet), auth: otherChain }))).toBe('AUTH_FORGED')
  })

  it('accepts an EIP-6492 signature of a wallet not deployed yet, and refuses one its owner did not make', async () => {
    const salt = keccak256(toHex('shadw-test-wallet'))
    const artifacts = compileContracts()
    const factoryAbi = artifacts['WalletFactory']!.abi
    const predicted = await evm.client.readContract({ address: factory, abi: factoryAbi, functionName: 'addressOf', args: [owner.address, salt] }) as Address
    expect(await evm.client.getCode({ address: predicted })).toBeUndefined()
    const factoryData = encodeFunctionData({ abi: factoryAbi, functionName: 'deploy', args: [owner.address, salt] })
    const wrap = (signature: Hex): Hex => serializeErc6492Signature({ address: factory, data: factoryData, signature })
    const grant = await gate.authorize({ fn: FN, access: isWallet(predicted), auth: await contractAuth(predicted, owner, {}, wrap) })
    expect(grant.address).toBe(predicted)
    // the check simulated the deployment; nothing was deployed
    expect(await evm.client.getCode({ address: predicted })).toBeUndefined()
    expect(await codeOf(gate.authorize({ fn: FN, access: isWallet(predicted), auth: await contractAuth(predicted, thief, {}, wrap) }))).toBe('AUTH_FORGED')
  })

  it('keeps EOA auth offline: a node without endpoints refuses contract signatures as forged', async () => {
    const offline = new AccessGate({ domain: DOMAIN })
    expect(await codeOf(offline.authorize({ fn: FN, access: isWallet(wallet), auth: await contractAuth(wallet, owner) }))).toBe('AUTH_FORGED')
  })
})

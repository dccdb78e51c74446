import { Wallet, utils } from 'ethers'
import type { FunctionId } from '../../src/core/access/function-id.ts'

/** A fresh secp256k1 key, generated locally. */
export function newWallet (): Wallet {
  return new Wallet(utils.hexlify(utils.randomBytes(32)))
}

export const FN: FunctionId = { publisher: 'ab'.repeat(32), name: 'hello', version: '1.0.0' }
export const DOMAIN = 'app.shadw.test:8443'

/** Lit's documented shape for "the tenant is this address". */
export function addressIs (address: string): Record<string, unknown> {
  return {
    contractAddress: '',
    standardContractType: '',
    chain: 'ethereum',
    method: '',
    parameters: [':userAddress'],
    returnValueTest: { comparator: '=', value: address }
  }
}

/** Lit's documented shape for a time window bound: latest block timestamp `comparator` `seconds`. */
export function timeIs (comparator: string, seconds: number): Record<string, unknown> {
  return {
    contractAddress: '',
    standardContractType: 'timestamp',
    chain: 'ethereum',
    method: 'eth_getBlockByNumber',
    parameters: ['latest'],
    returnValueTest: { comparator, value: String(seconds) }
  }
}

/** An ERC-20 balance condition: needs chain state. */
export function holdsErc20 (token: string): Record<string, unknown> {
  return {
    contractAddress: token,
    standardContractType: 'ERC20',
    chain: 'ethereum',
    method: 'balanceOf',
    parameters: [':userAddress'],
    returnValueTest: { comparator: '>', value: '0' }
  }
}

export function unified (c: Record<string, unknown>): Record<string, unknown> {
  return { conditionType: 'evmBasic', ...c }
}

export const OR = { operator: 'or' }
export const AND = { operator: 'and' }

import '../../../helpers/quiet-lit.ts'
import { describe, expect, it } from 'vitest'
import { checkConditions } from '../../../../src/core/access/conditions.ts'
import { evaluateLocally, isLocalPolicy } from '../../../../src/core/access/local-conditions.ts'
import { AND, OR, addressIs, holdsErc20, timeIs, unified } from '../../../helpers/access-fixtures.ts'

const ALICE = '0xBD4701851e9C9a22f448860A78872A00Da87899e'
const BOB = '0x93E47A604BA72899a5f8dF986cF26C97AfdaE2A0'
const CAROL = '0x2546BcD3c84621e976D8185a91A922aE77ECEc30'
const TOKEN = '0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48'
const NOW = Date.parse('2026-06-01T00:00:00.000Z')
const SEC = NOW / 1000

async function verdict (conditions: unknown, address: string, now = NOW): Promise<string> {
  return evaluateLocally(await checkConditions(conditions), { address, now })
}

describe('local condition evaluation', () => {
  it('allows everyone on public functions', async () => {
    expect(await verdict([], CAROL)).toBe('allow')
  })

  it('decides :userAddress equality locally, ignoring address case', async () => {
    const c = { accessControlConditions: [addressIs(ALICE)] }
    expect(await verdict(c, ALICE)).toBe('allow')
    expect(await verdict(c, ALICE.toLowerCase())).toBe('allow')
    expect(await verdict(c, BOB)).toBe('deny')
    expect(isLocalPolicy(await checkConditions(c))).toBe(true)
  })

  it('decides address lists joined by or, in both condition formats', async () => {
    const basic = { accessControlConditions: [addressIs(ALICE), OR, addressIs(BOB)] }
    const uni = [unified(addressIs(ALICE)), OR, unified(addressIs(BOB))]
    for (const c of [basic, uni]) {
      expect(await verdict(c, ALICE)).toBe('allow')
      expect(await verdict(c, BOB)).toBe('allow')
      expect(await verdict(c, CAROL)).toBe('deny')
    }
  })

  it('decides timestamp windows on the node clock, in Unix seconds', async () => {
    const window = { accessControlConditions: [timeIs('>=', SEC - 60), AND, timeIs('<', SEC + 60)] }
    expect(await verdict(window, CAROL)).toBe('allow')
    expect(await verdict(window, CAROL, NOW - 61_000)).toBe('deny')
    expect(await verdict(window, CAROL, NOW + 60_000)).toBe('deny')
    expect(await verdict({ accessControlConditions: [timeIs('>', SEC)] }, CAROL)).toBe('deny')
    expect(await verdict({ accessControlConditions: [timeIs('<=', SEC)] }, CAROL)).toBe('allow')
    expect(await verdict({ accessControlConditions: [timeIs('=', SEC)] }, CAROL, NOW + 999)).toBe('allow')
  })

  it('combines address and time: an allow-list open until a deadline', async () => {
    const c = { accessControlConditions: [[addressIs(ALICE), OR, addressIs(BOB)], AND, timeIs('<', SEC + 3600)] }
    expect(await verdict(c, BOB)).toBe('allow')
    expect(await verdict(c, BOB, NOW + 3600_000)).toBe('deny')
    expect(await verdict(c, CAROL)).toBe('deny')
  })

  it('sends chain-state conditions to Lit, unless the local part already decides', async () => {
    const erc20 = { accessControlConditions: [holdsErc20(TOKEN)] }
    expect(await verdict(erc20, ALICE)).toBe('needs-lit')
    expect(isLocalPolicy(await checkConditions(erc20))).toBe(false)
    const orList = { accessControlConditions: [addressIs(ALICE), OR, holdsErc20(TOKEN)] }
    expect(await verdict(orList, ALICE)).toBe('allow')
    expect(await verdict(orList, BOB)).toBe('needs-lit')
    const andList = { accessControlConditions: [addressIs(ALICE), AND, holdsErc20(TOKEN)] }
    expect(await verdict(andList, BOB)).toBe('deny')
    expect(await verdict(andList, ALICE)).toBe('needs-lit')
  })

  it('leaves to Lit what it does not reproduce: mixed operators in one group, other comparators, other kinds', async () => {
    expect(await verdict({ accessControlConditions: [addressIs(ALICE), OR, addressIs(BOB), AND, addressIs(CAROL)] }, ALICE)).toBe('needs-lit')
    const contains = { ...addressIs(ALICE), returnValueTest: { comparator: 'contains', value: ALICE } }
    expect(await verdict({ accessControlConditions: [contains] }, ALICE)).toBe('needs-lit')
    const evmContract = {
      evmContractConditions: [{
        contractAddress: TOKEN,
        functionName: 'balanceOf',
        functionParams: [':userAddress'],
        functionAbi: { name: 'balanceOf', type: 'function', stateMutability: 'view', inputs: [{ name: 'a', type: 'address' }], outputs: [{ name: '', type: 'uint256' }] },
        chain: 'ethereum',
        returnValueTest: { key: '', comparator: '>', value: '0' }
      }]
    }
    expect(await verdict(evmContract, ALICE)).toBe('needs-lit')
  })
})

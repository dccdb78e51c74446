import { describe, expect, it } from 'vitest'
import { checkConditions } from '../../../src/core/access/conditions.ts'
import { evaluateLocally } from '../../../src/core/access/local-conditions.ts'
import { ACCESS_TEMPLATES } from '../../../src/app/playground/access-templates.ts'

const template = (id: string): (typeof ACCESS_TEMPLATES)[number] => {
  const t = ACCESS_TEMPLATES.find(x => x.id === id)
  if (t === undefined) throw new Error(`no template ${id}`)
  return t
}
const ALICE = '0x' + 'a1'.repeat(20)
const BOB = '0x' + 'b2'.repeat(20)
const CAROL = '0x' + 'c3'.repeat(20)

describe('playground access templates', () => {
  it('public builds no conditions: the policy is public', async () => {
    expect(await checkConditions(template('public').build({}))).toEqual({ public: true })
  })

  it('a wallet allow-list is decided by the node: listed addresses allowed, others denied', async () => {
    const policy = await checkConditions(template('wallets').build({ addresses: `${ALICE}, ${BOB}` }))
    expect(evaluateLocally(policy, { address: ALICE, now: Date.now() })).toBe('allow')
    expect(evaluateLocally(policy, { address: BOB.toUpperCase().replace('0X', '0x'), now: Date.now() })).toBe('allow')
    expect(evaluateLocally(policy, { address: CAROL, now: Date.now() })).toBe('deny')
  })

  it('a time window is decided by the node from its clock', async () => {
    const policy = await checkConditions(template('time').build({ from: '2026-01-01T00:00:00Z', until: '2026-02-01T00:00:00Z' }))
    expect(evaluateLocally(policy, { address: ALICE, now: Date.parse('2026-01-15T00:00:00Z') })).toBe('allow')
    expect(evaluateLocally(policy, { address: ALICE, now: Date.parse('2026-03-01T00:00:00Z') })).toBe('deny')
  })

  it('token balance and NFT ownership pass Lit\'s validation and go to the Lit gate', async () => {
    const token = await checkConditions(template('token').build({ contract: BOB, min: '1000' }))
    const nft = await checkConditions(template('nft').build({ contract: BOB }))
    expect(evaluateLocally(token, { address: ALICE, now: Date.now() })).toBe('needs-lit')
    expect(evaluateLocally(nft, { address: ALICE, now: Date.now() })).toBe('needs-lit')
  })

  it('names the input that is wrong', () => {
    expect(() => template('wallets').build({ addresses: '0x12' })).toThrow('each address must be a 0x address of 40 hex digits')
    expect(() => template('wallets').build({ addresses: '' })).toThrow('the allow-list needs at least one address')
    expect(() => template('time').build({ from: '2026-02-01T00:00', until: '2026-01-01T00:00' })).toThrow('the window must end after it starts')
    expect(() => template('token').build({ contract: BOB, min: '1.5' })).toThrow('minimum balance must be a whole number')
    expect(() => template('nft').build({ contract: 'nope' })).toThrow('NFT contract must be a 0x address of 40 hex digits')
  })
})

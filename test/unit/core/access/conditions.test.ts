import '../../../helpers/quiet-lit.ts'
import { describe, expect, it } from 'vitest'
import { checkConditions, isPublic, MAX_CONDITIONS } from '../../../../src/core/access/conditions.ts'
import { ShadwError } from '../../../../src/core/errors.ts'
import { AND, OR, addressIs, holdsErc20, unified } from '../../../helpers/access-fixtures.ts'

const ALICE = '0xBD4701851e9C9a22f448860A78872A00Da87899e'

async function refusal (value: unknown): Promise<ShadwError> {
  try {
    await checkConditions(value)
  } catch (err) {
    expect(err).toBeInstanceOf(ShadwError)
    return err as ShadwError
  }
  throw new Error('conditions were accepted')
}

describe('access conditions', () => {
  it('treats absent and empty conditions as public', async () => {
    expect(await checkConditions(undefined)).toEqual({ public: true })
    expect(await checkConditions([])).toEqual({ public: true })
    expect(await checkConditions({ accessControlConditions: [] })).toEqual({ public: true })
    expect(isPublic(undefined)).toBe(true)
    expect(isPublic([])).toBe(true)
    expect(isPublic({ unifiedAccessControlConditions: [] })).toBe(true)
  })

  it('hashes conditions with Lit\'s canonical hash (the value in Lit\'s own documentation)', async () => {
    // hashing.ts in @lit-protocol/access-control-conditions documents this pair of conditions
    const bob = '0x93E47A604BA72899a5f8dF986cF26C97AfdaE2A0'
    const policy = await checkConditions([unified(addressIs(ALICE)), OR, unified(addressIs(bob))])
    expect(policy.public).toBe(false)
    if (policy.public) return
    expect(policy.kind).toBe('unifiedAccessControlConditions')
    expect(policy.hash).toMatch(/^[0-9a-f]{64}$/)
    const again = await checkConditions({ unifiedAccessControlConditions: [unified(addressIs(ALICE)), OR, unified(addressIs(bob))] })
    expect(again).toEqual(policy)
  })

  it('gives evmBasic and unified evmBasic conditions the same hash, as Lit does', async () => {
    const basic = await checkConditions({ accessControlConditions: [addressIs(ALICE)] })
    const uni = await checkConditions([unified(addressIs(ALICE))])
    if (basic.public || uni.public) throw new Error('not public')
    expect(basic.hash).toBe('e05dd105fec47c75be3a04ceb66b73356ff84ccd76503f8949094b7a13645d99')
    expect(uni.hash).toBe(basic.hash)
  })

  it('changes the hash when any condition changes', async () => {
    const a = await checkConditions({ accessControlConditions: [addressIs(ALICE)] })
    const b = await checkConditions({ accessControlConditions: [addressIs(ALICE.replace('e', 'f'))] })
    if (a.public || b.public) throw new Error('not public')
    expect(a.hash).not.toBe(b.hash)
  })

  it('refuses a condition that fails Lit\'s schema with the validator\'s reason', async () => {
    const err = await refusal({ accessControlConditions: [{ ...addressIs(ALICE), chain: 'no-such-chain' }] })
    expect(err.code).toBe('ACCESS_CONDITIONS_INVALID')
    expect(err.message).toContain('"instancePath":"/chain"')
    expect(err.message).toContain('"keyword":"enum"')
  })

  it('refuses a missing required field with the validator\'s reason', async () => {
    const { method: _, ...noMethod } = addressIs(ALICE)
    const err = await refusal({ accessControlConditions: [noMethod] })
    expect(err.code).toBe('ACCESS_CONDITIONS_INVALID')
    expect(err.message).toContain('"missingProperty":"method"')
  })

  it('refuses unified conditions without a conditionType', async () => {
    const err = await refusal([addressIs(ALICE)])
    expect(err.code).toBe('ACCESS_CONDITIONS_INVALID')
    expect(err.message).toContain('condition type')
  })

  it('refuses boolean structure that Lit\'s schema check lets through', async () => {
    const a = addressIs(ALICE)
    expect((await refusal({ accessControlConditions: [a, a] })).code).toBe('ACCESS_CONDITIONS_INVALID')
    expect((await refusal({ accessControlConditions: [a, { operator: 'xor' }, a] })).code).toBe('ACCESS_CONDITIONS_INVALID')
    expect((await refusal({ accessControlConditions: [OR, a] })).code).toBe('ACCESS_CONDITIONS_INVALID')
    expect((await refusal({ accessControlConditions: [a, OR, []] })).code).toBe('ACCESS_CONDITIONS_INVALID')
    expect((await refusal({ accessControlConditions: [a, AND, 7] })).code).toBe('ACCESS_CONDITIONS_INVALID')
  })

  it('accepts nested groups and counts their conditions against the limit', async () => {
    const a = addressIs(ALICE)
    const ok = await checkConditions({ accessControlConditions: [a, AND, [a, OR, holdsErc20('0x' + '11'.repeat(20))]] })
    expect(ok.public).toBe(false)
    const many: unknown[] = [a]
    for (let i = 1; i <= MAX_CONDITIONS; i++) many.push(OR, a)
    const err = await refusal({ accessControlConditions: many })
    expect(err.code).toBe('ACCESS_CONDITIONS_INVALID')
    expect(err.details).toEqual({ count: MAX_CONDITIONS + 1, limit: MAX_CONDITIONS })
  })

  it('refuses deep nesting, oversized input, two kinds at once and unknown fields', async () => {
    const a = addressIs(ALICE)
    expect((await refusal({ accessControlConditions: [[[[[a]]]]] })).message).toContain('nested deeper')
    expect((await refusal({ accessControlConditions: [{ ...a, returnValueTest: { comparator: '=', value: 'x'.repeat(20_000) } }] })).message).toContain('exceeds')
    expect((await refusal({ accessControlConditions: [a], unifiedAccessControlConditions: [unified(a)] })).message).toContain('one kind')
    expect((await refusal({ accessControlConditionz: [a] })).message).toContain('unknown field')
    expect((await refusal('everyone')).code).toBe('ACCESS_CONDITIONS_INVALID')
    expect((await refusal({ accessControlConditions: 'x' })).code).toBe('ACCESS_CONDITIONS_INVALID')
  })
})

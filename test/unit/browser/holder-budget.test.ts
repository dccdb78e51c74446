import { describe, expect, it } from 'vitest'
import { holderBudget } from '../../../src/browser/holder-budget.ts'

describe('a browser holder\'s budget', () => {
  it('is the offer, capped at 80% of the quota the origin has left', async () => {
    expect(await holderBudget(1000, async () => ({ quota: 10_000, usage: 1_000 }))).toBe(1000)
    expect(await holderBudget(1_000_000, async () => ({ quota: 10_000, usage: 5_000 }))).toBe(4_000)
    expect(await holderBudget(1_000_000, async () => ({ quota: 10_000, usage: 20_000 }))).toBe(0)
    expect(await holderBudget(1_000_000, async () => ({ quota: 10_000 }))).toBe(8_000)
  })

  it('is 0 with no offer, no estimate API, a failing one, or no quota figure', async () => {
    expect(await holderBudget(0, async () => ({ quota: 10_000 }))).toBe(0)
    expect(await holderBudget(1000, undefined)).toBe(0)
    expect(await holderBudget(1000, async () => { throw new Error('denied') })).toBe(0)
    expect(await holderBudget(1000, async () => ({ usage: 1 }))).toBe(0)
  })
})

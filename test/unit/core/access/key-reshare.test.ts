import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { newShareXs, rebuildKey, reshareCombine, reshareDeal, shareX, splitKey } from '../../../../src/core/access/index.ts'
import { ShadwError } from '../../../../src/core/errors.ts'

function code (fn: () => unknown): string {
  try { fn() } catch (err) { if (err instanceof ShadwError) return err.code; throw err }
  return 'PASSED'
}

describe('share rotation by re-sharing', () => {
  it('3 of 5 old holders deal sub-shares; the new 4-of-7 shares rebuild the key with the library, the key never whole on one holder', async () => {
    const key = b4a.from('0123456789abcdef0123456789abcdef')
    const old = await splitKey(key, 3, 5)
    const taking = [old[4]!, old[1]!, old[2]!]
    const participants = taking.map(shareX)
    const to = newShareXs(7)
    expect(new Set(to).size).toBe(7)
    // each participant deals from its own share alone
    const dealt = taking.map(s => reshareDeal(s, participants, to, 4))
    const fresh = to.map((_, j) => reshareCombine(dealt.map(d => d[j]!)))
    expect(fresh.map(shareX)).toEqual(to)
    expect(b4a.equals(await rebuildKey([fresh[0]!, fresh[3]!, fresh[5]!, fresh[6]!]), key)).toBe(true)
    expect(b4a.equals(await rebuildKey([fresh[6]!, fresh[1]!, fresh[2]!, fresh[4]!]), key)).toBe(true)
    // below the new threshold: not the key
    expect(b4a.equals(await rebuildKey([fresh[0]!, fresh[1]!, fresh[2]!]), key)).toBe(false)
    // new shares do not combine with old ones
    expect(b4a.equals(await rebuildKey([fresh[0]!, fresh[1]!, old[0]!, old[3]!]), key)).toBe(false)
    // rotating again from the new shares still yields the key
    const again = newShareXs(5)
    const part2 = [fresh[2]!, fresh[5]!, fresh[1]!, fresh[0]!]
    const dealt2 = part2.map(s => reshareDeal(s, part2.map(shareX), again, 3))
    const third = again.map((_, j) => reshareCombine(dealt2.map(d => d[j]!)))
    expect(b4a.equals(await rebuildKey([third[4]!, third[0]!, third[2]!]), key)).toBe(true)
  })

  it('refuses a share outside the participants, repeated coordinates and a bad threshold', async () => {
    const [a, b, c] = await splitKey(b4a.alloc(16, 7), 2, 3) as [Uint8Array, Uint8Array, Uint8Array]
    expect(code(() => reshareDeal(a, [shareX(b), shareX(c)], [1, 2, 3], 2))).toBe('INVALID_ARGUMENT')
    expect(code(() => reshareDeal(a, [shareX(a), shareX(a)], [1, 2, 3], 2))).toBe('INVALID_ARGUMENT')
    expect(code(() => reshareDeal(a, [shareX(a), shareX(b)], [1, 2], 3))).toBe('INVALID_ARGUMENT')
    expect(code(() => reshareDeal(a, [shareX(a), shareX(b)], [0, 2], 2))).toBe('INVALID_ARGUMENT')
    expect(code(() => reshareCombine([b4a.from([1, 2, 5]), b4a.from([1, 2, 6])]))).toBe('INVALID_ARGUMENT')
  })
})

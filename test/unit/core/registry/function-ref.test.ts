import { describe, expect, it } from 'vitest'
import { parseFunctionRef, resolveRange, satisfiesRange } from '../../../../src/core/registry/index.ts'

const KEY = 'ab'.repeat(32)

describe('satisfiesRange', () => {
  it('tells what resolveRange tells of one version, call after call (parsed ranges cached)', () => {
    const versions = ['1.0.0', '1.2.3', '2.0.0', '1.3.0-beta.1', '0.0.1', 'not-a-version', '', '01.0.0']
    const ranges = ['*', '^1', '~1.2', '1.2.3', '>=1 <3', '^1.3.0-beta.0', '2', 'x', '0.0.x', '<0.0.0']
    for (let round = 0; round < 2; round++) {
      for (const r of ranges) {
        for (const v of versions) expect([r, v, satisfiesRange(v, r)]).toEqual([r, v, resolveRange([v], r) !== null])
      }
    }
  })

  it('refuses a range that is not semver, as parsing a reference does', () => {
    expect(satisfiesRange('1.0.0', 'not a range !!')).toBe(false)
    expect(() => parseFunctionRef(`${KEY}/echo@not a range !!`)).toThrow(expect.objectContaining({ code: 'INVALID_FUNCTION_REF' }))
    expect(parseFunctionRef(`${KEY}/echo@^1`).range).toBe('^1')
  })
})

import { describe, expect, it } from 'vitest'
import { HEX_KEY_PATTERN, isHex, isHexKey } from '../../../src/core/hex.ts'
import { parseKey } from '../../../src/core/keys.ts'

describe('hex keys', () => {
  it('takes a key or hash as exactly 64 lowercase hex characters', () => {
    expect(isHexKey('ab'.repeat(32))).toBe(true)
    expect(['AB'.repeat(32), 'ab'.repeat(31), 'ab'.repeat(33), 'ag'.repeat(32), ' ' + 'ab'.repeat(32), 'ab'.repeat(32) + '\n'].map(isHexKey)).toEqual([false, false, false, false, false, false])
  })

  it('refuses what is not a string, even one that prints as a key', () => {
    expect([['ab'.repeat(32)], { toString: () => 'ab'.repeat(32) }, null, undefined, 64].map(isHexKey)).toEqual([false, false, false, false, false])
  })

  it('checks any byte length the same way (signatures and secret keys are 64 bytes)', () => {
    expect(isHex('cd'.repeat(64), 64)).toBe(true)
    expect(isHex('cd'.repeat(32), 64)).toBe(false)
    expect(isHex('', 0)).toBe(true)
  })

  it('composes into patterns that find a key at the start of a reference', () => {
    const ref = new RegExp(`^(${HEX_KEY_PATTERN})/`)
    expect(ref.exec('ab'.repeat(32) + '/echo@1')?.[1]).toBe('ab'.repeat(32))
    expect(ref.test('AB'.repeat(32) + '/echo@1')).toBe(false)
  })

  it('parses a key with any case and surrounding space, as before', () => {
    expect(parseKey(' ' + 'AB'.repeat(32) + ' ')).toEqual(parseKey('ab'.repeat(32)))
  })
})

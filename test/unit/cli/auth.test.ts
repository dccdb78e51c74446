import { describe, expect, it } from 'vitest'
import { parseDuration, parseExactFunction } from '../../../src/cli/auth.ts'
import type { ShadwError } from '../../../src/core/errors.ts'

function code (fn: () => unknown): string {
  try { fn() } catch (err) { return (err as ShadwError).code }
  return 'PASSED'
}

describe('shadw auth sign arguments', () => {
  it('takes an exact function version and a bounded lifetime', () => {
    const publisher = 'ab'.repeat(32)
    expect(parseExactFunction(`${publisher}/hello@1.0.0`)).toEqual({ publisher, name: 'hello', version: '1.0.0' })
    expect(code(() => parseExactFunction(`${publisher}/hello@^1`))).toBe('INVALID_FUNCTION_REF')
    expect(code(() => parseExactFunction(`${publisher}/hello`))).toBe('INVALID_FUNCTION_REF')
    expect(parseDuration('90s')).toBe(90_000)
    expect(parseDuration('15m')).toBe(900_000)
    for (const bad of ['16m', '0s', '5h', '-1m', '']) expect(code(() => parseDuration(bad)), bad).toBe('INVALID_ARGUMENT')
  })
})

import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import { decodeMessage, encodeMessage, type CapacityMessage, type RequestMessage } from '../../../../src/core/invoke/index.ts'

function code (fn: () => unknown): string {
  try { fn() } catch (err) { if (err instanceof ShadwError) return err.code; throw err }
  throw new Error('expected a typed error')
}

describe('price fields on the invocation wire', () => {
  const capacity: CapacityMessage = { type: 'capacity', id: 0, free: 1, total: 2, cpuBudget: 50, tier: 'super' }
  const request: RequestMessage = { type: 'request', id: 1, ref: 'a/b@1', input: b4a.from('x'), nonce: b4a.alloc(32, 1), deadline: 5, redundancy: 1, auth: null }

  it('capacity adverts carry a quote as a marked extension; adverts without one encode exactly as before', () => {
    const plain = encodeMessage(capacity)
    expect([...plain]).toEqual([0, 0, 1, 2, 50, 0])
    const priced = { ...capacity, quote: { utilisationPpm: 500_000, fuelPrice: 1_234, bytePrice: 56 } }
    expect(decodeMessage(encodeMessage(priced))).toEqual(priced)
    expect(decodeMessage(plain)).toEqual(capacity)
    expect(code(() => decodeMessage(b4a.concat([plain, b4a.from([2, 0, 0, 0])])))).toBe('INVOKE_PROTOCOL')
    expect(code(() => encodeMessage({ ...priced, quote: { ...priced.quote, utilisationPpm: 1_000_001 } }))).toBe('INVOKE_PROTOCOL')
  })

  it('requests carry an optional maxCharge (0 allowed); a stray zero byte is still refused', () => {
    for (const maxCharge of [0, 1, 10_000_000]) {
      const bytes = encodeMessage({ ...request, maxCharge })
      expect(decodeMessage(bytes)).toMatchObject({ type: 'request', ref: 'a/b@1', maxCharge })
      expect(encodeMessage(decodeMessage(bytes))).toEqual(bytes)
    }
    expect(decodeMessage(encodeMessage(request))).not.toHaveProperty('maxCharge')
    expect(code(() => decodeMessage(b4a.concat([encodeMessage(request), b4a.from([0])])))).toBe('INVOKE_PROTOCOL')
    expect(code(() => encodeMessage({ ...request, maxCharge: -1 }))).toBe('INVOKE_PROTOCOL')
  })
})

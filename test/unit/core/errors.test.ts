import { describe, expect, it } from 'vitest'
import { ShadwError, deserializeError, serializeError } from '../../../src/core/errors.ts'

describe('errors', () => {
  it('prefixes the code to the message and keeps it as a property', () => {
    const err = ShadwError.INVALID_RELAY_URL('http://x')
    expect(err.code).toBe('INVALID_RELAY_URL')
    expect(err.message).toBe('INVALID_RELAY_URL: relay URL must be ws:// or wss://, got "http://x"')
  })

  it('round-trips code, message and details through structured clone', () => {
    const err = ShadwError.TIMEOUT('join', 500)
    const back = deserializeError(structuredClone(serializeError(err)))
    expect(back).toBeInstanceOf(ShadwError)
    expect(back.code).toBe('TIMEOUT')
    expect(back.message).toBe(err.message)
    expect(back.details).toEqual({ ms: 500 })
  })

  it('turns foreign errors into INTERNAL and rejects unknown codes from peers', () => {
    expect(serializeError(new TypeError('boom'))).toEqual({ code: 'INTERNAL', message: 'INTERNAL: boom' })
    expect(deserializeError({ code: 'NOPE', message: 'x' }).code).toBe('INTERNAL')
    expect(deserializeError(42).code).toBe('INTERNAL')
  })
})

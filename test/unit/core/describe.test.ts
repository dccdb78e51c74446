import { describe, expect, it } from 'vitest'
import { parseNodeWorkerInit } from '../../../src/browser/node-worker-protocol.ts'
import { parseBridgeMessage } from '../../../src/browser/bridge-protocol.ts'
import { validateRelayUrl } from '../../../src/browser/relay-connection.ts'
import { describeValue } from '../../../src/core/describe.ts'
import { parseKey } from '../../../src/core/keys.ts'
import { parseSignal } from '../../../src/core/links/signal-protocol.ts'
import { parseFunctionRef } from '../../../src/core/registry/function-ref.ts'
import { validateAuthDomains } from '../../../src/core/registry/manifest.ts'

// what structured clone or JSON can hand us: no callable toString, or one that throws
const hostile: unknown[] = [
  { toString: 1 },
  { toString () { throw new Error('boom') } },
  Object.create(null),
  Symbol('s')
]

describe('describeValue', () => {
  it('describes any value without running its code', () => {
    expect(hostile.map(describeValue)).toEqual(['an object', 'an object', 'an object', 'a symbol'])
    expect(describeValue('x'.repeat(100))).toBe(JSON.stringify('x'.repeat(80) + '…'))
    expect([null, undefined, 3, [1, 2], new Uint8Array(4)].map(describeValue)).toEqual(['null', 'undefined', '3', 'an array of 2', '4 bytes'])
  })

  it('lets every parser of foreign values refuse them with its own code instead of a TypeError', () => {
    const codeOf = (fn: () => unknown): string => {
      try {
        fn()
        return 'no error'
      } catch (err) {
        return (err as { code?: string }).code ?? `uncoded ${(err as Error).name}`
      }
    }
    for (const value of hostile) {
      expect(codeOf(() => parseBridgeMessage({ type: value }))).toBe('BRIDGE_PROTOCOL')
      expect(codeOf(() => validateRelayUrl(value))).toBe('INVALID_RELAY_URL')
      expect(codeOf(() => parseFunctionRef(value as string))).toBe('INVALID_FUNCTION_REF')
      expect(codeOf(() => parseKey(value))).toBe('INVALID_LOG_KEY')
      expect(codeOf(() => validateAuthDomains([value]))).toBe('MANIFEST_INVALID')
      expect(codeOf(() => parseNodeWorkerInit({ type: 'init', storageRoot: 'shadw', leader: 'a', relayUrl: 'ws://127.0.0.1:1/relay', tier: value }))).toBe('INVALID_ARGUMENT')
      expect(codeOf(() => parseSignal({ type: value }))).toBe('SIGNAL_INVALID')
    }
  })
})

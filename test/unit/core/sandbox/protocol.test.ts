import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import { DEFAULT_LIMITS, parseWorkerReply, parseWorkerRequest } from '../../../../src/core/sandbox/index.ts'

const HASH = 'a'.repeat(64)
const good = { hash: HASH, abi: 'raw', input: new Uint8Array(2), args: [], env: [], seed: 0, limits: DEFAULT_LIMITS }

function code (fn: () => unknown): string {
  try {
    fn()
    return 'ok'
  } catch (err) {
    return err instanceof ShadwError ? err.code : 'not a ShadwError'
  }
}

describe('worker protocol', () => {
  it('accepts a well-formed request and fills default limits', () => {
    const req = parseWorkerRequest({ ...good, limits: { fuel: 5 } })
    expect(req.limits).toEqual({ ...DEFAULT_LIMITS, fuel: 5 })
    expect(req.bytes).toBe(undefined)
  })

  it('carries valid preopens and a scratch budget', () => {
    const preopens = [{ guest: '/d', tree: { kind: 'dir', entries: { f: { kind: 'file', data: new Uint8Array(3) }, l: { kind: 'symlink', target: 'f' } } } }]
    const req = parseWorkerRequest({ ...good, abi: 'wasi', preopens, scratchBytes: 1024 })
    expect(req.preopens).toEqual(preopens)
    expect(req.scratchBytes).toBe(1024)
  })

  const badRequests: Record<string, unknown> = {
    'a non-object': 42,
    'a short hash': { ...good, hash: 'abc' },
    'an unknown ABI': { ...good, abi: 'emscripten' },
    'input that is not bytes': { ...good, input: [1, 2] },
    'bytes that are not bytes': { ...good, bytes: 'wasm' },
    'a fractional fuel': { ...good, limits: { fuel: 1.5 } },
    'preopens that are not a list': { ...good, preopens: { guest: '/d' } },
    'a preopen that is a file': { ...good, preopens: [{ guest: '/d', tree: { kind: 'file', data: new Uint8Array(1) } }] },
    'a preopen entry named ..': { ...good, preopens: [{ guest: '/d', tree: { kind: 'dir', entries: { '..': { kind: 'dir', entries: {} } } } }] },
    'a preopen entry name with a slash': { ...good, preopens: [{ guest: '/d', tree: { kind: 'dir', entries: { 'a/b': { kind: 'symlink', target: 'x' } } } }] },
    'a preopen file without bytes': { ...good, preopens: [{ guest: '/d', tree: { kind: 'dir', entries: { f: { kind: 'file', data: 'text' } } } }] },
    'a preopen without a guest path': { ...good, preopens: [{ guest: '', tree: { kind: 'dir', entries: {} } }] },
    'a negative scratch budget': { ...good, scratchBytes: -1 },
    'too many args': { ...good, args: Array.from({ length: 257 }, () => 'a') },
    'a negative seed': { ...good, seed: -1 }
  }
  for (const [name, value] of Object.entries(badRequests)) {
    it(`rejects ${name} with INVALID_ARGUMENT`, () => {
      expect(code(() => parseWorkerRequest(value))).toBe('INVALID_ARGUMENT')
    })
  }

  it('rejects an input over its limit with INPUT_TOO_LARGE', () => {
    expect(code(() => parseWorkerRequest({ ...good, limits: { maxInputBytes: 1 } }))).toBe('INPUT_TOO_LARGE')
  })

  it('rejects malformed replies with INTERNAL', () => {
    expect(code(() => parseWorkerReply(null))).toBe('INTERNAL')
    expect(code(() => parseWorkerReply({ kind: 'done', output: new Uint8Array(0), stderr: new Uint8Array(0), fuelUsed: -1, exitCode: 0, durationMs: 0 }))).toBe('INTERNAL')
    expect(code(() => parseWorkerReply({ kind: 'weird' }))).toBe('INTERNAL')
    expect(parseWorkerReply({ kind: 'need-module', extra: 1 })).toEqual({ kind: 'need-module' })
  })
})

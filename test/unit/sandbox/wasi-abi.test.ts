import { describe, expect, it } from 'vitest'
import { DEFAULT_LIMITS, prepareModule, runModule, sha256Hex } from '../../../src/sandbox/index.ts'
import { cWasm } from '../../fixtures/wasm/fixtures.ts'

describe('WASI ABI', () => {
  it('passes the environment, keeps stderr apart, sleeps on the virtual clock, has no files', async () => {
    const bytes = cWasm('stdio')
    const prepared = await prepareModule(bytes, await sha256Hex(bytes), 'wasi', 256)
    const r = runModule(prepared, { abi: 'wasi', input: new Uint8Array(0), args: [], env: ['WHO=sandbox'], seed: 0, limits: DEFAULT_LIMITS })
    // the sleep advances virtual time by exactly its length, and each clock read by 1 µs
    expect(new TextDecoder().decode(r.output)).toBe('hello sandbox\nslept 1000001500 ns\nfopen refused\n')
    expect(new TextDecoder().decode(r.stderr)).toBe('a note on stderr\n')
    expect(r.exitCode).toBe(3)
  })
})

import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { DEFAULT_LIMITS, prepareModule, runModule, sha256Hex } from '../../../../src/core/sandbox/index.ts'
import { cWasm, type CFixture } from '../../../fixtures/wasm/fixtures.ts'

async function runC (name: CFixture, args: string[]): Promise<string> {
  const bytes = cWasm(name)
  const prepared = await prepareModule(bytes, await sha256Hex(bytes), 'wasi', 256)
  const r = runModule(prepared, { abi: 'wasi', input: new Uint8Array(0), args, env: [], seed: 0, limits: DEFAULT_LIMITS })
  expect(r.exitCode).toBe(0)
  return new TextDecoder().decode(r.output)
}

// metered clang -O2 programs must compute what an independent implementation computes
describe('metered C programs', () => {
  it('sha256.c agrees with node:crypto', async () => {
    const rounds = 3
    const buf = Buffer.alloc(64 * 1024)
    for (let i = 0; i < buf.length; i++) buf[i] = (i * 31 + 7) & 0xff
    let digest = Buffer.alloc(32)
    for (let r = 0; r < rounds; r++) {
      digest.copy(buf, 0)
      digest = createHash('sha256').update(buf).digest()
    }
    expect(await runC('sha256', [String(rounds)])).toBe(digest.toString('hex') + '\n')
  })

  it('sieve.c agrees with a JavaScript count', async () => {
    const n = 100_000
    const composite = new Uint8Array(n + 1)
    let primes = 0
    for (let i = 2; i <= n; i++) {
      if (composite[i] === 1) continue
      primes++
      for (let j = i * 2; j <= n; j += i) composite[j] = 1
    }
    let steps = 0
    for (let s = 1; s < n / 10; s++) {
      for (let x = s; x !== 1; steps++) x = x % 2 === 1 ? 3 * x + 1 : x / 2
    }
    expect(await runC('sieve', [String(n)])).toBe(`${primes} ${steps}\n`)
  })
})

describe('exact fuel in C programs', () => {
  it('runs hello.c on exactly the fuel it uses and refuses one less', async () => {
    const bytes = cWasm('hello')
    const prepared = await prepareModule(bytes, await sha256Hex(bytes), 'wasi', 256)
    const go = (fuel: number) => runModule(prepared, { abi: 'wasi', input: new Uint8Array(0), args: ['x'], env: [], seed: 0, limits: { ...DEFAULT_LIMITS, fuel } })
    const used = go(DEFAULT_LIMITS.fuel).fuelUsed
    expect(go(used).fuelUsed).toBe(used)
    expect(() => go(used - 1)).toThrow(/^FUEL_EXHAUSTED/)
  })
})

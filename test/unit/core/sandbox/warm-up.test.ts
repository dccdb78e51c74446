import { describe, expect, it } from 'vitest'
import { instrumentModule } from '../../../../src/core/sandbox/instrument.ts'
import { SandboxRuntime, sha256Hex, warmUpModule, type PrepareEvent } from '../../../../src/core/sandbox/index.ts'
import { wat } from '../../../fixtures/wasm/fixtures.ts'

/** One raw call of `bytes` through `runtime`, as the pool sends it. */
async function call (runtime: SandboxRuntime, bytes: Uint8Array, input: Uint8Array): Promise<{ output: number[], fuelUsed: number }> {
  const reply = await runtime.execute({ hash: await sha256Hex(bytes), bytes, abi: 'raw', input, args: [], env: [], seed: 7, limits: {} }) as { kind: string, output: Uint8Array, fuelUsed: number }
  expect(reply.kind).toBe('done')
  return { output: [...reply.output], fuelUsed: reply.fuelUsed }
}

describe('executor worker warm-up', () => {
  it('builds a module that validates, instruments and compiles', async () => {
    const bytes = warmUpModule()
    expect(WebAssembly.validate(new Uint8Array(bytes))).toBe(true)
    const inst = instrumentModule(bytes, 1)
    await expect(WebAssembly.compile(new Uint8Array(inst.bytes))).resolves.toBeInstanceOf(WebAssembly.Module)
  })

  it('finishes before the first call runs, and leaves its output and fuel as a cold worker gives them', async () => {
    const order: string[] = []
    const warm = new SandboxRuntime(undefined, { warmUp: true, onWarm: () => { order.push('warm') }, onPrepare: (e: PrepareEvent) => { order.push(`prepare:${e.source}`) } })
    const cold = new SandboxRuntime()
    const echo = await wat('echo')
    const input = Uint8Array.of(1, 2, 3, 4)
    const a = await call(warm, echo, input)
    const b = await call(cold, echo, input)
    expect(order).toEqual(['warm', 'prepare:instrumented'])
    expect(a).toEqual(b)
    expect(a.output).toEqual([1, 2, 3, 4])
    await warm.warmed
  })
})

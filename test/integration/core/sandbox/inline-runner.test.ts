/**
 * Small calls on the node's thread (src/sandbox/inline-runner.ts): they must give exactly
 * what a worker gives, and anything that does not fit — fuel past the slice, memory past
 * the small cap, WASI, any failure, a pool with work — must end up in a worker.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { createNodeExecutor } from '../../../../src/super-node/executor/index.ts'
import type { ExecuteCall, WorkerPool } from '../../../../src/core/sandbox/index.ts'
import { describeExecutor } from '../../../compliance/executor.ts'
import { POOLS, runWireCalls, type PoolName } from '../../../compliance/executor-wire.ts'
import { compileWat, cWasm, wat } from '../../../fixtures/wasm/fixtures.ts'

const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n, true)
  return b
}

/** Runs `call` once to have its module compiled on this thread, then again: the run that counts. */
async function warm (pool: WorkerPool, call: ExecuteCall): Promise<Awaited<ReturnType<WorkerPool['execute']>>> {
  await pool.execute(call).catch(() => {})
  await pool.inline?.settled()
  return await pool.execute(call)
}

describe('small calls on the node thread', () => {
  let pools: WorkerPool[] = []
  const pool = (opts: Parameters<typeof createNodeExecutor>[0]): WorkerPool => {
    const p = createNodeExecutor(opts)
    pools.push(p)
    return p
  }
  afterEach(async () => {
    for (const p of pools) await p.close()
    pools = []
  })

  it('runs a warm raw call on the thread with the output and fuel a worker gives', async () => {
    const worker = pool({ size: 1 })
    const inline = pool({ size: 1, inline: true })
    const call: ExecuteCall = { module: await wat('echo'), abi: 'raw', input: new TextEncoder().encode('hello') }
    const expected = await worker.execute(call)
    const got = await warm(inline, call)
    expect(inline.inline?.ran).toBe(1)
    expect(got.output).toEqual(expected.output)
    expect(got.fuelUsed).toBe(expected.fuelUsed)
    expect(got.moduleHash).toBe(expected.moduleHash)
  })

  it('moves a call past its fuel slice to a worker, which gives the full result, and sends that module to workers from then on', async () => {
    const inline = pool({ size: 1, inline: { fuelSlice: 1_000 } })
    const module = await wat('count')
    const small = await warm(inline, { module, abi: 'raw', input: u32(10) })
    expect(small.fuelUsed).toBe(166)
    expect(inline.inline?.ran).toBe(1)
    // 10,000 iterations cost ~150,000 fuel: past the slice, within the call's own limit
    const big = await inline.execute({ module, abi: 'raw', input: u32(10_000) })
    expect(big.fuelUsed).toBe(166 + 9_990 * 15)
    await inline.execute({ module, abi: 'raw', input: u32(10) })
    expect(inline.inline?.ran).toBe(1)
  })

  it('gives a call that needs more memory than the thread allows to a worker, which has the manifest cap', async () => {
    const inline = pool({ size: 1, inline: true })
    // grows until the cap: 64 pages in a worker, where the thread's cap is 16
    const r = await warm(inline, { module: await wat('memory-bomb'), abi: 'raw', limits: { memoryPages: 64 } }).then(() => 'ok', (e: { code: string }) => e.code)
    expect(r).toBe('MEMORY_LIMIT')
    expect(inline.inline?.ran).toBe(0)
  })

  it('never runs WASI calls on the thread: a host call costs one fuel whatever it does', async () => {
    const inline = pool({ size: 1, inline: true })
    const r = await warm(inline, { module: cWasm('upper'), abi: 'wasi', input: new TextEncoder().encode('abc') })
    expect(new TextDecoder().decode(r.output)).toBe('ABC')
    expect(inline.inline?.ran).toBe(0)
  })

  it('leaves failures to a worker: the code is the worker\'s', async () => {
    const worker = pool({ size: 1 })
    const inline = pool({ size: 1, inline: true })
    const call: ExecuteCall = { module: await wat('trap'), abi: 'raw' }
    const expected = await worker.execute(call).then(() => 'ok', (e: { code: string, message: string }) => `${e.code} ${e.message}`)
    const got = await warm(inline, call).then(() => 'ok', (e: { code: string, message: string }) => `${e.code} ${e.message}`)
    expect(got).toBe(expected)
    expect(inline.inline?.ran).toBe(0)
  })

  it('gives the thread at most a share of its time: a stream of slow-per-fuel calls spills to the workers', async () => {
    const inline = pool({ size: 1, inline: true })
    // memory.grow 0, 800 times: ~8,800 fuel, under the slice, the slowest instruction per fuel unit
    const module = await compileWat(`(module (memory (export "memory") 1)
      (func (export "alloc") (param i32) (result i32) (i32.const 0))
      (func (export "run") (param i32 i32) (result i64) (local $i i32)
        (loop $l (drop (memory.grow (i32.const 0))) (local.set $i (i32.add (local.get $i) (i32.const 1))) (br_if $l (i32.lt_u (local.get $i) (i32.const 800))))
        (i64.const 0)))`)
    const call: ExecuteCall = { module, abi: 'raw' }
    const first = await warm(inline, call)
    expect(first.fuelUsed).toBeLessThan(10_000)
    for (let i = 0; i < 49; i++) expect((await inline.execute(call)).fuelUsed).toBe(first.fuelUsed)
    expect(inline.inline?.ran).toBeGreaterThan(0)
    expect(inline.inline?.ran).toBeLessThan(50)
  })

  it('does not run on the thread while a worker has work', async () => {
    const inline = pool({ size: 1, inline: true })
    const echo: ExecuteCall = { module: await wat('echo'), abi: 'raw', input: new Uint8Array(4) }
    await warm(inline, echo)
    expect(inline.inline?.ran).toBe(1)
    // a spinning call holds the worker until its deadline
    const spin = inline.execute({ module: await wat('spin'), abi: 'raw', limits: { deadlineMs: 1_000, fuel: 1e15 } }).catch((e: { code: string }) => e.code)
    // the spin call is hashed, then sent to the worker; give it that long
    await new Promise(resolve => setTimeout(resolve, 100))
    await inline.execute(echo)
    expect(inline.inline?.ran).toBe(1)
    expect(await spin).toBe('DEADLINE_EXCEEDED')
  })
})

describe('compliance with small calls on the node thread (every call run twice, the second counted)', () => {
  const pools = new Map<PoolName, WorkerPool>()
  afterAll(async () => {
    for (const p of pools.values()) await p.close()
  })
  describeExecutor(() => ({
    run: async (name, calls) => {
      let p = pools.get(name)
      if (p === undefined) {
        p = createNodeExecutor({ ...POOLS[name], inline: true })
        pools.set(name, p)
      }
      await runWireCalls(p, calls)
      await p.inline?.settled()
      return await runWireCalls(p, calls)
    }
  }))
})

import { afterEach, describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import { WorkerPool, type PoolWorker, type WorkerRequest } from '../../../../src/core/sandbox/index.ts'

const MODULE = Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0)

/** A narrow fake of our own PoolWorker: replies are scripted per test. */
class FakeWorker implements PoolWorker {
  dead = false
  ready: Promise<void> = Promise.resolve()
  terminated = false
  readonly requests: WorkerRequest[] = []
  constructor (private readonly behave: (req: WorkerRequest, w: FakeWorker) => Promise<unknown>) {}
  async call (req: WorkerRequest): Promise<unknown> {
    this.requests.push(req)
    return await this.behave(req, this)
  }

  terminate (): void { this.terminated = true }
}

const done = (fuelUsed = 1): unknown => ({ kind: 'done', output: Uint8Array.of(1), fuelUsed, exitCode: 0, stderr: new Uint8Array(0), durationMs: 0.5 })
const never = async (): Promise<unknown> => await new Promise(() => {})

/**
 * Waits until the fake workers received `counts` requests. Hashing the module is async
 * (WebCrypto), so a fixed sleep raced it on a loaded machine.
 */
async function received (workers: FakeWorker[], counts: number[]): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (counts.every((n, k) => workers[k]?.requests.length === n)) return
    await new Promise(resolve => setTimeout(resolve, 2))
  }
  throw new Error(`workers received ${JSON.stringify(workers.map(w => w.requests.length))}, expected ${JSON.stringify(counts)}`)
}

async function codeOf (p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'ok'
  } catch (err) {
    return err instanceof ShadwError ? err.code : `not a ShadwError: ${String(err)}`
  }
}

describe('WorkerPool', () => {
  const pools: WorkerPool[] = []
  const make = (size: number, maxQueue: number, behave: (req: WorkerRequest, w: FakeWorker) => Promise<unknown>) => {
    const workers: FakeWorker[] = []
    const pool = new WorkerPool({ size, maxQueue, spawn: () => { const w = new FakeWorker(behave); workers.push(w); return w } })
    pools.push(pool)
    return { pool, workers }
  }
  afterEach(async () => { for (const p of pools.splice(0)) await p.close() })

  it('starts exactly `size` workers', () => {
    expect(make(3, 0, async () => done()).workers.length).toBe(3)
  })

  it('sends module bytes once per worker and then only the hash', async () => {
    const { pool, workers } = make(1, 4, async () => done())
    await pool.execute({ module: MODULE, abi: 'raw' })
    await pool.execute({ module: MODULE, abi: 'raw' })
    expect(workers[0]?.requests.map(r => r.bytes !== undefined)).toEqual([true, false])
    expect(workers[0]?.requests[1]?.hash).toMatch(/^[0-9a-f]{64}$/)
  })

  it('resends the bytes when a worker no longer caches the module', async () => {
    let asked = false
    const { pool, workers } = make(1, 4, async (req) => {
      if (req.bytes === undefined && !asked) { asked = true; return { kind: 'need-module' } }
      return done(7)
    })
    await pool.execute({ module: MODULE, abi: 'raw' })
    const r = await pool.execute({ module: MODULE, abi: 'raw' })
    expect(r.fuelUsed).toBe(7)
    expect(workers[0]?.requests.map(q => q.bytes !== undefined)).toEqual([true, false, true])
  })

  it('refuses calls beyond the queue with BUSY', async () => {
    const { pool } = make(1, 1, never)
    const first = pool.execute({ module: MODULE, abi: 'raw', limits: { deadlineMs: 50 } })
    const second = pool.execute({ module: MODULE, abi: 'raw', limits: { deadlineMs: 50 } })
    const third = pool.execute({ module: MODULE, abi: 'raw', limits: { deadlineMs: 50 } })
    expect(await Promise.all([codeOf(first), codeOf(second), codeOf(third)])).toEqual(['DEADLINE_EXCEEDED', 'DEADLINE_EXCEEDED', 'BUSY'])
  })

  it('replaces a worker at the deadline and keeps its size', async () => {
    let calls = 0
    const { pool, workers } = make(1, 4, async () => (++calls === 1 ? await never() : done()))
    expect(await codeOf(pool.execute({ module: MODULE, abi: 'raw', limits: { deadlineMs: 20 } }))).toBe('DEADLINE_EXCEEDED')
    expect(workers.map(w => w.terminated)).toEqual([true, false])
    expect((await pool.execute({ module: MODULE, abi: 'raw' })).fuelUsed).toBe(1)
  })

  it('does not charge a worker\'s start-up to the deadline of the call waiting for it', async () => {
    let ready: () => void = () => {}
    const workers: FakeWorker[] = []
    const pool = new WorkerPool({
      size: 1,
      spawn: () => {
        const w = new FakeWorker(async () => { await w.ready; return done(3) })
        w.ready = new Promise(resolve => { ready = resolve })
        workers.push(w)
        return w
      }
    })
    pools.push(pool)
    const call = pool.execute({ module: MODULE, abi: 'raw', limits: { deadlineMs: 20 } })
    await new Promise(resolve => setTimeout(resolve, 60))
    ready()
    expect((await call).fuelUsed).toBe(3)
    expect(workers.length).toBe(1)
  })

  it('aborts a running call by terminating its worker', async () => {
    const { pool, workers } = make(1, 4, never)
    const ac = new AbortController()
    const p = pool.execute({ module: MODULE, abi: 'raw' }, { signal: ac.signal })
    await received(workers, [1])
    ac.abort()
    expect(await codeOf(p)).toBe('ABORTED')
    expect(workers.length).toBe(2)
    expect(workers[0]?.terminated).toBe(true)
  })

  it('aborts a queued call without touching the running one', async () => {
    const { pool, workers } = make(1, 4, never)
    const running = pool.execute({ module: MODULE, abi: 'raw', limits: { deadlineMs: 200 } })
    const ac = new AbortController()
    const queued = pool.execute({ module: MODULE, abi: 'raw' }, { signal: ac.signal })
    await received(workers, [2])
    ac.abort()
    expect(await codeOf(queued)).toBe('ABORTED')
    expect(pool.queued).toBe(0)
    expect(workers.length).toBe(1)
    expect(await codeOf(running)).toBe('DEADLINE_EXCEEDED')
  })

  it('rejects queued and running calls with EXECUTOR_CLOSED on close, twice safely', async () => {
    const { pool, workers } = make(1, 4, never)
    const running = pool.execute({ module: MODULE, abi: 'raw' })
    const queued = pool.execute({ module: MODULE, abi: 'raw' })
    await received(workers, [2])
    await pool.close()
    await pool.close()
    expect(await Promise.all([codeOf(running), codeOf(queued)])).toEqual(['EXECUTOR_CLOSED', 'EXECUTOR_CLOSED'])
    expect(workers.every(w => w.terminated)).toBe(true)
    expect(await codeOf(pool.execute({ module: MODULE, abi: 'raw' }))).toBe('EXECUTOR_CLOSED')
  })

  it('keeps the error code a worker reports', async () => {
    const { pool } = make(1, 4, async () => { throw ShadwError.TRAP('unreachable') })
    expect(await codeOf(pool.execute({ module: MODULE, abi: 'raw' }))).toBe('TRAP')
  })

  it('treats a malformed reply as INTERNAL', async () => {
    const { pool } = make(1, 4, async () => ({ kind: 'done', output: 'not bytes', fuelUsed: 1 }))
    expect(await codeOf(pool.execute({ module: MODULE, abi: 'raw' }))).toBe('INTERNAL')
  })

  it('respawns a worker that crashed', async () => {
    let calls = 0
    const { pool, workers } = make(1, 4, async (_req, w) => {
      if (++calls === 1) { w.dead = true; throw ShadwError.INTERNAL('crashed') }
      return done()
    })
    expect(await codeOf(pool.execute({ module: MODULE, abi: 'raw' }))).toBe('INTERNAL')
    expect(workers.length).toBe(2)
    expect((await pool.execute({ module: MODULE, abi: 'raw' })).fuelUsed).toBe(1)
  })

  it('validates calls before queueing them', async () => {
    const { pool } = make(1, 4, async () => done())
    const bad = [
      { module: 'x', abi: 'raw' },
      { module: MODULE, abi: 'jvm' },
      { module: MODULE, abi: 'raw', limits: { fuel: -1 } },
      { module: MODULE, abi: 'raw', limits: { memoryPages: 70_000 } },
      { module: MODULE, abi: 'raw', args: [1] },
      { module: MODULE, abi: 'raw', seed: 1.5 }
    ]
    for (const call of bad) expect(await codeOf(pool.execute(call as never))).toBe('INVALID_ARGUMENT')
    expect(await codeOf(pool.execute({ module: MODULE, abi: 'raw', input: new Uint8Array(5), limits: { maxInputBytes: 4 } }))).toBe('INPUT_TOO_LARGE')
  })

  it('grows and shrinks with the CPU budget, letting busy workers finish', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>(resolve => { release = resolve })
    const { pool, workers } = make(1, 8, async () => { await gate; return done(5) })
    pool.resize(3)
    expect(pool.size).toBe(3)
    expect(workers.length).toBe(3)
    const calls = [1, 2, 3].map(async () => await pool.execute({ module: MODULE, abi: 'raw' }))
    await received(workers, [1, 1, 1])
    expect(workers.map(w => w.requests.length)).toEqual([1, 1, 1])
    pool.resize(1)
    expect(pool.size).toBe(1)
    // all three are busy: none is terminated until its call is done
    expect(workers.map(w => w.terminated)).toEqual([false, false, false])
    release()
    expect((await Promise.all(calls)).map(r => r.fuelUsed)).toEqual([5, 5, 5])
    expect(workers.filter(w => w.terminated).length).toBe(2)
    expect((await pool.execute({ module: MODULE, abi: 'raw' })).fuelUsed).toBe(5)
    expect(await codeOf(Promise.resolve().then(() => pool.resize(0)))).toBe('INVALID_ARGUMENT')
  })

  it('moves a call whose draining worker asks for the module to another worker', async () => {
    let release: () => void = () => {}
    const gate = new Promise<void>(resolve => { release = resolve })
    let gated = false
    const { pool, workers } = make(1, 8, async (req, w) => {
      if (w.terminated) return await never()
      if (!gated) return done(1)
      await gate
      // the first worker lost the module from its cache; the second has it
      return req.bytes === undefined && w === workers[0] ? { kind: 'need-module' } : done(5)
    })
    await pool.execute({ module: MODULE, abi: 'raw' })
    pool.resize(2)
    gated = true
    const limits = { deadlineMs: 60_000 }
    const calls = [pool.execute({ module: MODULE, abi: 'raw', limits }), pool.execute({ module: MODULE, abi: 'raw', limits })]
    await received(workers, [2, 1])
    pool.resize(1) // both busy: the first worker drains
    release()
    const hung = new Promise<never>((_resolve, reject) => setTimeout(() => reject(new Error('call left pending')), 2_000))
    expect((await Promise.race([Promise.all(calls), hung])).map(r => r.fuelUsed)).toEqual([5, 5])
    expect(workers[0]?.terminated).toBe(true)
  })

  it('refuses a size outside 1..256', () => {
    expect(() => new WorkerPool({ size: 0, spawn: () => new FakeWorker(async () => done()) })).toThrow(/INVALID_ARGUMENT/)
  })
})

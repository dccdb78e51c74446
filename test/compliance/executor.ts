/**
 * The executor compliance suite: every Executor implementation must give the same output,
 * the same fuel and the same error code for the same module and input. It is run against
 * the Node worker_threads pool and, inside headless Chromium, the browser Web Worker pool.
 */
import { describe, expect, it } from 'vitest'
import { asWasm, compileWat, cWasm, rustWasm, wat } from '../fixtures/wasm/fixtures.ts'
import { toBase64, type Outcome, type PoolName, type WireCall, type WireTree } from './executor-wire.ts'

/** What the suite needs from an executor under test. */
export interface ExecutorTarget {
  /** Runs the calls concurrently on the named pool; outcomes in call order. */
  run (pool: PoolName, calls: WireCall[]): Promise<Outcome[]>
}

const text = (s: string): string => toBase64(new TextEncoder().encode(s))
const u32 = (n: number): string => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n, true)
  return toBase64(b)
}
const ok = (output: string, fuelUsed: number, exitCode = 0): Outcome => ({ ok: true, output, fuelUsed, exitCode })

/** Registers the suite; `target()` is read when tests run (after the suite's beforeAll). */
export function describeExecutor (target: () => ExecutorTarget): void {
  const one = async (call: WireCall, pool: PoolName = 'default'): Promise<Outcome> => {
    const [outcome] = await target().run(pool, [call])
    return outcome as Outcome
  }
  const code = async (call: WireCall): Promise<string> => {
    const o = await one(call)
    return o.ok ? `ok: ${o.output}` : o.code
  }
  const m = async (name: Parameters<typeof wat>[0]): Promise<string> => toBase64(await wat(name))
  const c = (name: Parameters<typeof cWasm>[0]): string => toBase64(cWasm(name))

  describe('raw ABI', () => {
    it('echoes its input with exact fuel', async () => {
      expect(await one({ module: await m('echo'), abi: 'raw', input: text('hello sandbox') })).toEqual(ok(text('hello sandbox'), 22))
    })

    it('charges fuel linearly in loop iterations', async () => {
      const module = await m('count')
      const [ten, hundred] = await target().run('default', [
        { module, abi: 'raw', input: u32(10) },
        { module, abi: 'raw', input: u32(100) }
      ])
      // sum of i*i for i < 10 is 285, for i < 100 is 328350; 15 fuel per iteration
      expect(ten).toEqual(ok(toBase64(Uint8Array.of(29, 1, 0, 0)), 166))
      expect(hundred).toEqual(ok(toBase64(Uint8Array.of(0x9e, 0x02, 0x05, 0x00)), 166 + 90 * 15))
    })

    it('runs a start function and an imported memory', async () => {
      expect(await one({ module: await m('imported-memory'), abi: 'raw', input: text('abc') })).toEqual(ok(text('cba!'), 88))
    })

    it('stops an infinite loop when its fuel runs out', async () => {
      expect(await code({ module: await m('spin'), abi: 'raw', limits: { fuel: 100_000 } })).toBe('FUEL_EXHAUSTED')
    })

    it('succeeds with exactly the fuel a call uses and fails one short', async () => {
      const echo = await m('echo')
      const count = await m('count')
      const outcomes = await target().run('default', [
        { module: echo, abi: 'raw', input: text('x'), limits: { fuel: 22 } },
        { module: echo, abi: 'raw', input: text('x'), limits: { fuel: 21 } },
        { module: count, abi: 'raw', input: u32(10), limits: { fuel: 166 } },
        { module: count, abi: 'raw', input: u32(10), limits: { fuel: 165 } }
      ])
      expect(outcomes.map(o => o.ok ? o.fuelUsed : o.code)).toEqual([22, 'FUEL_EXHAUSTED', 166, 'FUEL_EXHAUSTED'])
    })

    it('reports unreachable as TRAP with the engine message', async () => {
      const o = await one({ module: await m('trap'), abi: 'raw' })
      expect(o).toEqual({ ok: false, code: 'TRAP', message: 'TRAP: wasm trap: unreachable' })
    })

    it('reports runaway recursion as TRAP', async () => {
      const o = await one({ module: await m('deep-recursion'), abi: 'raw' })
      expect(o).toEqual({ ok: false, code: 'TRAP', message: 'TRAP: wasm trap: call stack exhausted' })
    })

    it('fails deep recursion at the same depth in every runtime', async () => {
      // $f(n) recurses n deep: 10,000 frames fit a Node worker's stack but not a Chromium
      // worker's; the sandbox's own stack budget stops both at the same depth
      const module = toBase64(await compileWat(`(module (memory (export "memory") 1)
        (func $f (param $x i32) (result i32)
          (if (result i32) (i32.eqz (local.get $x)) (then (i32.const 0))
            (else (i32.add (i32.const 1) (call $f (i32.sub (local.get $x) (i32.const 1)))))))
        (func (export "alloc") (param i32) (result i32) (i32.const 1024))
        (func (export "run") (param $p i32) (param i32) (result i64)
          (i32.store (i32.const 0) (call $f (i32.load (local.get $p)))) (i64.const 4)))`))
      const outcomes = await target().run('default', [
        { module, abi: 'raw', input: u32(2000) },
        { module, abi: 'raw', input: u32(10_000) }
      ])
      expect(outcomes.map(o => o.ok ? o.output : o.code)).toEqual([u32(2000), 'TRAP'])
    })

    it('stops a memory bomb at the cap with MEMORY_LIMIT', async () => {
      expect(await code({ module: await m('memory-bomb'), abi: 'raw', limits: { memoryPages: 16 } })).toBe('MEMORY_LIMIT')
    })

    it('refuses a module whose initial memory exceeds the cap', async () => {
      expect(await code({ module: await m('big-initial'), abi: 'raw', limits: { memoryPages: 16 } })).toBe('MEMORY_LIMIT')
      expect(await code({ module: await m('big-initial'), abi: 'raw', limits: { memoryPages: 64 } })).toBe('ok: ')
    })

    it('refuses an oversized output', async () => {
      expect(await code({ module: await m('huge-output'), abi: 'raw' })).toBe('OUTPUT_TOO_LARGE')
    })

    it('refuses an oversized input before running', async () => {
      expect(await code({ module: await m('echo'), abi: 'raw', input: text('12345'), limits: { maxInputBytes: 4 } })).toBe('INPUT_TOO_LARGE')
    })

    it('refuses imports the ABI does not provide', async () => {
      expect(await code({ module: await m('forbidden-import'), abi: 'raw' })).toBe('ABI_MISMATCH')
    })

    it('refuses a run export with the wrong signature', async () => {
      expect(await code({ module: await m('no-run'), abi: 'raw' })).toBe('ABI_MISMATCH')
    })

    it('runs a freestanding C module', async () => {
      expect(await one({ module: c('raw-upper'), abi: 'raw', input: text('raw from c') })).toEqual(ok(text('RAW FROM C'), 322))
    })

    it('refuses a WASI module called with the raw ABI', async () => {
      expect(await code({ module: c('hello'), abi: 'raw' })).toBe('ABI_MISMATCH')
    })

    it('refuses shared memory and bytes that are not wasm', async () => {
      expect(await code({ module: await m('shared-memory'), abi: 'raw' })).toBe('INVALID_MODULE')
      expect(await code({ module: text('not wasm at all'), abi: 'raw' })).toBe('INVALID_MODULE')
    })
  })

  describe('WASI ABI', () => {
    it('runs a C program with arguments', async () => {
      expect(await one({ module: c('hello'), abi: 'wasi', args: ['one', 'two'] }))
        .toEqual(ok(text('hello, shadw\narg 1: one\narg 2: two\n'), 9113))
    })

    it('pipes stdin to stdout and returns the exit code', async () => {
      const module = c('upper')
      const [pass, fail] = await target().run('default', [
        { module, abi: 'wasi', input: text('make me loud') },
        { module, abi: 'wasi', input: text('and fail'), args: ['fail'] }
      ])
      expect(pass).toEqual(ok(text('MAKE ME LOUD'), 2405))
      expect(fail).toEqual(ok(text('AND FAIL'), 2323, 7))
    })

    it('gives deterministic clocks and seeded randomness', async () => {
      const module = c('entropy')
      const [a, b, other] = await target().run('default', [
        { module, abi: 'wasi', seed: 42 },
        { module, abi: 'wasi', seed: 42 },
        { module, abi: 'wasi', seed: 43 }
      ])
      expect(a).toEqual(b)
      expect(a?.ok === true && new TextDecoder().decode(Uint8Array.from(atob(a.output), ch => ch.charCodeAt(0))))
        .toBe('956eeb2f2632d7bd03f166b233e3ef28\n1700000000.000001000 1000\n')
      expect(other?.ok === true && other.output).not.toBe(a?.ok === true && a.output)
    })

    it('stops a malloc bomb at the cap with MEMORY_LIMIT', async () => {
      expect(await code({ module: c('malloc-bomb'), abi: 'wasi', limits: { memoryPages: 64 } })).toBe('MEMORY_LIMIT')
    })

    it('stops endless output with OUTPUT_TOO_LARGE', async () => {
      expect(await code({ module: c('print-forever'), abi: 'wasi', limits: { maxOutputBytes: 10_000 } })).toBe('OUTPUT_TOO_LARGE')
    })

    it('stops a C busy loop when its fuel runs out', async () => {
      expect(await code({ module: c('spin'), abi: 'wasi', limits: { fuel: 1_000_000 } })).toBe('FUEL_EXHAUSTED')
    })
  })

  describe('WASI filesystem', () => {
    const data = (): Array<{ guest: string, tree: WireTree }> => [{
      guest: '/data',
      tree: { kind: 'dir', entries: { 'input.txt': { kind: 'file', data: text('hello files\n') }, sub: { kind: 'dir', entries: {} } } }
    }]
    const outputOf = (o: Outcome | undefined): string => o?.ok === true ? new TextDecoder().decode(Uint8Array.from(atob(o.output), ch => ch.charCodeAt(0))) : `error ${o?.code ?? ''}`
    const C_TOUR = ['read 12 bytes: hello files', 'size 21 nlink 1 dir 0', 'tell 1', 'now: HELL! FILES', 'APPENDED', 'truncated to 5',
      'readlink 11 renamed.txt', 'hard nlink 2', 'ls /data: . .. input.txt out sub', 'ls /data/out: . .. hard.txt renamed.txt soft',
      'rmdir non-empty: -1 errno 55', 'rmdir empty: 0', 'open missing: -1 errno 44', 'excl existing: -1 errno 20', 'ls /data: . .. input.txt sub', ''].join('\n')

    const AS_TOUR = ['read 12 bytes: hello files', 'mkdir out: 0', 'tell 12', 'stat: errno 0 filetype 4 nlink 1 size 17', 'back: HELLO FILES|MORE|',
      'ls .: . .. input.txt out sub', 'ls out: . .. upper.txt', 'rmdir non-empty: 55', 'unlink: 0', 'rmdir empty: 0', 'open missing: -44', 'escape: -63',
      'ls .: . .. input.txt sub', ''].join('\n')

    it('runs a C program that reads, writes, lists and stats files (clang + wasi-libc)', async () => {
      const [a, b] = await target().run('default', [
        { module: c('fs-tour'), abi: 'wasi', preopens: data() },
        { module: c('fs-tour'), abi: 'wasi', preopens: data() }
      ])
      expect(outputOf(a)).toBe(C_TOUR)
      // redundant executions agree byte for byte, fuel included
      expect(b).toEqual(a)
    })

    it('runs a Rust std::fs program', async () => {
      expect(outputOf(await one({ module: toBase64(rustWasm('fs_tour')), abi: 'wasi', preopens: data() }))).toBe([
        'read 12 bytes: hello files', 'back: HELLO FILES', 'MORE', 'len 17 file true dir false', 'ls /data: input.txt out/ sub/',
        'ls /data/out: deep/ moved.txt', 'missing: NotFound Some(44)', 'remove_dir non-empty: Some(55)', 'ls /data: input.txt sub/',
        'escape: Some(63)', ''].join('\n'))
    })

    it('runs an AssemblyScript program (npm asc) that calls WASI directly', async () => {
      expect(outputOf(await one({ module: toBase64(asWasm('fs_tour')), abi: 'wasi', preopens: data() }))).toBe(AS_TOUR)
    })

    it('keeps a hostile program inside its preopen', async () => {
      expect(outputOf(await one({ module: c('fs-escape'), abi: 'wasi', preopens: data() }))).toBe([
        '/etc/passwd: refused errno 76', '/data/../etc/passwd: refused errno 63', '/data/../../../..: refused errno 63',
        '/data/sub/../../x: refused errno 63', '/data/abs: refused errno 44', '/data/up/etc/passwd: refused errno 63',
        '/data/loop-a: refused errno 32', 'nofollow on a link: errno 32', '/data/input.txt/: refused errno 54', ''].join('\n'))
    })

    it('refuses writes past the scratch budget, descriptors past the table, and stops a readdir loop by fuel', async () => {
      const [fill, fds, loop] = await target().run('default', [
        { module: c('fs-fill'), abi: 'wasi', preopens: data(), scratchBytes: 1 << 20 },
        { module: c('fs-fds'), abi: 'wasi', preopens: data() },
        { module: c('fs-readdir-loop'), abi: 'wasi', preopens: data(), limits: { fuel: 5_000_000 } }
      ])
      expect(outputOf(fill)).toBe('write failed after 983040 bytes: errno 51\n')
      expect(outputOf(fds)).toBe('opened 1020, then errno 33\n')
      expect(loop).toMatchObject({ ok: false, code: 'FUEL_EXHAUSTED' })
    })

    it('leaves nothing behind for the next call on the same worker', async () => {
      const [before] = await target().run('tiny', [{ module: c('fs-tour'), abi: 'wasi', preopens: data() }])
      await target().run('tiny', [{ module: c('fs-fill'), abi: 'wasi', preopens: data(), scratchBytes: 1 << 20 }])
      await target().run('tiny', [{ module: c('fs-fds'), abi: 'wasi', preopens: data() }])
      const [after] = await target().run('tiny', [{ module: c('fs-tour'), abi: 'wasi', preopens: data() }])
      expect(after).toEqual(before)
      expect(outputOf(after)).toBe(C_TOUR)
    })
  })

  describe('pool', () => {
    it('terminates a call at its deadline, respawns, and keeps serving', async () => {
      const spin = await m('spin')
      const echo = await m('echo')
      const slow: WireCall = { module: spin, abi: 'raw', limits: { fuel: 1e15, deadlineMs: 300 } }
      const stuck = await target().run('default', [slow, slow])
      expect(stuck.map(o => o.ok ? 'ok' : o.code)).toEqual(['DEADLINE_EXCEEDED', 'DEADLINE_EXCEEDED'])
      const after = await target().run('default', [
        { module: echo, abi: 'raw', input: text('a') },
        { module: echo, abi: 'raw', input: text('b') },
        { module: echo, abi: 'raw', input: text('c') }
      ])
      expect(after).toEqual([ok(text('a'), 22), ok(text('b'), 22), ok(text('c'), 22)])
    })

    it('refuses calls beyond the queue with BUSY', async () => {
      const spin = await m('spin')
      const slow: WireCall = { module: spin, abi: 'raw', limits: { fuel: 1e15, deadlineMs: 300 } }
      // one worker runs the first, the queue holds the second, the third is refused
      const outcomes = await target().run('tiny', [slow, slow, slow])
      expect(outcomes.map(o => o.ok ? 'ok' : o.code)).toEqual(['DEADLINE_EXCEEDED', 'DEADLINE_EXCEEDED', 'BUSY'])
    })
  })
}

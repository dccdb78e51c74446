import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import { DEFAULT_LIMITS, prepareModule, runModule, sha256Hex } from '../../../../src/core/sandbox/index.ts'
import { compileWat, cWasm } from '../../../fixtures/wasm/fixtures.ts'

/** Runs a WASI module with a one-page memory cap and returns its exit code. */
async function exitCodeOf (source: string, input = new Uint8Array(0)): Promise<number> {
  const bytes = await compileWat(source)
  const prepared = await prepareModule(bytes, await sha256Hex(bytes), 'wasi', 1)
  return runModule(prepared, { abi: 'wasi', input, args: [], env: [], seed: 0, limits: { ...DEFAULT_LIMITS, memoryPages: 1 } }).exitCode
}

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

  it('refuses to resize stdin, which would allocate outside the memory cap', async () => {
    // 64 MiB asked for by a module capped at one 64 KiB page: both calls must fail with
    // EBADF (8) and allocate nothing; the exit code is the sum of the two errnos
    const source = `(module
      (import "wasi_snapshot_preview1" "fd_filestat_set_size" (func $size (param i32 i64) (result i32)))
      (import "wasi_snapshot_preview1" "fd_allocate" (func $alloc (param i32 i64 i64) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func (export "_start")
        (call $exit (i32.add
          (call $size (i32.const 0) (i64.const 0x4000000))
          (call $alloc (i32.const 0) (i64.const 0) (i64.const 0x4000000))))))`
    expect(await exitCodeOf(source, Uint8Array.of(1, 2, 3))).toBe(16)
  })

  it('gives stdin, stdout and stderr the same inode numbers in every call', async () => {
    // exit code: ino(0) + 10 * ino(1) + 100 * ino(2), read with fd_filestat_get
    const source = `(module
      (import "wasi_snapshot_preview1" "fd_filestat_get" (func $stat (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func $ino (param $fd i32) (result i32)
        (drop (call $stat (local.get $fd) (i32.const 64)))
        (i32.wrap_i64 (i64.load (i32.const 72))))
      (func (export "_start")
        (call $exit (i32.add (call $ino (i32.const 0))
          (i32.add (i32.mul (call $ino (i32.const 1)) (i32.const 10)) (i32.mul (call $ino (i32.const 2)) (i32.const 100)))))))`
    expect([await exitCodeOf(source), await exitCodeOf(source)]).toEqual([321, 321])
  })

  it('reports a WASI call given a pointer outside memory as TRAP, not INTERNAL', async () => {
    const clockAt = (ptr: number): string => `(module
      (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "_start") (drop (call $now (i32.const 0) (i64.const 0) (i32.const ${ptr})))))`
    const err = await exitCodeOf(clockAt(-8)).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(ShadwError)
    expect((err as ShadwError).code).toBe('TRAP')
    expect(await exitCodeOf(clockAt(64))).toBe(0)
  })

  it('refuses random_get into a range past 2 GiB with EINVAL', async () => {
    const source = `(module
      (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func (export "_start") (call $exit (call $random (i32.const -8) (i32.const 16)))))`
    expect(await exitCodeOf(source)).toBe(28)
  })

  it('lets a start function use WASI, proc_exit included', async () => {
    const source = `(module
      (import "wasi_snapshot_preview1" "clock_time_get" (func $now (param i32 i64 i32) (result i32)))
      (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func $init
        (drop (call $now (i32.const 0) (i64.const 0) (i32.const 64)))
        (if (i64.gt_u (i64.load (i32.const 64)) (i64.const 0)) (then (call $exit (i32.const 5)))))
      (start $init)
      (func (export "_start") (call $exit (i32.const 9))))`
    expect(await exitCodeOf(source)).toBe(5)
  })
})

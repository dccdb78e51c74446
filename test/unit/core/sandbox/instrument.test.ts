import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import { DEFAULT_LIMITS, FUEL_EXPORT, instrumentModule, parseModule, prepareModule, runModule, sha256Hex, START_EXPORT, type Abi, type ExecutionLimits } from '../../../../src/core/sandbox/index.ts'
import { STACK_BUDGET_SLOTS } from '../../../../src/core/sandbox/function-metering.ts'
import { compileWat, wat } from '../../../fixtures/wasm/fixtures.ts'

async function run (bytes: Uint8Array, input: Uint8Array, limits: Partial<ExecutionLimits> = {}, abi: Abi = 'raw') {
  const prepared = await prepareModule(bytes, await sha256Hex(bytes), abi, limits.memoryPages ?? DEFAULT_LIMITS.memoryPages)
  return runModule(prepared, { abi, input, args: [], env: [], seed: 0, limits: { ...DEFAULT_LIMITS, ...limits } })
}

async function codeOf (fn: () => unknown): Promise<string> {
  try {
    await fn()
    return 'ok'
  } catch (err) {
    return err instanceof ShadwError ? err.code : `not a ShadwError: ${String(err)}`
  }
}

const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, n, true)
  return b
}

/** A raw-ABI wrapper around `body`, a function (param $x i32) (result i32) named $f. */
const kernel = (body: string, extra = ''): string => `(module
  (memory (export "memory") 1)
  (type $unary (func (param i32) (result i32)))
  (table 2 funcref)
  ${extra}
  ${body}
  (func (export "alloc") (param i32) (result i32) (i32.const 1024))
  (func (export "run") (param $p i32) (param $n i32) (result i64)
    (i32.store (i32.const 0) (call $f (i32.load (local.get $p))))
    (i64.const 4)))`

/** Control-flow shapes the metering pass must preserve exactly. */
const SHAPES: Record<string, string> = {
  'br_if carrying a value': `(func $f (param $x i32) (result i32)
    (block $b (result i32)
      (drop (br_if $b (i32.const 7) (i32.gt_u (local.get $x) (i32.const 3))))
      (i32.mul (local.get $x) (i32.const 2))))`,
  br_table: `(func $f (param $x i32) (result i32)
    (block $c (block $b (block $a
      (br_table $a $b $c (local.get $x)))
      (return (i32.const 10)))
      (return (i32.const 20)))
    (i32.const 30))`,
  'branch to the function label': `(func $f (param $x i32) (result i32)
    (local.get $x)
    (br_if 0 (i32.eqz (local.get $x)))
    (drop)
    (i32.add (local.get $x) (i32.const 100)))`,
  'if/else in a loop with calls': `(func $sq (param $v i32) (result i32) (i32.mul (local.get $v) (local.get $v)))
    (func $f (param $x i32) (result i32) (local $i i32) (local $acc i32)
    (loop $l
      (if (i32.and (local.get $i) (i32.const 1))
        (then (local.set $acc (i32.add (local.get $acc) (call $sq (local.get $i)))))
        (else (local.set $acc (i32.sub (local.get $acc) (local.get $i)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $x))))
    (local.get $acc))`,
  'SIMD, bulk memory, saturating and sign-extension ops': `(func $f (param $x i32) (result i32)
    (memory.fill (i32.const 2048) (local.get $x) (i32.const 64))
    (memory.copy (i32.const 4096) (i32.const 2048) (i32.const 64))
    (v128.store (i32.const 8192)
      (i32x4.add (v128.load offset=16 (i32.const 4096))
        (i8x16.shuffle 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 (v128.const i32x4 1 2 3 4) (i32x4.splat (local.get $x)))))
    (i32.add
      (i32.add (i32x4.extract_lane 2 (v128.load (i32.const 8192))) (i32.extend8_s (local.get $x)))
      (i32.trunc_sat_f32_s (f32.const 1e20))))`,
  'a call in the middle of a segment, then an early exit': `(func $g (param $v i32) (result i32)
      (local $i i32)
      (loop $spin (br_if $spin (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $v))))
      (local.get $i))
    (func $f (param $x i32) (result i32) (local $r i32)
      (block $out
        (local.set $r (call $g (local.get $x)))
        (br_if $out (i32.gt_u (local.get $r) (i32.const 4)))
        (local.set $r (i32.mul (local.get $r) (i32.const 3)))
        (local.set $r (i32.add (local.get $r) (i32.const 1))))
      (local.get $r))`,
  'call_indirect and return_call': `(func $double (type $unary) (i32.shl (local.get 0) (i32.const 1)))
    (func $inc (type $unary) (i32.add (local.get 0) (i32.const 1)))
    (elem (i32.const 0) $double $inc)
    (func $f (param $x i32) (result i32)
      (return_call_indirect (type $unary) (call_indirect (type $unary) (local.get $x) (i32.const 0)) (i32.const 1)))`
}

describe('fuel metering', () => {
  it('charges 16 fuel plus 15 per loop iteration, exactly', async () => {
    const count = await wat('count')
    for (const n of [0, 1, 10, 1000]) {
      expect((await run(count, u32(n))).fuelUsed).toBe(16 + 15 * n)
    }
  })

  for (const [name, body] of Object.entries(SHAPES)) {
    it(`preserves results for ${name}`, async () => {
      const bytes = await compileWat(kernel(body))
      const plain = new WebAssembly.Instance(await WebAssembly.compile(bytes as Uint8Array<ArrayBuffer>), {})
      const f = (x: number): number => {
        const ex = plain.exports as { run (p: number, n: number): bigint, memory: WebAssembly.Memory }
        new DataView(ex.memory.buffer).setUint32(1024, x, true)
        ex.run(1024, 4)
        return new DataView(ex.memory.buffer).getUint32(0, true)
      }
      const fuels = new Set<number>()
      for (const x of [0, 1, 2, 3, 5, 9]) {
        const r = await run(bytes, u32(x))
        expect(new DataView(r.output.buffer).getUint32(0, true)).toBe(f(x))
        expect(r.fuelUsed).toBeGreaterThan(0)
        fuels.add(r.fuelUsed)
        // determinism: the same call always costs the same
        expect((await run(bytes, u32(x))).fuelUsed).toBe(r.fuelUsed)
        // exactness: the fuel used is enough, one less is not
        expect((await run(bytes, u32(x), { fuel: r.fuelUsed })).fuelUsed).toBe(r.fuelUsed)
        expect(await codeOf(() => run(bytes, u32(x), { fuel: r.fuelUsed - 1 }))).toBe('FUEL_EXHAUSTED')
      }
    })
  }

  it('succeeds with exactly the fuel a looping call uses and fails one below', async () => {
    const count = await wat('count')
    const used = 16 + 15 * 5
    expect((await run(count, u32(5), { fuel: used })).fuelUsed).toBe(used)
    expect(await codeOf(() => run(count, u32(5), { fuel: used - 1 }))).toBe('FUEL_EXHAUSTED')
  })

  it('stops a runaway loop within one iteration of its fuel', async () => {
    // 15 fuel per iteration: the trap comes at the first loop header past the limit
    const count = await wat('count')
    for (const fuel of [100, 1000, 12345]) {
      expect(await codeOf(() => run(count, u32(1_000_000), { fuel }))).toBe('FUEL_EXHAUSTED')
    }
  })

  it('succeeds with exactly the fuel a loop-free call uses', async () => {
    const echo = await wat('echo')
    expect((await run(echo, u32(1), { fuel: 22 })).fuelUsed).toBe(22)
    expect(await codeOf(() => run(echo, u32(1), { fuel: 21 }))).toBe('FUEL_EXHAUSTED')
  })

  it('detects exhaustion inside a callee as FUEL_EXHAUSTED, not TRAP', async () => {
    const bytes = await compileWat(kernel(`(func $f (param $x i32) (result i32)
      (if (result i32) (i32.eqz (local.get $x)) (then (i32.const 0))
        (else (i32.add (i32.const 1) (call $f (i32.sub (local.get $x) (i32.const 1)))))))`))
    expect((await run(bytes, u32(100))).output).toEqual(u32(100))
    expect(await codeOf(() => run(bytes, u32(100), { fuel: 200 }))).toBe('FUEL_EXHAUSTED')
  })

  it('charges bulk memory and table operations by their length', async () => {
    // run() fills, copies and initialises input[0] bytes of memory and fills and copies
    // input[0] >> 8 table slots; everything but the lengths costs the same for every input
    const bytes = await compileWat(`(module (memory (export "memory") 4) (table 1024 funcref)
      (data $d "${'\\00'.repeat(4096)}")
      (func (export "alloc") (param i32) (result i32) (i32.const 0))
      (func (export "run") (param $p i32) (param i32) (result i64) (local $n i32)
        (local.set $n (i32.load (local.get $p)))
        (memory.fill (i32.const 0) (i32.const 7) (local.get $n))
        (memory.copy (i32.const 65536) (i32.const 0) (local.get $n))
        (memory.init $d (i32.const 131072) (i32.const 0) (local.get $n))
        (table.fill (i32.const 0) (ref.null func) (i32.shr_u (local.get $n) (i32.const 8)))
        (table.copy (i32.const 512) (i32.const 0) (i32.shr_u (local.get $n) (i32.const 8)))
        (i64.const 0)))`)
    const base = (await run(bytes, u32(0))).fuelUsed
    // 4096 bytes: 256 fuel for each of the three memory operations, 16 for each table one
    expect((await run(bytes, u32(4096))).fuelUsed).toBe(base + 3 * 256 + 2 * 16)
    const used = base + 3 * 256 + 2 * 16
    expect((await run(bytes, u32(4096), { fuel: used })).fuelUsed).toBe(used)
    expect(await codeOf(() => run(bytes, u32(4096), { fuel: used - 1 }))).toBe('FUEL_EXHAUSTED')
  })

  it('fails a call whose one bulk operation costs more than its fuel', async () => {
    // a single 256 KiB fill is 16,384 fuel: without the length charge it cost 1
    const bytes = await compileWat(`(module (memory (export "memory") 4)
      (func (export "alloc") (param i32) (result i32) (i32.const 0))
      (func (export "run") (param i32 i32) (result i64)
        (memory.fill (i32.const 0) (i32.const 1) (i32.const 262144))
        (i64.const 0)))`)
    const prepared = await prepareModule(bytes, await sha256Hex(bytes), 'raw', 4)
    const call = (fuel: number): unknown => runModule(prepared, { abi: 'raw', input: new Uint8Array(0), args: [], env: [], seed: 0, limits: { ...DEFAULT_LIMITS, memoryPages: 4, fuel } })
    expect(await codeOf(() => call(1000))).toBe('FUEL_EXHAUSTED')
    expect((call(1_000_000) as { fuelUsed: number }).fuelUsed).toBeGreaterThan(16384)
  })

  it('meters the start function before any export runs', async () => {
    const bytes = await wat('imported-memory')
    const inst = instrumentModule(bytes, 4)
    expect(parseModule(inst.bytes).start).toBe(undefined)
    expect(parseModule(inst.bytes).exports.map(e => e.name)).toContain(START_EXPORT)
    expect(await codeOf(() => run(bytes, new Uint8Array(0), { fuel: 1 }))).toBe('FUEL_EXHAUSTED')
  })
})

describe('call depth', () => {
  /** run() returns the depth its recursion reached: $f(n) calls itself n times. */
  const recursive = (f: string): string => kernel(f)
  const plain = `(func $f (param $x i32) (result i32)
    (if (result i32) (i32.eqz (local.get $x)) (then (i32.const 0))
      (else (i32.add (i32.const 1) (call $f (i32.sub (local.get $x) (i32.const 1)))))))`
  // one frame of $f: 16 fixed + 2 for its parameter + 2 each for our fuel and level locals
  // + 2 for each of the 3 operands it holds at most (1, $x, 1 before the subtraction) = 28

  it('stops recursion at the stack budget, at the same depth in every runtime', async () => {
    const bytes = await compileWat(recursive(plain))
    // run() takes 16 + 2 * 2 parameters + 2 * 2 of ours + 2 * 2 operands = 28 slots too;
    // then $f(n) has n + 1 frames
    const fits = Math.floor((STACK_BUDGET_SLOTS - 28) / 28) - 1
    expect((await run(bytes, u32(fits))).output).toEqual(u32(fits))
    // one frame more fails, though a Node worker's engine stack holds about ten times more
    const err = await run(bytes, u32(fits + 1)).then(() => undefined, (e: unknown) => e)
    expect((err as ShadwError).code).toBe('TRAP')
    expect((err as ShadwError).message).toBe('TRAP: wasm trap: call stack exhausted')
    expect(fits).toBe(2338)
  })

  it('counts the operands a frame holds across a call', async () => {
    // $f(x) = 100 + $f(x - 1) keeps 100 operands while it recurses: 16 + 2 + 4 + 2 * 102 =
    // 226 slots (not counting them, 22: a Chromium worker's stack overflowed first)
    const bytes = await compileWat(recursive(`(func $f (param $x i32) (result i32)
      (if (result i32) (i32.eqz (local.get $x)) (then (i32.const 0))
        (else ${'(i32.const 1) '.repeat(100)}
          (call $f (i32.sub (local.get $x) (i32.const 1)))
          ${'(i32.add) '.repeat(100)})))`))
    const fits = Math.floor((STACK_BUDGET_SLOTS - 28) / 226) - 1
    expect((await run(bytes, u32(fits))).output).toEqual(u32(100 * fits))
    expect(await codeOf(() => run(bytes, u32(fits + 1)))).toBe('TRAP')
  })

  it('gives the stack back after calls and tail calls', async () => {
    const bytes = await compileWat(kernel(`(func $leaf (param $v i32) (result i32) (local.get $v))
      (func $tail (param $n i32) (param $acc i32) (result i32)
        (if (result i32) (i32.eqz (local.get $n)) (then (local.get $acc))
          (else (return_call $tail (i32.sub (local.get $n) (i32.const 1)) (i32.add (local.get $acc) (i32.const 1))))))
      (func $f (param $x i32) (result i32) (local $i i32) (local $sum i32)
        (loop $l
          (local.set $sum (i32.add (local.get $sum) (call $leaf (i32.const 1))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (local.get $x))))
        (i32.add (local.get $sum) (call $tail (local.get $x) (i32.const 0))))`))
    expect((await run(bytes, u32(100_000))).output).toEqual(u32(200_000))
  })
})

describe('memory capping', () => {
  it('turns a defined memory into a host-provided import capped at the limit', async () => {
    const inst = instrumentModule(await wat('echo'), 7)
    const rewritten = parseModule(inst.bytes)
    expect(rewritten.memory).toBe(undefined)
    expect(rewritten.imports).toEqual([{ module: '__shadw', name: 'memory', kind: 'memory', limits: { min: 1, max: 7 }, limitsStart: expect.any(Number), limitsEnd: expect.any(Number) }])
    expect(inst.importedMemory).toEqual({ module: '__shadw', name: 'memory', initial: 1, maximum: 7 })
  })

  it('keeps a smaller declared maximum', async () => {
    const bytes = await compileWat('(module (memory 1 3))')
    expect(instrumentModule(bytes, 7).importedMemory).toEqual({ module: '__shadw', name: 'memory', initial: 1, maximum: 3 })
  })

  it('hands the next call a zeroed memory with the data segments re-applied', async () => {
    // run() stores its argument at 0 and returns 4 bytes from 100: data there is 7 at first
    const bytes = await compileWat(`(module (memory (export "memory") 1) (data (i32.const 100) "\\07")
      (func (export "alloc") (param i32) (result i32) (i32.const 1024))
      (func (export "run") (param $p i32) (param i32) (result i64)
        (i32.store (i32.const 100) (i32.add (i32.load (i32.const 100)) (i32.load (local.get $p))))
        (i32.store (i32.const 200) (i32.const 99))
        (i64.or (i64.shl (i64.const 100) (i64.const 32)) (i64.const 4))))`)
    const prepared = await prepareModule(bytes, await sha256Hex(bytes), 'raw', 16)
    const call = (n: number): Uint8Array => runModule(prepared, { abi: 'raw', input: u32(n), args: [], env: [], seed: 0, limits: DEFAULT_LIMITS }).output
    expect(call(1)).toEqual(u32(8))
    expect(prepared.spareMemory).not.toBe(undefined)
    expect(call(2)).toEqual(u32(9))
    expect(new Uint8Array((prepared.spareMemory as { buffer: ArrayBuffer }).buffer)[200]).toBe(99)
  })

  it('rewrites the limits of an imported memory', async () => {
    const inst = instrumentModule(await wat('imported-memory'), 9)
    expect(inst.importedMemory).toEqual({ module: 'env', name: 'memory', initial: 1, maximum: 9 })
    expect(parseModule(inst.bytes).imports.find(i => i.kind === 'memory')?.limits).toEqual({ min: 1, max: 9 })
  })

  it('refuses an initial size above the cap with MEMORY_LIMIT', async () => {
    const bytes = await wat('big-initial')
    expect(await codeOf(() => instrumentModule(bytes, 63))).toBe('MEMORY_LIMIT')
    expect(instrumentModule(bytes, 64).importedMemory).toEqual({ module: '__shadw', name: 'memory', initial: 64, maximum: 64 })
  })
})

/**
 * A module with one function whose body is `body` (locals first) and type `() -> ()`, plus
 * three more function types ($1 to $3) for the body to name. Hand-assembled: wabt cannot write
 * GC reference types, which Chromium validates.
 */
function oneFunction (body: number[]): Uint8Array {
  const section = (id: number, payload: number[]): number[] => [id, payload.length, ...payload]
  const code = [body.length, ...body]
  return Uint8Array.from([
    0, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, [4, 0x60, 0, 0, 0x60, 0, 0, 0x60, 0, 0, 0x60, 0, 0]),
    ...section(3, [1, 0]),
    ...section(10, [1, ...code])
  ])
}

describe('module validation', () => {
  const refused: Record<string, () => Promise<Uint8Array>> = {
    'bad magic': async () => new TextEncoder().encode('\0asx\x01\0\0\0'),
    'a truncated module': async () => (await wat('echo')).subarray(0, 30),
    'shared memory': async () => await wat('shared-memory'),
    'an export with a reserved name': async () => await compileWat(`(module (global (export "${FUEL_EXPORT}") i32 (i32.const 0)))`),
    'two memories': async () => Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 5, 2, 0, 1, 0, 1),
    '64-bit memory': async () => Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 5, 3, 1, 4, 1),
    'exception tags': async () => Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 4, 1, 0x60, 0, 0, 13, 3, 1, 0, 0),
    'an overlong LEB': async () => Uint8Array.of(0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01),
    // Chromium (GC on) validates this; read as one byte, the type leaves its heap type 0x02
    // to be taken for `block`, whose block type swallows the `loop` opcode: the loop ran
    // with no fuel check (and its refunds even added fuel)
    'a typed select of a GC reference type': async () => oneFunction([0,
      0xd2, 0, 0xd2, 0, 0x41, 0, 0x1c, 1, 0x63, 0x02, // select (ref null $2)
      0x03, 0x7f, 0x0c, 0, 0x0b, 0x1a, 0x1a, 0x0b]), // loop (result i32) br 0 end, drop, drop
    'a local of a GC reference type': async () => oneFunction([1, 1, 0x63, 0x70, 0x0b])
  }
  for (const [name, make] of Object.entries(refused)) {
    it(`refuses ${name} with INVALID_MODULE`, async () => {
      const bytes = await make()
      expect(await codeOf(() => instrumentModule(bytes, 16))).toBe('INVALID_MODULE')
    })
  }

  it('refuses a memory-less module for either ABI with ABI_MISMATCH', async () => {
    const bytes = await compileWat('(module (func (export "_start")))')
    expect(await codeOf(() => run(bytes, new Uint8Array(0), {}, 'wasi'))).toBe('ABI_MISMATCH')
  })

  it('refuses an unknown WASI import with ABI_MISMATCH', async () => {
    const bytes = await compileWat(`(module (import "wasi_snapshot_preview1" "thread_spawn" (func (param i32) (result i32)))
      (memory (export "memory") 1) (func (export "_start")))`)
    expect(await codeOf(() => run(bytes, new Uint8Array(0), {}, 'wasi'))).toBe('ABI_MISMATCH')
  })

  it('reports a raw output outside memory as ABI_MISMATCH', async () => {
    const bytes = await compileWat(`(module (memory (export "memory") 1)
      (func (export "alloc") (param i32) (result i32) (i32.const 0))
      (func (export "run") (param i32 i32) (result i64) (i64.const 0x0000fff000000100)))`)
    expect(await codeOf(() => run(bytes, new Uint8Array(0)))).toBe('ABI_MISMATCH')
  })
})

describe('table capping', () => {
  it('caps table growth so tables cannot bypass the memory cap', async () => {
    const bytes = await compileWat(`(module (table $t 1 funcref) (memory (export "memory") 1)
      (func (export "alloc") (param i32) (result i32) (i32.const 0))
      (func (export "run") (param i32 i32) (result i64)
        (i32.store (i32.const 0) (table.grow $t (ref.null func) (i32.const 1000000)))
        (i64.const 4)))`)
    expect(parseModule(instrumentModule(bytes, 1).bytes).tables).toEqual([{ refType: 0x70, limits: { min: 1, max: 100_000 } }])
    // growth past the cap fails the way the spec says: table.grow returns -1
    expect((await run(bytes, new Uint8Array(0))).output).toEqual(Uint8Array.of(0xff, 0xff, 0xff, 0xff))
  })

  it('refuses a table that starts above the cap', async () => {
    const bytes = await compileWat('(module (table 100001 funcref))')
    expect(await codeOf(() => instrumentModule(bytes, 1))).toBe('INVALID_MODULE')
  })
})

/**
 * The cold-start module of the invocation bench: a raw-ABI echo padded with real code to a
 * given size, so a first call pays for what a published module of that size costs
 * (validation, the ABI check, fuel instrumentation of every function, compilation), not only
 * for the bytes. Each `salt` gives different bytes, hence a different content hash: a module
 * no cache has seen.
 */
import { compileWat } from '../test/fixtures/wasm/fixtures.ts'

/** One padding function: a few dozen instructions with a loop, as compiled code has. */
function pad (i: number, salt: number): string {
  return `(func $p${i} (param $x i32) (result i32) (local $n i32)
    (local.set $n (i32.const ${(i + salt) % 7 + 1}))
    (block $out (loop $top
      (br_if $out (i32.eqz (local.get $n)))
      (local.set $x (i32.add (i32.mul (local.get $x) (i32.const ${i * 31 + salt})) (i32.const ${i ^ salt})))
      (local.set $x (i32.xor (local.get $x) (i32.shr_u (local.get $x) (i32.const 13))))
      (local.set $n (i32.sub (local.get $n) (i32.const 1)))
      (br $top)))
    (if (result i32) (i32.gt_u (local.get $x) (i32.const ${salt + 1000}))
      (then (i32.add (local.get $x) (i32.const ${i})))
      (else (i32.sub (local.get $x) (i32.const ${i})))))`
}

/** A raw-ABI echo of at least `targetBytes` bytes of wasm; `salt` makes its bytes unique. */
export async function coldModule (targetBytes: number, salt: number): Promise<Uint8Array> {
  const head = `(module (memory (export "memory") 1) (global $next (mut i32) (i32.const 1024))
  (func (export "alloc") (param $len i32) (result i32) (local $p i32) (local.set $p (global.get $next)) (global.set $next (i32.add (global.get $next) (local.get $len))) (local.get $p))
  (func (export "run") (param $ptr i32) (param $len i32) (result i64) (i64.or (i64.shl (i64.extend_i32_u (local.get $ptr)) (i64.const 32)) (i64.extend_i32_u (local.get $len))))
  (func (export "pad") (param i32) (result i32) (call $p0 (local.get 0)))`
  // measured once on a small count, then scaled: the text-to-binary step is not free
  const sized = async (n: number): Promise<Uint8Array> => await compileWat(`${head}\n${Array.from({ length: n }, (_, i) => pad(i, salt)).join('\n')})`, `cold-${salt}.wat`)
  const probe = await sized(100)
  const perFn = (probe.length - 200) / 100
  return await sized(Math.ceil(targetBytes / perFn) + 1)
}

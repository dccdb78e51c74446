/**
 * Warms an executor worker's metering pass and compiler when the worker starts, so the first
 * real module a worker prepares does not also pay for its thread's cold JIT: the instrumenter
 * is JavaScript, and its first run on a thread took ~100 ms for a 107 KB module against
 * 13-30 ms once optimised (docs/performance.md, "Cold start"). The warm-up module is built
 * here, byte by byte, rather than shipped as a file: it is a few hundred copies of one small
 * function with a loop, a branch and arithmetic, the shapes a compiled function has, so the
 * instrumenter's hot paths (instruction reading, charge points, block bookkeeping) run often
 * enough for V8 to optimise them.
 */
import { nowMs, wasmApi } from './host.ts'
import { instrumentModule } from './instrument.ts'
import { encodeU32 } from './wasm-bytes.ts'

/** Functions in the warm-up module: ~25 KB of code, a quarter of the bench's cold module. */
export const WARM_UP_FUNCTIONS = 400
/** Times the module is instrumented: V8 optimises a function after enough calls and loop turns. */
export const WARM_UP_ROUNDS = 3

function section (id: number, body: number[]): number[] {
  return [id, ...encodeU32(body.length), ...body]
}

/** One function body: `(param i32) (result i32) (local i32)` with a loop, a branch and arithmetic; `k` < 64. */
function body (k: number): number[] {
  const code = [
    0x01, 0x01, 0x7f, // one i32 local
    0x41, k % 7 + 1, 0x21, 0x01, // n = k % 7 + 1
    0x02, 0x40, 0x03, 0x40, // block, loop
    0x20, 0x01, 0x45, 0x0d, 0x01, // br_if out (n == 0)
    0x20, 0x00, 0x41, k, 0x6c, 0x41, 63 - k, 0x6a, 0x21, 0x00, // x = x * k + (63 - k)
    0x20, 0x00, 0x20, 0x00, 0x41, 0x0d, 0x76, 0x73, 0x21, 0x00, // x ^= x >>> 13
    0x20, 0x01, 0x41, 0x01, 0x6b, 0x21, 0x01, // n -= 1
    0x0c, 0x00, 0x0b, 0x0b, // br top; end loop; end block
    0x20, 0x00, 0x41, k, 0x4b, 0x04, 0x7f, // if (result i32) x > k
    0x20, 0x00, 0x41, 0x01, 0x6a, 0x05, // then x + 1, else
    0x20, 0x00, 0x41, 0x01, 0x6b, 0x0b, // x - 1; end if
    0x0b // end function
  ]
  return [...encodeU32(code.length), ...code]
}

/** The warm-up module's bytes (valid wasm: one memory, {@link WARM_UP_FUNCTIONS} functions). */
export function warmUpModule (): Uint8Array {
  const n = WARM_UP_FUNCTIONS
  const types = section(1, [0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f])
  const funcs = section(3, [...encodeU32(n), ...new Array<number>(n).fill(0)])
  const memory = section(5, [0x01, 0x00, 0x01])
  const code = section(10, [...encodeU32(n), ...Array.from({ length: n }, (_, i) => body(i % 64)).flat()])
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ...types, ...funcs, ...memory, ...code])
}

/**
 * Instruments the warm-up module {@link WARM_UP_ROUNDS} times and compiles it once; returns
 * the ms it took. Never throws: a warm-up that fails only leaves the worker as cold as before.
 */
export async function warmUp (): Promise<number> {
  const started = nowMs()
  try {
    const bytes = warmUpModule()
    let last: Uint8Array = bytes
    for (let i = 0; i < WARM_UP_ROUNDS; i++) last = instrumentModule(bytes, 1).bytes
    await wasmApi.compile(last)
  } catch {
    // nothing to undo
  }
  return nowMs() - started
}

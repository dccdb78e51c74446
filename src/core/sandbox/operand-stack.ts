/**
 * How many operands each instruction pops and pushes, so the metering pass can bound a
 * function's operand stack height, which is part of its frame size: an engine spills every
 * live operand into the frame at a call, and the call-depth budget must count them (see
 * `frameSlots` in function-metering.ts).
 *
 * Control instructions, calls and blocks are handled by the metering scanner itself; this
 * table covers the rest. Every effect is exact: a guess on the high side would charge honest
 * straight-line code for operands it never holds, a guess on the low side would let a frame
 * use more stack than the budget counts.
 */

/** Operands an instruction takes from the stack and leaves on it. */
export interface StackEffect { readonly pops: number, readonly pushes: number }

const NONE: StackEffect = { pops: 0, pushes: 0 }
const PUSH: StackEffect = { pops: 0, pushes: 1 }
const POP: StackEffect = { pops: 1, pushes: 0 }
const UNARY: StackEffect = { pops: 1, pushes: 1 }
const BINARY: StackEffect = { pops: 2, pushes: 1 }
const TERNARY: StackEffect = { pops: 3, pushes: 1 }
const STORE: StackEffect = { pops: 2, pushes: 0 }
const BULK: StackEffect = { pops: 3, pushes: 0 }

/** Inclusive opcode ranges of the two-operand numeric instructions (compares, arithmetic). */
const NUMERIC_BINARY: ReadonlyArray<readonly [number, number]> = [
  [0x46, 0x4f], [0x51, 0x5a], [0x5b, 0x66], [0x6a, 0x78], [0x7c, 0x8a], [0x92, 0x98], [0xa0, 0xa6]
]

/** Effect of a one-byte opcode other than control, calls and `memory.grow`. */
export function plainEffect (op: number): StackEffect {
  if (op >= 0x45 && op <= 0xc4) return NUMERIC_BINARY.some(([a, b]) => op >= a && op <= b) ? BINARY : UNARY
  if (op >= 0x28 && op <= 0x35) return UNARY // loads
  if (op >= 0x36 && op <= 0x3e) return STORE
  if (op >= 0x41 && op <= 0x44) return PUSH // constants
  switch (op) {
    case 0x01: return NONE // nop
    case 0x1a: return POP // drop
    case 0x1b: case 0x1c: return TERNARY // select
    case 0x20: case 0x23: return PUSH // local.get global.get
    case 0x21: case 0x24: return POP // local.set global.set
    case 0x22: return UNARY // local.tee
    case 0x25: return UNARY // table.get
    case 0x26: return STORE // table.set
    case 0x3f: return PUSH // memory.size
    case 0xd0: case 0xd2: return PUSH // ref.null ref.func
    case 0xd1: return UNARY // ref.is_null
    default: return PUSH // not reached: the scanner refuses other opcodes first
  }
}

/** Effect of an 0xfc-prefixed instruction, by sub-opcode. */
export function fcEffect (sub: number): StackEffect {
  if (sub <= 7) return UNARY // saturating truncation
  switch (sub) {
    case 9: case 13: return NONE // data.drop elem.drop
    case 15: return BINARY // table.grow
    case 16: return PUSH // table.size
    default: return BULK // memory.init/copy/fill, table.init/copy/fill
  }
}

/** One-operand SIMD instructions (splats, lane extracts, unary arithmetic, conversions). */
const SIMD_UNARY: ReadonlySet<number> = new Set([
  0x0f, 0x10, 0x11, 0x12, 0x13, 0x14,
  0x15, 0x16, 0x18, 0x19, 0x1b, 0x1d, 0x1f, 0x21,
  0x4d, 0x53, 0x5e, 0x5f, 0x60, 0x61, 0x62, 0x63, 0x64, 0x67, 0x68, 0x69, 0x6a,
  0x74, 0x75, 0x7a, 0x7c, 0x7d, 0x7e, 0x7f, 0x80, 0x81, 0x83, 0x84, 0x87, 0x88, 0x89, 0x8a,
  0x94, 0xa0, 0xa1, 0xa3, 0xa4, 0xa7, 0xa8, 0xa9, 0xaa, 0xc0, 0xc1, 0xc3, 0xc4,
  0xc7, 0xc8, 0xc9, 0xca, 0xe0, 0xe1, 0xe3, 0xec, 0xed, 0xef,
  0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
  0x101, 0x102, 0x103, 0x104
])

/** Three-operand SIMD instructions: bitselect, relaxed madd/nmadd, laneselect, dot-add. */
const SIMD_TERNARY: ReadonlySet<number> = new Set([0x52, 0x105, 0x106, 0x107, 0x108, 0x109, 0x10a, 0x10b, 0x10c, 0x113])

/** Effect of an 0xfd-prefixed (SIMD) instruction, by sub-opcode. */
export function fdEffect (sub: number): StackEffect {
  if (sub <= 0x0a || sub === 0x5c || sub === 0x5d) return UNARY // loads
  if (sub === 0x0b || (sub >= 0x58 && sub <= 0x5b)) return STORE // v128.store, store lane
  if (sub === 0x0c) return PUSH // v128.const
  if (SIMD_UNARY.has(sub)) return UNARY
  if (SIMD_TERNARY.has(sub)) return TERNARY
  return BINARY // shuffle, swizzle, lane replace and load, compares, arithmetic, shifts
}

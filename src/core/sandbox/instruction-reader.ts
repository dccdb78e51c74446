/**
 * Reading instructions' immediates in untrusted function bodies, for the metering scanner.
 *
 * The scanner must see exactly the instruction boundaries the engine sees: one immediate
 * read with the wrong length would let it mistake operand bytes for opcodes and miss a loop.
 * So only the encodings of the features the sandbox accepts are read here, each to its exact
 * length, and everything else is refused with INVALID_MODULE.
 */
import { ShadwError } from '../errors.ts'
import type { ByteReader } from './wasm-bytes.ts'
import { isValueType, type FuncType } from './wasm-module.ts'

/** Reads a block type; returns how many values it takes and leaves. */
export function blockType (r: ByteReader, types: FuncType[]): { params: number, results: number } {
  const b = r.peek()
  if (b === 0x40) {
    r.pos++
    return { params: 0, results: 0 }
  }
  if (isValueType(b)) {
    r.pos++
    return { params: 0, results: 1 }
  }
  const t = types[r.s33()]
  if (t === undefined) throw ShadwError.INVALID_MODULE('unsupported block type')
  return { params: t.params.length, results: t.results.length }
}

function memarg (r: ByteReader): void {
  const align = r.u32()
  // bit 6 of the alignment announces an explicit memory index (multi-memory)
  if ((align & 0x40) !== 0) throw ShadwError.INVALID_MODULE('multiple memories are not allowed')
  r.u32()
}

function unsupported (what: string): never {
  throw ShadwError.INVALID_MODULE(`unsupported instruction: ${what}`)
}

/**
 * Skips the immediates of every instruction other than the control ones, calls,
 * `memory.grow` and the 0xfc/0xfd prefixes, which the metering scanner reads itself.
 */
export function skipImmediates (r: ByteReader, op: number): void {
  if (op >= 0x45 && op <= 0xc4) return // numeric, conversions, sign extension: no immediates
  if (op >= 0x28 && op <= 0x3e) { memarg(r); return } // loads and stores
  switch (op) {
    case 0x00: case 0x01: case 0x0f: case 0x1a: case 0x1b: case 0xd1:
      return // unreachable nop return drop select ref.is_null
    case 0x10: case 0x12: // call return_call
    case 0x20: case 0x21: case 0x22: case 0x23: case 0x24: // locals and globals
    case 0x25: case 0x26: // table.get table.set
    case 0xd2: // ref.func
      r.u32()
      return
    case 0x11: case 0x13: // call_indirect return_call_indirect: type, table
      r.u32(); r.u32()
      return
    case 0x1c: // select t*
      for (let n = r.u32(); n > 0; n--) {
        if (!isValueType(r.byte())) unsupported('select of a reference type beyond funcref and externref')
      }
      return
    case 0x3f: // memory.size
      if (r.byte() !== 0x00) unsupported('memory.size on another memory')
      return
    case 0x41: r.skipSleb(32); return
    case 0x42: r.skipSleb(64); return
    case 0x43: r.skip(4); return
    case 0x44: r.skip(8); return
    case 0xd0: { // ref.null heaptype
      const t = r.byte()
      if (t !== 0x70 && t !== 0x6f) unsupported('typed function references')
      return
    }
    case 0xfe: unsupported('atomics (threads)')
    // falls through: unsupported() never returns
    case 0x06: case 0x07: case 0x08: case 0x09: case 0x0a: case 0x18: case 0x19: case 0x1f:
      unsupported('exception handling')
    // falls through
    default:
      unsupported(`opcode 0x${op.toString(16)}`)
  }
}

/** Skips an 0xfc-prefixed instruction's immediates; returns its sub-opcode. */
export function prefixFC (r: ByteReader): number {
  const sub = r.u32()
  if (sub <= 7) return sub // saturating truncation
  switch (sub) {
    case 8: r.u32(); if (r.byte() !== 0) unsupported('memory.init on another memory'); return sub
    case 9: r.u32(); return sub // data.drop
    case 10: if (r.byte() !== 0 || r.byte() !== 0) unsupported('memory.copy across memories'); return sub
    case 11: if (r.byte() !== 0) unsupported('memory.fill on another memory'); return sub
    case 12: case 14: r.u32(); r.u32(); return sub // table.init table.copy
    case 13: case 15: case 16: case 17: r.u32(); return sub // elem.drop table.grow table.size table.fill
    default: unsupported(`0xfc ${sub}`)
  }
}

/** Skips an 0xfd-prefixed (SIMD) instruction's immediates; returns its sub-opcode. */
export function prefixFD (r: ByteReader): number {
  const sub = r.u32()
  if (sub <= 11 || sub === 92 || sub === 93) { // v128 loads, stores, load_zero
    memarg(r)
  } else if (sub === 12 || sub === 13) { // v128.const, i8x16.shuffle
    r.skip(16)
  } else if (sub >= 21 && sub <= 34) { // extract/replace lane
    r.byte()
  } else if (sub >= 84 && sub <= 91) { // load/store lane
    memarg(r)
    r.byte()
  } else if (sub > 0x113) { // others up to relaxed SIMD have no immediates
    unsupported(`0xfd ${sub}`)
  }
  return sub
}

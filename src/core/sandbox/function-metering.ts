/**
 * Injects fuel metering into one function body.
 *
 * The body is split into straight-line segments; at the head of each segment the segment's
 * instruction count is subtracted from the fuel. Only function entries and loop headers also
 * test it: every unbounded execution passes one of them (a loop iteration or a call), and
 * between two tests a function can only run a bounded stretch of code. The test traps with
 * `unreachable` when the fuel was already negative *before* this segment's charge: at a
 * segment head every earlier charge has been executed (or refunded), so that means the
 * instructions run so far exceed the limit. The host re-checks the counter after a call
 * returns. Together: a call succeeds exactly when the instructions it executes fit in its
 * fuel, the fuel used is exact, and a runaway call overruns by at most one loop iteration.
 *
 * The fuel lives in a mutable i64 global, but each function works on a copy in a local: the
 * engine keeps a local in a register, so a loop iteration pays a subtract, compare and branch
 * and no memory traffic. The local is loaded from the global on entry and after every call,
 * and stored back before every call and every way out of the function (return, a branch to
 * the function's label, the final `end`, and our own out-of-fuel trap). A trap raised by the
 * module itself leaves the global slightly behind; that only affects calls that failed anyway.
 *
 * Segments start at: function entry, after `loop`, `if`, `else`, after the `end` of an `if`,
 * and after the `end` of a `block` that some branch targets. The `end` of a block no branch
 * targets, and of a loop, is only reached by falling through, so it continues the current
 * segment instead of paying for a new one.
 *
 * Unconditional transfers (`br`, `br_table`, `return`, `unreachable`, tail calls) end their
 * segment, so the dead code after them is never charged. A call does not end its segment:
 * the callee gets the fuel without the part of the caller's segment still to run, and the
 * caller takes it back when the call returns, so a callee's test sees exactly what ran.
 *
 * A `br_if` does not split its segment either: the segment is charged in full up front and
 * the taken branch refunds what it skips (`br_if L` becomes `if; fuel += rest; br L+1; end`).
 * The refund runs only when the branch is taken, usually a loop exit, so a loop whose body
 * is `[test] br_if exit [work] br loop` pays one charge per iteration instead of two, and
 * the fuel used stays exact. Branches that carry values keep the plain split (their values
 * would have to cross the refund block).
 *
 * Bulk operations (`memory.fill/copy/init`, `table.fill/copy/init/grow`) do work in
 * proportion to their length operand, so a constant charge would let one fuel unit buy a
 * whole memory's worth of writes. Before each one the length is taken off the stack and
 * charged too ({@link BULK_MEMORY_SHIFT}, {@link BULK_TABLE_SHIFT}), then tested the way a
 * segment head is: the operation runs only when everything executed so far, itself included,
 * fits in the fuel.
 *
 * Call depth. Engines overflow their native stack at depths that differ by runtime (a small
 * recursive function: about 62,000 frames in a Node worker, 8,000 in a Chromium worker) and
 * by JIT tier, so the same deep call could succeed on one peer and trap on another. Every
 * function therefore adds its frame's size ({@link frameSlots}) to a stack-use global on
 * entry and traps past {@link STACK_BUDGET_SLOTS}, well inside every engine's limit. Exits
 * need no code: after each call the caller writes back its own level, kept in a local, and a
 * tail call first drops the caller's frame; the host zeroes the global before each export.
 */
import { ShadwError } from '../errors.ts'
import { ByteReader, ByteWriter } from './wasm-bytes.ts'
import { blockType, prefixFC, prefixFD, skipImmediates } from './instruction-reader.ts'
import { fcEffect, fdEffect, plainEffect, type StackEffect } from './operand-stack.ts'
import { isValueType, type FuncType } from './wasm-module.ts'

/** What the metering code of one body needs to know about the module. */
export interface MeteringContext {
  /** Index of the fuel global (i64, mutable). */
  fuelGlobal: number
  /** Index of the stack-use global (i32, mutable), in {@link frameSlots} units. */
  stackGlobal: number
  /** Index of the helper that wraps `memory.grow` and flags failure, if any. */
  growHelper: number | undefined
  /** The signature of this function (locals are numbered after its parameters). */
  signature: FuncType
  /** Every type of the module, to read multi-value block types. */
  types: FuncType[]
  /** Type index of every function, imported ones first, for the operands of calls. */
  funcTypes: number[]
}

/** A control frame; `arity` is the number of values a branch to it carries. */
interface Frame {
  kind: 'func' | 'block' | 'loop' | 'if'
  targeted: boolean
  arity: number
  /** Operand stack height below the block (its parameters excluded), and its type. */
  base: number
  params: number
  results: number
}

/**
 * An edit at byte `pos` of the body, applied in order:
 * - `meter`: charge a segment (and test, at entries and loop headers);
 * - `grow`: replace `memory.grow` with a call to the helper;
 * - `refund`: turn a `br_if` into a refunding branch (`exits`: it leaves the function);
 * - `store`: copy the fuel local to the global (before calls and exits);
 * - `load`: copy the global to the local (on entry, after calls);
 * - `bulk`: charge a bulk operation's length operand (`len >> shift`) and test the fuel;
 * - `enter`: add this frame to the stack use and test it (on entry);
 * - `restore`: set the stack use back to this frame's level (after calls);
 * - `leave`: take this frame off the stack use (before tail calls).
 */
type Edit =
  | { kind: 'meter', pos: number, cost: number, check: boolean }
  | { kind: 'grow', pos: number }
  | { kind: 'refund', pos: number, end: number, label: number, exits: boolean, segment: { cost: number }, costSoFar: number }
  | { kind: 'store' | 'load', pos: number, segment?: { cost: number }, costSoFar?: number }
  | { kind: 'bulk', pos: number, shift: number, segment: { cost: number }, costSoFar: number }
  | { kind: 'enter' | 'restore' | 'leave', pos: number }

/** Value type bytes of i64 and i32. */
const I64 = 0x7e
const I32 = 0x7f

/**
 * Bytes of a memory bulk operation per extra fuel unit: 16, what one SIMD load or store
 * moves, so `memory.copy` stays cheaper than a copy loop but never free. A 16 MiB fill costs
 * about a million fuel, in line with the time it takes.
 */
export const BULK_MEMORY_SHIFT = 4
/** Table elements per extra fuel unit for table bulk operations and `table.grow`: one each. */
export const BULK_TABLE_SHIFT = 0

/** Shift of each bulk operation under the 0xfc prefix, by sub-opcode. */
const BULK_SHIFTS: ReadonlyMap<number, number> = new Map([
  [8, BULK_MEMORY_SHIFT], // memory.init
  [10, BULK_MEMORY_SHIFT], // memory.copy
  [11, BULK_MEMORY_SHIFT], // memory.fill
  [12, BULK_TABLE_SHIFT], // table.init
  [14, BULK_TABLE_SHIFT], // table.copy
  [15, BULK_TABLE_SHIFT], // table.grow
  [17, BULK_TABLE_SHIFT] // table.fill
])

/**
 * Stack use allowed to a call, in slots of 8 bytes (512 KiB by our frame model). Measured in
 * a Chromium 156 worker, the smallest engine stack we run on, instrumented recursion
 * overflows after 129,000 model slots of frames holding 200 locals, 197,000 of a
 * one-parameter function and 243,000 of frames holding 100 operands: the budget stops every
 * shape at half the engine's limit or less, so the budget, not the engine, decides.
 */
export const STACK_BUDGET_SLOTS = 65_536
/** Fixed cost of a frame (return address, frame pointer, instance, spill area), in slots. */
export const FRAME_OVERHEAD_SLOTS = 16

/**
 * A frame's size in slots: the fixed part, two per parameter and local (four for v128; V8's
 * baseline compiler was measured to take 16 bytes per i64 local and 32 per v128), our own
 * locals included, and two per operand of the function's highest operand stack (any may be
 * a v128), since engines spill live operands into the frame at a call. Deterministic from
 * the code alone, which is what matters.
 */
export function frameSlots (params: number[], localGroups: Array<[number, number]>, maxOperands: number): number {
  let slots = FRAME_OVERHEAD_SLOTS + 2 * maxOperands
  for (const t of params) slots += t === V128 ? 4 : 2
  for (const [count, type] of localGroups) slots += count * (type === V128 ? 4 : 2)
  return slots
}

/** Value type byte of v128. */
const V128 = 0x7b

/** Locals per function allowed by the spec's implementation limits (V8 uses 50,000). */
const MAX_LOCALS = 50_000

/** Returns the metered body (locals + expression), without its size prefix. */
export function meterFunctionBody (bytes: Uint8Array, start: number, end: number, ctx: MeteringContext): Uint8Array {
  const r = new ByteReader(bytes, start, end)
  const localGroups: Array<[number, number]> = []
  let localCount = 0
  for (let n = r.u32(); n > 0; n--) {
    const count = r.u32()
    const type = r.byte()
    if (!isValueType(type)) throw ShadwError.INVALID_MODULE(`unsupported local type 0x${type.toString(16)}`)
    localCount += count
    if (localCount > MAX_LOCALS) throw ShadwError.INVALID_MODULE('too many locals')
    localGroups.push([count, type])
  }
  const fuelLocal = ctx.signature.params.length + localCount
  // this frame's stack level, written back to the global after every call
  const levelLocal = fuelLocal + 1
  // holds a bulk operation's length while it is charged; declared only where needed
  const lengthLocal = fuelLocal + 2
  const exprStart = r.pos
  const { edits, maxOperands } = scanBody(r, ctx)
  const hasBulk = edits.some(e => e.kind === 'bulk')
  const ours: Array<[number, number]> = [[1, I64], [hasBulk ? 2 : 1, I32]]
  const frame = frameSlots(ctx.signature.params, [...localGroups, ...ours], maxOperands)

  const g = ctx.fuelGlobal
  const sg = ctx.stackGlobal
  const w = new ByteWriter(end - start + edits.length * 32 + 16)
  w.u32(localGroups.length + ours.length)
  for (const [count, type] of [...localGroups, ...ours]) {
    w.u32(count)
    w.byte(type)
  }
  const store = (): void => { w.byte(0x20); w.u32(fuelLocal); w.byte(0x24); w.u32(g) }
  let copied = exprStart
  for (const e of edits) {
    w.bytes(bytes.subarray(copied, e.pos))
    copied = e.pos
    switch (e.kind) {
      case 'grow':
        if (ctx.growHelper === undefined) throw ShadwError.INVALID_MODULE('memory.grow without a memory')
        w.byte(0x10); w.u32(ctx.growHelper)
        copied += 2
        break
      case 'store': { // at a call, hand the callee the fuel as if the rest of the segment were not charged yet
        const pending = e.segment === undefined ? 0 : e.segment.cost - (e.costSoFar as number)
        w.byte(0x20); w.u32(fuelLocal) // local.get
        if (pending > 0) { w.byte(0x42); w.sleb(pending); w.byte(0x7c) } // i64.const; i64.add
        w.byte(0x24); w.u32(g) // global.set
        break
      }
      case 'load': {
        const pending = e.segment === undefined ? 0 : e.segment.cost - (e.costSoFar as number)
        w.byte(0x23); w.u32(g) // global.get
        if (pending > 0) { w.byte(0x42); w.sleb(pending); w.byte(0x7d) } // i64.const; i64.sub
        w.byte(0x21); w.u32(fuelLocal) // local.set
        break
      }
      case 'refund': {
        const refund = e.segment.cost - e.costSoFar
        if (refund === 0) { // nothing after the br_if was charged: keep it as it is
          if (e.exits) store()
          break
        }
        w.byte(0x04); w.byte(0x40) // if (empty block type)
        w.byte(0x20); w.u32(fuelLocal) // local.get
        w.byte(0x42); w.sleb(refund) // i64.const
        w.byte(0x7c) // i64.add
        w.byte(0x21); w.u32(fuelLocal) // local.set
        if (e.exits) store()
        w.byte(0x0c); w.u32(e.label + 1) // br, one level further out from inside the if
        w.byte(0x0b) // end
        copied = e.end
        break
      }
      case 'bulk': {
        w.byte(0x21); w.u32(lengthLocal) // local.set
        w.byte(0x20); w.u32(fuelLocal) // local.get
        w.byte(0x20); w.u32(lengthLocal) // local.get
        w.byte(0xad) // i64.extend_i32_u
        if (e.shift > 0) { w.byte(0x42); w.sleb(e.shift); w.byte(0x88) } // i64.const; i64.shr_u
        w.byte(0x7d) // i64.sub
        w.byte(0x22); w.u32(fuelLocal) // local.tee
        // as at a call: the rest of the segment is charged but has not run yet
        const pending = e.segment.cost - e.costSoFar
        if (pending > 0) { w.byte(0x42); w.sleb(pending); w.byte(0x7c) } // i64.const; i64.add
        w.byte(0x42); w.byte(0x00) // i64.const 0
        w.byte(0x53) // i64.lt_s
        w.byte(0x04); w.byte(0x40) // if
        store()
        w.byte(0x00) // unreachable
        w.byte(0x0b) // end
        w.byte(0x20); w.u32(lengthLocal) // local.get: the operand back in place
        break
      }
      case 'enter':
        w.byte(0x23); w.u32(sg) // global.get
        w.byte(0x41); w.sleb(frame) // i32.const
        w.byte(0x6a) // i32.add
        w.byte(0x22); w.u32(levelLocal) // local.tee
        w.byte(0x24); w.u32(sg) // global.set
        w.byte(0x20); w.u32(levelLocal) // local.get
        w.byte(0x41); w.sleb(STACK_BUDGET_SLOTS) // i32.const
        w.byte(0x4b) // i32.gt_u
        w.byte(0x04); w.byte(0x40) // if
        w.byte(0x00) // unreachable: the host tells it by the global past the budget
        w.byte(0x0b) // end
        break
      case 'restore':
        w.byte(0x20); w.u32(levelLocal) // local.get
        w.byte(0x24); w.u32(sg) // global.set
        break
      case 'leave':
        w.byte(0x20); w.u32(levelLocal) // local.get
        w.byte(0x41); w.sleb(frame) // i32.const
        w.byte(0x6b) // i32.sub
        w.byte(0x24); w.u32(sg) // global.set
        break
      case 'meter':
        if (e.check) {
          // test the fuel before this segment's charge: negative means what already ran
          // exceeded the limit (a compare with 0 is also what engines branch on fastest)
          w.byte(0x20); w.u32(fuelLocal) // local.get
          w.byte(0x42); w.byte(0x00) // i64.const 0
          w.byte(0x53) // i64.lt_s
          w.byte(0x04); w.byte(0x40) // if
          store() // the host tells fuel exhaustion from a module trap by the global
          w.byte(0x00) // unreachable
          w.byte(0x0b) // end
        }
        w.byte(0x20); w.u32(fuelLocal) // local.get
        w.byte(0x42); w.sleb(e.cost) // i64.const
        w.byte(0x7d) // i64.sub
        w.byte(0x21); w.u32(fuelLocal) // local.set
        break
    }
  }
  w.bytes(bytes.subarray(copied, end))
  return w.finish()
}

/**
 * One pass over the expression: segments and their costs, calls, exits, memory.grow, and
 * the highest the operand stack gets (as the engine's validator tracks it: after an
 * unconditional branch the stack drops to its block's base).
 */
function scanBody (r: ByteReader, ctx: MeteringContext): { edits: Edit[], maxOperands: number } {
  // the stack test comes before the first fuel charge, so a frame refused for its stack
  // leaves the fuel global as its caller stored it
  const edits: Edit[] = [{ kind: 'load', pos: r.pos }, { kind: 'enter', pos: r.pos }]
  let segment: Edit & { kind: 'meter' } = { kind: 'meter', pos: r.pos, cost: 0, check: true }
  edits.push(segment)
  const results = ctx.signature.results.length
  const stack: Frame[] = [{ kind: 'func', targeted: false, arity: results, base: 0, params: 0, results }]
  let height = 0
  let maxOperands = 0
  const top = (): Frame => stack[stack.length - 1] as Frame
  const pop = (n: number): void => { height = Math.max(top().base, height - n) }
  const put = (n: number): void => { height += n; if (height > maxOperands) maxOperands = height }
  const apply = (e: StackEffect): void => { pop(e.pops); put(e.pushes) }
  const signatureOf = (typeIndex: number | undefined): FuncType => {
    const t = typeIndex === undefined ? undefined : ctx.types[typeIndex]
    if (t === undefined) throw ShadwError.INVALID_MODULE('call of an unknown function or type')
    return t
  }
  const newSegment = (check: boolean): void => {
    segment = { kind: 'meter', pos: r.pos, cost: 0, check }
    edits.push(segment)
  }
  const target = (depth: number): Frame => {
    const frame = stack[stack.length - 1 - depth]
    if (frame === undefined) throw ShadwError.INVALID_MODULE('branch depth out of range')
    frame.targeted = true
    return frame
  }
  const exits = (depth: number): boolean => depth === stack.length - 1
  const push = (kind: Frame['kind']): void => {
    const t = blockType(r, ctx.types)
    pop(t.params)
    const base = height
    // a branch to a loop restarts it with the loop's parameters; to others, with results
    stack.push({ kind, targeted: false, arity: kind === 'loop' ? t.params : t.results, base, params: t.params, results: t.results })
    put(t.params)
  }
  while (!r.done) {
    const opPos = r.pos
    const op = r.byte()
    segment.cost++
    switch (op) {
      case 0x02: // block
        push('block')
        break
      case 0x03: // loop
        push('loop')
        newSegment(true)
        break
      case 0x04: // if
        pop(1)
        push('if')
        newSegment(false)
        break
      case 0x05: // else
        if (stack[stack.length - 1]?.kind !== 'if') throw ShadwError.INVALID_MODULE('else outside if')
        height = top().base
        put(top().params)
        newSegment(false)
        break
      case 0x0b: { // end
        const frame = stack.pop()
        if (frame === undefined) throw ShadwError.INVALID_MODULE('unbalanced end')
        if (stack.length === 0) {
          if (!r.done) throw ShadwError.INVALID_MODULE('code after the end of a function')
          edits.push({ kind: 'store', pos: opPos })
          return { edits, maxOperands }
        }
        height = frame.base
        put(frame.results)
        if (frame.kind === 'if' || (frame.kind === 'block' && frame.targeted)) newSegment(false)
        break
      }
      case 0x0c: { // br
        const depth = r.u32()
        target(depth)
        if (exits(depth)) edits.push({ kind: 'store', pos: opPos })
        height = top().base
        newSegment(false) // what follows is dead until a branch target: never charge it
        break
      }
      case 0x0d: { // br_if
        const label = r.u32()
        const frame = target(label)
        pop(1)
        if (frame.arity === 0) {
          edits.push({ kind: 'refund', pos: opPos, end: r.pos, label, exits: exits(label), segment, costSoFar: segment.cost })
        } else {
          if (exits(label)) edits.push({ kind: 'store', pos: opPos })
          newSegment(false)
        }
        break
      }
      case 0x0e: { // br_table
        let leaves = false
        for (let n = r.u32() + 1; n > 0; n--) {
          const depth = r.u32()
          target(depth)
          leaves ||= exits(depth)
        }
        if (leaves) edits.push({ kind: 'store', pos: opPos })
        height = top().base
        newSegment(false)
        break
      }
      case 0x0f: // return
        edits.push({ kind: 'store', pos: opPos })
        height = top().base
        newSegment(false)
        break
      case 0x00: // unreachable
        height = top().base
        newSegment(false)
        break
      case 0x10: case 0x11: { // call, call_indirect: the callee reads and writes the global
        const costSoFar = segment.cost
        edits.push({ kind: 'store', pos: opPos, segment, costSoFar })
        const callee = op === 0x10 ? signatureOf(ctx.funcTypes[r.u32()]) : signatureOf(r.u32())
        if (op === 0x11) { r.u32(); pop(1) } // the table, and the index into it
        pop(callee.params.length)
        put(callee.results.length)
        edits.push({ kind: 'load', pos: r.pos, segment, costSoFar })
        edits.push({ kind: 'restore', pos: r.pos })
        break
      }
      case 0x12: case 0x13: // return_call, return_call_indirect: leave, then call
        edits.push({ kind: 'store', pos: opPos })
        edits.push({ kind: 'leave', pos: opPos })
        skipImmediates(r, op)
        height = top().base
        newSegment(false)
        break
      case 0x40: // memory.grow
        if (r.byte() !== 0x00) throw ShadwError.INVALID_MODULE('multiple memories are not allowed')
        edits.push({ kind: 'grow', pos: opPos })
        break
      case 0xfc: {
        const sub = prefixFC(r)
        const shift = BULK_SHIFTS.get(sub)
        if (shift !== undefined) edits.push({ kind: 'bulk', pos: opPos, shift, segment, costSoFar: segment.cost })
        apply(fcEffect(sub))
        break
      }
      case 0xfd:
        apply(fdEffect(prefixFD(r)))
        break
      default:
        skipImmediates(r, op)
        apply(plainEffect(op))
    }
  }
  throw ShadwError.INVALID_MODULE('function body without end')
}

/**
 * Rewrites an untrusted module into the form the sandbox runs: fuel-metered, memory-capped,
 * with its start function deferred until the host has set the fuel.
 *
 * Function, global and type indices of the original module never move: the fuel,
 * out-of-memory and stack-use globals, the `memory.grow` helper and its type are all
 * appended after the module's own, so no instruction other than `memory.grow` needs
 * renumbering.
 */
import { ShadwError } from '../errors.ts'
import { ByteWriter } from './wasm-bytes.ts'
import { meterFunctionBody } from './function-metering.ts'
import { parseModule, SECTION, SECTION_ORDER, type Limits, type ParsedModule } from './wasm-module.ts'

/** Export name of the i64 fuel counter the host sets before and reads after a call. */
export const FUEL_EXPORT = '__shadw_fuel'
/** Export name of the i32 flag set when `memory.grow` failed against the cap. */
export const OOM_EXPORT = '__shadw_oom'
/** Export name of the i32 stack-use global the host zeroes before each export it calls. */
export const STACK_EXPORT = '__shadw_stack'
/** Export name under which the module's start function is exposed, run after fuel is set. */
export const START_EXPORT = '__shadw_start'
/**
 * A defined memory becomes an import of this name, so the host creates every memory: it can
 * then hand a zeroed, recycled memory to the next call instead of allocating one (allocating
 * a linear memory is most of the cost of a small call).
 */
export const MEMORY_IMPORT = { module: '__shadw', name: 'memory' } as const
/** Exports with this prefix are ours; a module that defines one is refused. */
export const RESERVED_PREFIX = '__shadw_'

/**
 * Table size cap. Tables live outside linear memory, so without a cap `table.grow` would be
 * a memory bomb the page cap cannot see (V8 allows 10 million entries). Real programs'
 * function tables hold at most tens of thousands of entries.
 */
export const MAX_TABLE_ELEMENTS = 100_000

/** The hard ceiling of 32-bit linear memory: 65,536 pages of 64 KiB = 4 GiB. */
export const MAX_WASM_PAGES = 65_536

/** What the host needs to know to instantiate the rewritten module. */
export interface InstrumentedModule {
  bytes: Uint8Array
  parsed: ParsedModule
  /** The module's memory, always imported now: the host creates it with these limits. */
  importedMemory: { module: string, name: string, initial: number, maximum: number } | undefined
  /** True when the module has a start function, exported as {@link START_EXPORT}. */
  hasStart: boolean
}

/** Caps memory limits at `capPages`; an initial size above the cap is refused. */
function capLimits (limits: Limits, capPages: number): Limits {
  if (limits.min > capPages) {
    throw ShadwError.MEMORY_LIMIT(`module needs ${limits.min} pages initially, cap is ${capPages}`, { initial: limits.min, cap: capPages })
  }
  return { min: limits.min, max: Math.min(limits.max ?? MAX_WASM_PAGES, capPages) }
}

function writeLimits (w: ByteWriter, l: Limits): void {
  w.byte(0x01)
  w.u32(l.min)
  w.u32(l.max ?? l.min)
}

/**
 * Meters and caps a module. Throws INVALID_MODULE for malformed or refused modules and
 * MEMORY_LIMIT when its initial memory exceeds `memoryPages`.
 */
export function instrumentModule (bytes: Uint8Array, memoryPages: number): InstrumentedModule {
  if (!Number.isInteger(memoryPages) || memoryPages < 0 || memoryPages > MAX_WASM_PAGES) {
    throw ShadwError.INVALID_ARGUMENT(`memory cap must be 0..${MAX_WASM_PAGES} pages, got ${memoryPages}`)
  }
  const m = parseModule(bytes)
  for (const e of m.exports) {
    if (e.name.startsWith(RESERVED_PREFIX)) throw ShadwError.INVALID_MODULE(`export name ${e.name} is reserved`)
  }
  const memImport = m.imports.find(i => i.kind === 'memory')
  const hasMemory = memImport !== undefined || m.memory !== undefined
  const fuelGlobal = m.importedGlobalCount + m.definedGlobalCount
  const oomGlobal = fuelGlobal + 1
  const stackGlobal = fuelGlobal + 2
  const helperType = m.types.length
  const helperFunc = m.funcTypes.length
  const replaced = new Map<number, Uint8Array>()
  const payload = (id: number): Uint8Array | undefined => {
    const s = m.sections.find(x => x.id === id)
    return s === undefined ? undefined : bytes.subarray(s.start, s.end)
  }
  // appends entries to a vector section: new count, then the old entries, then ours
  const extend = (id: number, oldCount: number, extra: number, write: (w: ByteWriter) => void): void => {
    const old = payload(id)
    const w = new ByteWriter((old?.length ?? 0) + 64)
    w.u32(oldCount + extra)
    if (old !== undefined) {
      const r = skipCount(old)
      w.bytes(old.subarray(r))
    }
    write(w)
    replaced.set(id, w.finish())
  }

  let importedMemory: InstrumentedModule['importedMemory']
  if (memImport !== undefined) {
    const capped = capLimits(memImport.limits as Limits, memoryPages)
    importedMemory = { module: memImport.module, name: memImport.name, initial: capped.min, maximum: capped.max as number }
    const sec = m.sections.find(s => s.id === SECTION.import)
    if (sec === undefined) throw ShadwError.INTERNAL('import section vanished')
    const w = new ByteWriter(sec.end - sec.start + 16)
    w.bytes(bytes.subarray(sec.start, memImport.limitsStart))
    writeLimits(w, capped)
    w.bytes(bytes.subarray(memImport.limitsEnd, sec.end))
    replaced.set(SECTION.import, w.finish())
  }
  if (m.tables.length > 0) {
    const w = new ByteWriter(16 * m.tables.length)
    w.u32(m.tables.length)
    for (const t of m.tables) {
      if (t.limits.min > MAX_TABLE_ELEMENTS) throw ShadwError.INVALID_MODULE(`table of ${t.limits.min} elements exceeds ${MAX_TABLE_ELEMENTS}`)
      w.byte(t.refType)
      writeLimits(w, { min: t.limits.min, max: Math.min(t.limits.max ?? MAX_TABLE_ELEMENTS, MAX_TABLE_ELEMENTS) })
    }
    replaced.set(SECTION.table, w.finish())
  }
  if (m.memory !== undefined) {
    const capped = capLimits(m.memory.limits, memoryPages)
    importedMemory = { ...MEMORY_IMPORT, initial: capped.min, maximum: capped.max as number }
    // the memory keeps index 0: it is the only one, and imports precede definitions
    extend(SECTION.import, m.imports.length, 1, w => {
      w.name(MEMORY_IMPORT.module)
      w.name(MEMORY_IMPORT.name)
      w.byte(0x02)
      writeLimits(w, capped)
    })
    replaced.set(SECTION.memory, DROP)
  }
  if (hasMemory) {
    extend(SECTION.type, m.types.length, 1, w => { w.byte(0x60); w.u32(1); w.byte(0x7f); w.u32(1); w.byte(0x7f) })
    extend(SECTION.function, m.funcTypes.length - m.importedFuncCount, 1, w => w.u32(helperType))
  }
  extend(SECTION.global, m.definedGlobalCount, 3, w => {
    w.bytes(Uint8Array.of(0x7e, 0x01, 0x42, 0x00, 0x0b)) // fuel: mut i64 = i64.const 0
    w.bytes(Uint8Array.of(0x7f, 0x01, 0x41, 0x00, 0x0b)) // oom: mut i32 = i32.const 0
    w.bytes(Uint8Array.of(0x7f, 0x01, 0x41, 0x00, 0x0b)) // stack: mut i32 = i32.const 0
  })
  const hasStart = m.start !== undefined
  extend(SECTION.export, m.exports.length, hasStart ? 4 : 3, w => {
    w.name(FUEL_EXPORT); w.byte(0x03); w.u32(fuelGlobal)
    w.name(OOM_EXPORT); w.byte(0x03); w.u32(oomGlobal)
    w.name(STACK_EXPORT); w.byte(0x03); w.u32(stackGlobal)
    if (m.start !== undefined) { w.name(START_EXPORT); w.byte(0x00); w.u32(m.start) }
  })

  const code = new ByteWriter(bytes.length + 1024)
  code.u32(m.bodies.length + (hasMemory ? 1 : 0))
  m.bodies.forEach((b, i) => {
    const signature = m.types[m.funcTypes[m.importedFuncCount + i] as number]
    if (signature === undefined) throw ShadwError.INVALID_MODULE('function without a type')
    const body = meterFunctionBody(bytes, b.start, b.end, {
      fuelGlobal,
      stackGlobal,
      growHelper: hasMemory ? helperFunc : undefined,
      signature,
      types: m.types,
      funcTypes: m.funcTypes
    })
    code.u32(body.length)
    code.bytes(body)
  })
  if (hasMemory) {
    const helper = growHelperBody(oomGlobal)
    code.u32(helper.length)
    code.bytes(helper)
  }
  replaced.set(SECTION.code, code.finish())

  return { bytes: assemble(m, replaced), parsed: m, importedMemory, hasStart }
}

/** `(func (param i32) (result i32))` growing memory, flagging and trapping on failure. */
function growHelperBody (oomGlobal: number): Uint8Array {
  const w = new ByteWriter(32)
  w.bytes(Uint8Array.of(0x01, 0x01, 0x7f)) // one i32 local
  w.bytes(Uint8Array.of(0x20, 0x00, 0x40, 0x00, 0x22, 0x01)) // local.get 0; memory.grow; local.tee 1
  w.bytes(Uint8Array.of(0x41, 0x7f, 0x46, 0x04, 0x40)) // i32.const -1; i32.eq; if
  w.bytes(Uint8Array.of(0x41, 0x01, 0x24)) // i32.const 1; global.set
  w.u32(oomGlobal)
  w.bytes(Uint8Array.of(0x00, 0x0b, 0x20, 0x01, 0x0b)) // unreachable; end; local.get 1; end
  return w.finish()
}

/** Marks a section to leave out of the rewritten module. */
const DROP = new Uint8Array(0)

/** Byte length of the LEB count that opens a vector section. */
function skipCount (payload: Uint8Array): number {
  let i = 0
  while (i < payload.length && ((payload[i] as number) & 0x80) !== 0) i++
  return i + 1
}

/** Writes the module: original sections in order, replaced payloads, new ones in place. */
function assemble (m: ParsedModule, replaced: Map<number, Uint8Array>): Uint8Array {
  const out = new ByteWriter(m.bytes.length + 4096)
  out.bytes(m.bytes.subarray(0, 8))
  const pending = new Map(replaced)
  const emit = (id: number, body: Uint8Array): void => {
    out.byte(id)
    out.u32(body.length)
    out.bytes(body)
  }
  const flushBefore = (rank: number): void => {
    for (const id of SECTION_ORDER.slice(0, rank)) {
      const p = pending.get(id)
      if (p !== undefined && !m.sections.some(s => s.id === id)) {
        emit(id, p)
        pending.delete(id)
      }
    }
  }
  for (const s of m.sections) {
    if (s.id === SECTION.start) continue // deferred: exported as START_EXPORT instead
    if (s.id !== SECTION.custom) flushBefore(SECTION_ORDER.indexOf(s.id))
    const p = pending.get(s.id)
    if (p !== undefined && s.id !== SECTION.custom) {
      if (p !== DROP) emit(s.id, p)
      pending.delete(s.id)
    } else {
      emit(s.id, m.bytes.subarray(s.start, s.end))
    }
  }
  flushBefore(SECTION_ORDER.length)
  return out.finish()
}

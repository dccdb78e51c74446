/**
 * Parses the module-level structure of a WebAssembly binary: sections, types, imports,
 * exports, memories and the start function. Function bodies are left as byte ranges for
 * {@link meterFunctionBody}.
 *
 * Only the features the sandbox supports are accepted (MVP plus mutable globals, sign
 * extension, saturating truncation, multi-value, bulk memory, reference types, SIMD and tail
 * calls). Shared memory, memory64, multiple memories, exception handling and GC types are
 * refused with INVALID_MODULE.
 */
import { ShadwError } from '../errors.ts'
import { ByteReader } from './wasm-bytes.ts'

/** `\0asm` followed by binary format version 1. */
const PREAMBLE = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00]

/** Section ids from the core spec, §5.5.2. */
export const SECTION = {
  custom: 0,
  type: 1,
  import: 2,
  function: 3,
  table: 4,
  memory: 5,
  global: 6,
  export: 7,
  start: 8,
  element: 9,
  code: 10,
  data: 11,
  dataCount: 12,
  tag: 13
} as const

/** The order non-custom sections must appear in (§5.5.2; data count precedes code). */
export const SECTION_ORDER: readonly number[] = [1, 2, 3, 4, 5, 13, 6, 7, 8, 9, 12, 10, 11]

/**
 * Value type bytes the sandbox accepts: i32 i64 f32 f64 v128 funcref externref. Every one is
 * a single byte; GC reference types (`0x63`/`0x64` + heap type) are longer, and a scanner
 * that read them as one byte would lose its place in the code (see {@link isValueType}).
 */
const VALUE_TYPES: ReadonlySet<number> = new Set([0x7f, 0x7e, 0x7d, 0x7c, 0x7b, 0x70, 0x6f])

/**
 * True for a one-byte value type the sandbox accepts. Every type byte in code (locals,
 * `select t*`) must pass it: browsers with GC validate multi-byte reference types, and the
 * metering scanner must never read such a type's heap-type byte as an opcode.
 */
export function isValueType (b: number): boolean {
  return VALUE_TYPES.has(b)
}

/** A function signature. */
export interface FuncType { params: number[], results: number[] }

/** Memory limits in 64 KiB pages. */
export interface Limits { min: number, max: number | undefined }

/** One import entry. */
export interface ImportEntry {
  module: string
  name: string
  kind: 'func' | 'table' | 'memory' | 'global'
  /** For functions: the type index. */
  typeIndex?: number
  /** For memories: the limits and where the limits bytes sit, for rewriting. */
  limits?: Limits
  limitsStart?: number
  limitsEnd?: number
}

/** One export entry. */
export interface ExportEntry { name: string, kind: 'func' | 'table' | 'memory' | 'global', index: number }

/** A raw section: id and payload bounds within the module bytes. */
export interface RawSection { id: number, start: number, end: number }

/** The parsed shape of a module. */
export interface ParsedModule {
  bytes: Uint8Array
  sections: RawSection[]
  types: FuncType[]
  imports: ImportEntry[]
  /** Type index of every function, imported ones first. */
  funcTypes: number[]
  importedFuncCount: number
  importedGlobalCount: number
  definedGlobalCount: number
  /** Limits of the defined memory, with their byte range in the memory section. */
  memory: { limits: Limits, limitsStart: number, limitsEnd: number } | undefined
  /** Defined tables: element type and limits. */
  tables: Array<{ refType: number, limits: Limits }>
  exports: ExportEntry[]
  start: number | undefined
  /** Byte ranges [start, end) of each function body (after its size prefix). */
  bodies: Array<{ start: number, end: number }>
}

const KINDS = ['func', 'table', 'memory', 'global'] as const

/** Reads limits; refuses shared memory (flag bit 1) and 64-bit indices (flag bit 2). */
export function readLimits (r: ByteReader, what: string): Limits {
  const flags = r.byte()
  if ((flags & 0x02) !== 0) throw ShadwError.INVALID_MODULE(`shared ${what} is not allowed`)
  if ((flags & 0x04) !== 0) throw ShadwError.INVALID_MODULE(`64-bit ${what} is not allowed`)
  if (flags > 0x01) throw ShadwError.INVALID_MODULE(`unknown ${what} limits flags 0x${flags.toString(16)}`)
  const min = r.u32()
  const max = (flags & 0x01) !== 0 ? r.u32() : undefined
  if (max !== undefined && max < min) throw ShadwError.INVALID_MODULE(`${what} maximum below minimum`)
  return { min, max }
}

function valueType (r: ByteReader): number {
  const t = r.byte()
  if (!VALUE_TYPES.has(t)) throw ShadwError.INVALID_MODULE(`unsupported value type 0x${t.toString(16)}`)
  return t
}

/** Parses the module structure; throws INVALID_MODULE on anything malformed or refused. */
export function parseModule (bytes: Uint8Array): ParsedModule {
  if (bytes.length < 8 || PREAMBLE.some((b, i) => bytes[i] !== b)) {
    throw ShadwError.INVALID_MODULE('not a WebAssembly binary (bad magic or version)')
  }
  const m: ParsedModule = {
    bytes,
    sections: [],
    types: [],
    imports: [],
    funcTypes: [],
    importedFuncCount: 0,
    importedGlobalCount: 0,
    definedGlobalCount: 0,
    memory: undefined,
    tables: [],
    exports: [],
    start: undefined,
    bodies: []
  }
  const r = new ByteReader(bytes, 8)
  let lastRank = -1
  let memories = 0
  let definedFuncCount = 0
  while (!r.done) {
    const id = r.byte()
    const size = r.u32()
    const start = r.pos
    r.skip(size)
    const end = r.pos
    m.sections.push({ id, start, end })
    if (id === SECTION.custom) continue
    const rank = SECTION_ORDER.indexOf(id)
    if (rank < 0) throw ShadwError.INVALID_MODULE(`unknown section id ${id}`)
    if (rank <= lastRank) throw ShadwError.INVALID_MODULE(`section ${id} out of order or repeated`)
    lastRank = rank
    const s = new ByteReader(bytes, start, end)
    switch (id) {
      case SECTION.type: {
        const n = s.u32()
        for (let i = 0; i < n; i++) {
          const form = s.byte()
          if (form !== 0x60) throw ShadwError.INVALID_MODULE(`unsupported type form 0x${form.toString(16)} (GC types)`)
          const params: number[] = []
          const results: number[] = []
          for (let k = s.u32(); k > 0; k--) params.push(valueType(s))
          for (let k = s.u32(); k > 0; k--) results.push(valueType(s))
          m.types.push({ params, results })
        }
        break
      }
      case SECTION.import: {
        const n = s.u32()
        for (let i = 0; i < n; i++) {
          const module = s.name()
          const name = s.name()
          const kindByte = s.byte()
          const kind = KINDS[kindByte]
          if (kind === undefined) throw ShadwError.INVALID_MODULE(`unsupported import kind ${kindByte} for ${module}.${name}`)
          const entry: ImportEntry = { module, name, kind }
          if (kind === 'func') {
            entry.typeIndex = s.u32()
            m.funcTypes.push(entry.typeIndex)
            m.importedFuncCount++
          } else if (kind === 'table') {
            valueType(s)
            readLimits(s, 'table')
          } else if (kind === 'memory') {
            entry.limitsStart = s.pos
            entry.limits = readLimits(s, 'memory')
            entry.limitsEnd = s.pos
            memories++
          } else {
            valueType(s)
            s.byte()
            m.importedGlobalCount++
          }
          m.imports.push(entry)
        }
        break
      }
      case SECTION.function: {
        const n = s.u32()
        definedFuncCount = n
        for (let i = 0; i < n; i++) m.funcTypes.push(s.u32())
        break
      }
      case SECTION.table: {
        for (let n = s.u32(); n > 0; n--) {
          const refType = valueType(s)
          if (refType !== 0x70 && refType !== 0x6f) throw ShadwError.INVALID_MODULE('table of a non-reference type')
          m.tables.push({ refType, limits: readLimits(s, 'table') })
        }
        break
      }
      case SECTION.memory: {
        const n = s.u32()
        for (let i = 0; i < n; i++) {
          const limitsStart = s.pos
          const limits = readLimits(s, 'memory')
          m.memory = { limits, limitsStart, limitsEnd: s.pos }
          memories++
        }
        break
      }
      case SECTION.tag:
        throw ShadwError.INVALID_MODULE('exception handling is not supported')
      case SECTION.global:
        m.definedGlobalCount = s.u32()
        break
      case SECTION.export: {
        const n = s.u32()
        for (let i = 0; i < n; i++) {
          const name = s.name()
          const kindByte = s.byte()
          const kind = KINDS[kindByte]
          if (kind === undefined) throw ShadwError.INVALID_MODULE(`unsupported export kind ${kindByte}`)
          m.exports.push({ name, kind, index: s.u32() })
        }
        break
      }
      case SECTION.start:
        m.start = s.u32()
        break
      case SECTION.code: {
        const n = s.u32()
        if (n !== definedFuncCount) throw ShadwError.INVALID_MODULE('function and code section counts differ')
        for (let i = 0; i < n; i++) {
          const len = s.u32()
          const bodyStart = s.pos
          s.skip(len)
          m.bodies.push({ start: bodyStart, end: s.pos })
        }
        break
      }
      default:
        break
    }
  }
  if (memories > 1) throw ShadwError.INVALID_MODULE('multiple memories are not allowed')
  if (m.bodies.length !== definedFuncCount) throw ShadwError.INVALID_MODULE('function and code section counts differ')
  for (const t of m.funcTypes) {
    if (m.types[t] === undefined) throw ShadwError.INVALID_MODULE(`function type index ${t} out of range`)
  }
  return m
}

/** The signature of function `index`, or undefined when out of range. */
export function funcSignature (m: ParsedModule, index: number): FuncType | undefined {
  const t = m.funcTypes[index]
  return t === undefined ? undefined : m.types[t]
}

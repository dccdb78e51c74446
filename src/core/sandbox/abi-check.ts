/**
 * Checks a parsed module against the ABI it is to be run with, before anything runs:
 * only the imports the ABI provides, and the exports it calls with the right signatures.
 */
import { ShadwError } from '../errors.ts'
import type { Abi } from './executor.ts'
import { funcSignature, type FuncType, type ParsedModule } from './wasm-module.ts'
import { WASI_FUNCTIONS, WASI_MODULE } from './wasi-abi.ts'

const I32 = 0x7f
const I64 = 0x7e

/** Raw ABI exports: `alloc(len: i32) -> i32` and `run(ptr: i32, len: i32) -> i64`. */
const RAW_EXPORTS: Record<string, FuncType> = {
  alloc: { params: [I32], results: [I32] },
  run: { params: [I32, I32], results: [I64] }
}
/** WASI command modules export `_start: () -> ()`. */
const WASI_EXPORTS: Record<string, FuncType> = {
  _start: { params: [], results: [] }
}

function sameType (a: FuncType, b: FuncType): boolean {
  return a.params.length === b.params.length && a.results.length === b.results.length &&
    a.params.every((t, i) => t === b.params[i]) && a.results.every((t, i) => t === b.results[i])
}

/** Throws ABI_MISMATCH naming the first import or export that does not fit `abi`. */
export function checkAbi (m: ParsedModule, abi: Abi): void {
  for (const imp of m.imports) {
    const ok = imp.kind === 'memory' ||
      (abi === 'wasi' && imp.kind === 'func' && imp.module === WASI_MODULE && WASI_FUNCTIONS.has(imp.name))
    if (!ok) {
      throw ShadwError.ABI_MISMATCH(`import ${imp.module}.${imp.name} (${imp.kind}) is not provided by the ${abi} ABI`, { import: `${imp.module}.${imp.name}` })
    }
  }
  const hasMemory = m.memory !== undefined || m.imports.some(i => i.kind === 'memory')
  if (!hasMemory) throw ShadwError.ABI_MISMATCH('module has no linear memory')
  if (m.memory !== undefined && !m.exports.some(e => e.kind === 'memory' && e.name === 'memory')) {
    throw ShadwError.ABI_MISMATCH('module must export its memory as "memory"', { export: 'memory' })
  }
  const wanted = abi === 'raw' ? RAW_EXPORTS : WASI_EXPORTS
  for (const [name, type] of Object.entries(wanted)) {
    const e = m.exports.find(x => x.name === name)
    const sig = e?.kind === 'func' ? funcSignature(m, e.index) : undefined
    if (sig === undefined) throw ShadwError.ABI_MISMATCH(`missing function export ${name}`, { export: name })
    if (!sameType(sig, type)) throw ShadwError.ABI_MISMATCH(`export ${name} has the wrong signature`, { export: name })
  }
}

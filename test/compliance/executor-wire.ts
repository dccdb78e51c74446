/**
 * A JSON-safe form of executor calls and outcomes, so one compliance suite can drive an
 * executor in this process or inside Chromium through `page.evaluate`.
 */
import type { Abi, ExecuteCall, ExecutionLimits, Executor, TreeEntry } from '../../src/core/sandbox/index.ts'

/** A call with its bytes as base64. */
export interface WireCall {
  module: string
  abi: Abi
  input?: string
  args?: string[]
  seed?: number
  limits?: Partial<ExecutionLimits>
  preopens?: Array<{ guest: string, tree: WireTree }>
  scratchBytes?: number
}

/** A directory tree with its files' bytes as base64. */
export type WireTree =
  | { kind: 'file', data: string }
  | { kind: 'dir', entries: Record<string, WireTree> }
  | { kind: 'symlink', target: string }

function toTree (w: WireTree): TreeEntry {
  if (w.kind === 'file') return { kind: 'file', data: fromBase64(w.data) }
  if (w.kind === 'symlink') return w
  return { kind: 'dir', entries: Object.fromEntries(Object.entries(w.entries).map(([k, v]) => [k, toTree(v)])) }
}

/** What came back: output as base64, or the error code. */
export type Outcome =
  | { ok: true, output: string, fuelUsed: number, exitCode: number }
  | { ok: false, code: string, message: string }

/** Pools the suite uses: `default` (2 workers) and `tiny` (1 worker, queue of 1). */
export type PoolName = 'default' | 'tiny'

/** Pool options by name, identical for every executor. */
export const POOLS: Record<PoolName, { size: number, maxQueue: number }> = {
  default: { size: 2, maxQueue: 64 },
  tiny: { size: 1, maxQueue: 1 }
}

export function toBase64 (bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(s)
}

export function fromBase64 (b64: string): Uint8Array {
  const s = atob(b64)
  const out = new Uint8Array(s.length)
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i)
  return out
}

// the same module string must map to the same array, so pools hash each module once
const modules = new Map<string, Uint8Array>()

function toCall (w: WireCall): ExecuteCall {
  let module = modules.get(w.module)
  if (module === undefined) { module = fromBase64(w.module); modules.set(w.module, module) }
  const call: ExecuteCall = { module, abi: w.abi }
  if (w.input !== undefined) call.input = fromBase64(w.input)
  if (w.args !== undefined) call.args = w.args
  if (w.seed !== undefined) call.seed = w.seed
  if (w.limits !== undefined) call.limits = w.limits
  if (w.preopens !== undefined) call.preopens = w.preopens.map(p => ({ guest: p.guest, tree: toTree(p.tree) }))
  if (w.scratchBytes !== undefined) call.scratchBytes = w.scratchBytes
  return call
}

/** Runs calls concurrently on `executor`; outcomes in call order. */
export async function runWireCalls (executor: Executor, calls: WireCall[]): Promise<Outcome[]> {
  return await Promise.all(calls.map(async (w): Promise<Outcome> => {
    try {
      const r = await executor.execute(toCall(w))
      return { ok: true, output: toBase64(r.output), fuelUsed: r.fuelUsed, exitCode: r.exitCode }
    } catch (err) {
      const e = err as { code?: unknown, message?: unknown }
      return { ok: false, code: String(e.code), message: String(e.message) }
    }
  }))
}

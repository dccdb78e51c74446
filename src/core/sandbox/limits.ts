/**
 * Default limits and their validation. Limits come from manifests, CLI flags and peers, so
 * each is checked to be a finite non-negative integer within a hard ceiling.
 */
import { ShadwError } from '../errors.ts'
import type { ExecutionLimits } from './executor.ts'
import { MAX_WASM_PAGES } from './instrument.ts'

/** About a second of tight-loop work on a laptop: generous for a function call. */
export const DEFAULT_FUEL = 1_000_000_000
/** 16 MiB: enough for typical C/Rust functions, small enough for many in one tab. */
export const DEFAULT_MEMORY_PAGES = 256
/** Calls are expected to return in milliseconds; five seconds means something is wrong. */
export const DEFAULT_DEADLINE_MS = 5_000
/** 4 MiB in and out keeps a call's copies across the worker boundary cheap. */
export const DEFAULT_MAX_INPUT_BYTES = 4 * 1024 * 1024
export const DEFAULT_MAX_OUTPUT_BYTES = 4 * 1024 * 1024
/** Fuel is counted in an i64 but reported as a JS number: keep it exactly representable. */
export const MAX_FUEL = Number.MAX_SAFE_INTEGER
/** setTimeout clamps larger delays to 1 ms: 2^31 - 1 is the longest honest deadline. */
export const MAX_DEADLINE_MS = 2_147_483_647
/** Input and output live in 32-bit linear memory. */
export const MAX_IO_BYTES = 2 ** 31

/** Largest module accepted: far above real functions, small enough to instrument quickly. */
export const MAX_MODULE_BYTES = 32 * 1024 * 1024

/** The limits applied when a call sets none. */
export const DEFAULT_LIMITS: Readonly<ExecutionLimits> = Object.freeze({
  fuel: DEFAULT_FUEL,
  memoryPages: DEFAULT_MEMORY_PAGES,
  deadlineMs: DEFAULT_DEADLINE_MS,
  maxInputBytes: DEFAULT_MAX_INPUT_BYTES,
  maxOutputBytes: DEFAULT_MAX_OUTPUT_BYTES
})

const CEILINGS: Record<keyof ExecutionLimits, number> = {
  fuel: MAX_FUEL,
  memoryPages: MAX_WASM_PAGES,
  deadlineMs: MAX_DEADLINE_MS,
  maxInputBytes: MAX_IO_BYTES,
  maxOutputBytes: MAX_IO_BYTES
}

/** Fills defaults and validates; throws INVALID_ARGUMENT naming the bad field. */
export function resolveLimits (partial: Partial<ExecutionLimits> | undefined, base: Readonly<ExecutionLimits> = DEFAULT_LIMITS): ExecutionLimits {
  const out = { ...base }
  if (partial === undefined) return out
  if (typeof partial !== 'object' || partial === null) throw ShadwError.INVALID_ARGUMENT('limits must be an object')
  for (const key of Object.keys(CEILINGS) as Array<keyof ExecutionLimits>) {
    const v = partial[key]
    if (v === undefined) continue
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > CEILINGS[key]) {
      throw ShadwError.INVALID_ARGUMENT(`limits.${key} must be an integer in 0..${CEILINGS[key]}`, { field: key })
    }
    out[key] = v
  }
  return out
}

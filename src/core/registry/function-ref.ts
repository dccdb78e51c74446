/**
 * Function references: `<publisher-key>/<name>@<range>`, where the range is a semver range
 * (`^1`, `~1.2`, `1.2.3`, `>=1 <3`, `*`) that resolves to the highest matching version
 * not yanked. The range may be left out (`<key>/<name>` means `*`).
 */
import semver from 'semver'
import { ShadwError } from '../errors.ts'
import { NAME_PATTERN } from './manifest.ts'
import { describeValue } from '../describe.ts'
import { HEX_KEY_PATTERN } from '../hex.ts'

/** A range longer than this is refused (it would only ever be abuse). */
export const MAX_RANGE_LENGTH = 128

/**
 * Parsed ranges by their text: a caller names the same few ranges call after call, and
 * parsing one (semver's Range) cost more per call than the rest of the reference's checks.
 */
const RANGES = new Map<string, semver.Range | null>()
const MAX_CACHED_RANGES = 256

/** `range` parsed (null: not a semver range), from {@link RANGES} when seen before. */
function parsedRange (range: string): semver.Range | null {
  let r = RANGES.get(range)
  if (r === undefined) {
    try { r = new semver.Range(range) } catch { r = null }
    if (RANGES.size >= MAX_CACHED_RANGES) RANGES.clear()
    RANGES.set(range, r)
  }
  return r
}

/** A parsed reference. */
export interface FunctionRef {
  /** publisher key = registry key, hex */
  publisher: string
  name: string
  /** the semver range as written (`*` when omitted) */
  range: string
}

const REF = new RegExp(`^(${HEX_KEY_PATTERN})/([^@/]+)(?:@(.+))?$`)
/** A full reference, as opposed to an alias: it starts with a publisher key. */
const KEY_PREFIXED = new RegExp(`^${HEX_KEY_PATTERN}/`)

/** Parses a reference; throws INVALID_FUNCTION_REF with the reason. */
export function parseFunctionRef (input: unknown): FunctionRef {
  if (typeof input !== 'string') throw ShadwError.INVALID_FUNCTION_REF(describeValue(input))
  const m = REF.exec(input.trim())
  if (m === null) throw ShadwError.INVALID_FUNCTION_REF(input)
  const [, publisher, name, range = '*'] = m as unknown as [string, string, string, string | undefined]
  if (!NAME_PATTERN.test(name)) throw ShadwError.INVALID_FUNCTION_REF(input, `name must match ${String(NAME_PATTERN)}`)
  if (range.length > MAX_RANGE_LENGTH || parsedRange(range) === null) throw ShadwError.INVALID_FUNCTION_REF(input, 'range is not a semver range')
  return { publisher, name, range }
}

/** Formats a reference (`<key>/<name>@<range>`). */
export function formatFunctionRef (ref: FunctionRef): string {
  return `${ref.publisher}/${ref.name}@${ref.range}`
}

/**
 * The highest version in `versions` satisfying `range`, skipping `yanked` ones; null when
 * none does. Pre-releases match only ranges that name them (semver's rule).
 */
export function resolveRange (versions: Iterable<string>, range: string, yanked: ReadonlySet<string> = new Set()): string | null {
  const candidates = [...versions].filter(v => !yanked.has(v) && semver.valid(v) !== null)
  return semver.maxSatisfying(candidates, range)
}

/** True when `version` is a valid version that `range` allows (what {@link resolveRange} of that one version tells). */
export function satisfiesRange (version: string, range: string): boolean {
  let byVersion = VERDICTS.get(range)
  if (byVersion === undefined) {
    if (VERDICTS.size >= MAX_CACHED_RANGES) VERDICTS.clear()
    VERDICTS.set(range, byVersion = new Map())
  }
  let ok = byVersion.get(version)
  if (ok === undefined) {
    ok = semver.valid(version) !== null && (parsedRange(range)?.test(version) ?? false)
    if (byVersion.size >= MAX_CACHED_RANGES) byVersion.clear()
    byVersion.set(version, ok)
  }
  return ok
}

/**
 * Verdicts of {@link satisfiesRange} by range, then version. A caller checks every receipt's
 * version against its range: the same pair call after call, and semver parses the version
 * twice per check (~6 µs per call in the caller's profile).
 */
const VERDICTS = new Map<string, Map<string, boolean>>()

/** Local short names: alias → `<publisher-key>/<name>` (optionally with a default `@range`). */
export type FunctionAliases = Readonly<Record<string, string>>

const SHORT = /^([^@/]+)(?:@(.+))?$/

/**
 * Parses a full reference, or expands a local alias (`<alias>` or `<alias>@<range>`; a range
 * given here replaces the alias's own). Throws INVALID_FUNCTION_REF for an unknown alias.
 */
export function parseRefOrAlias (input: unknown, aliases: FunctionAliases): FunctionRef {
  if (typeof input === 'string' && !KEY_PREFIXED.test(input.trim())) {
    const m = SHORT.exec(input.trim())
    const target = m?.[1] !== undefined && Object.hasOwn(aliases, m[1]) ? aliases[m[1]] : undefined
    if (target === undefined) throw ShadwError.INVALID_FUNCTION_REF(input, 'not a <publisher-key>/<name>@<range> reference nor a known alias')
    const base = parseFunctionRef(target)
    return m?.[2] === undefined ? base : parseFunctionRef(`${base.publisher}/${base.name}@${m[2]}`)
  }
  return parseFunctionRef(input)
}

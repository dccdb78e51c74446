/**
 * Canonical JSON for the one free-form part of a manifest: Lit access control conditions.
 *
 * Objects have their keys sorted by UTF-16 code units, there is no whitespace, and only
 * JSON values are allowed (no undefined, no non-finite numbers), so the same conditions
 * always give the same bytes and thus the same signed manifest.
 */
import { ShadwError } from '../errors.ts'

/** Deepest nesting accepted: Lit conditions nest a few levels; this only stops abuse. */
export const MAX_JSON_DEPTH = 32

/** Serialises `value` canonically; throws MANIFEST_INVALID for anything that is not plain JSON. */
export function canonicalJson (value: unknown): string {
  return write(value, 0)
}

function write (value: unknown, depth: number): string {
  if (depth > MAX_JSON_DEPTH) throw ShadwError.MANIFEST_INVALID(`access conditions nest deeper than ${MAX_JSON_DEPTH}`)
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value)
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw ShadwError.MANIFEST_INVALID('access conditions contain a non-finite number')
    return JSON.stringify(value)
  }
  if (Array.isArray(value)) return '[' + value.map(v => write(v, depth + 1)).join(',') + ']'
  if (typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const obj = value as Record<string, unknown>
    const keys = Object.keys(obj).sort()
    return '{' + keys.map(k => {
      if (obj[k] === undefined) throw ShadwError.MANIFEST_INVALID(`access conditions: ${k} is undefined`)
      return JSON.stringify(k) + ':' + write(obj[k], depth + 1)
    }).join(',') + '}'
  }
  throw ShadwError.MANIFEST_INVALID(`access conditions contain a ${typeof value}`)
}

/** Parses canonical JSON, refusing text that is not exactly the canonical form of its value. */
export function parseCanonicalJson (text: string): unknown {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw ShadwError.MANIFEST_INVALID('access conditions are not JSON', { cause: String(err) })
  }
  if (canonicalJson(value) !== text) throw ShadwError.MANIFEST_INVALID('access conditions are not in canonical form')
  return value
}

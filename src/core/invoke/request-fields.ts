/**
 * A request's auth and chain pins as the access gate takes them: the auth JSON parsed within
 * a depth bound, the wire's decimal block numbers as bigints.
 */
import { ShadwError } from '../errors.ts'

/** A request's auth JSON parses to at most this depth (a Lit AuthSig is flat). */
const AUTH_DEPTH_LIMIT = 4

/** The wire's decimal pins as the gate's block numbers (the protocol checked their form). */
export function pinnedBlocks (blocks: Record<string, string>): Record<string, bigint> {
  return Object.fromEntries(Object.entries(blocks).map(([chain, block]) => [chain, BigInt(block)]))
}

/** The request's auth as a value (undefined: none); `AUTH_MALFORMED` when it is not JSON or nested too deeply. */
export function parseAuth (auth: string | null): unknown {
  if (auth === null) return undefined
  let value: unknown
  try {
    value = JSON.parse(auth)
  } catch {
    throw ShadwError.AUTH_MALFORMED('auth is not JSON')
  }
  if (depth(value) > AUTH_DEPTH_LIMIT) throw ShadwError.AUTH_MALFORMED('auth is nested too deeply')
  return value
}

function depth (v: unknown): number {
  if (typeof v !== 'object' || v === null) return 0
  let d = 0
  for (const x of Object.values(v)) { d = Math.max(d, depth(x)); if (d > AUTH_DEPTH_LIMIT) break }
  return d + 1
}

/**
 * The secrets a manifest gives its function: each a name (the environment variable the
 * function reads it from), where its condition-gated shares are (key id, dealer, threshold,
 * holders: public, nothing secret) and the executors the publisher trusts with it. An
 * executor fetches the secret from its holders for each call whose caller passes the
 * conditions (docs/access.md, "Function secrets"). Bounded and in one canonical form (sorted),
 * since they are signed.
 */
import b4a from 'b4a'
import c, { type State } from 'compact-encoding'
import { put } from '../encoding.ts'
import { ShadwError } from '../errors.ts'
import { isHexKey } from '../hex.ts'

/** Most secrets one manifest names. */
export const MAX_MANIFEST_SECRETS = 8
/** Most holders or executors of one secret (the key shares' own bound). */
export const MAX_SECRET_NODES = 32
/** A secret's name: a portable environment variable name. */
export const SECRET_NAME = /^[A-Z_][A-Z0-9_]{0,63}$/

/** One secret a manifest names. */
export interface ManifestSecret {
  /** the environment variable the function finds it in */
  name: string
  keyId: string
  /** the dealer's node key, hex: the shares' commitments must be its */
  dealer: string
  threshold: number
  /** the holders' node keys, hex, sorted */
  holders: string[]
  /** the node keys of the executors the holders release it to, hex, sorted */
  executors: string[]
}

function fail (msg: string, field: string): never {
  throw ShadwError.MANIFEST_INVALID(msg, { field })
}

function keys (v: unknown, field: string, min: number): string[] {
  if (!Array.isArray(v) || v.length < min || v.length > MAX_SECRET_NODES || v.some(k => !isHexKey(k)) || new Set(v).size !== v.length) fail(`${field} must be ${min}..${MAX_SECRET_NODES} distinct keys of 64 lowercase hex characters`, field)
  return [...v as string[]].sort()
}

/** Checks a manifest's `secrets`; returns them clean (absent when empty). @throws `MANIFEST_INVALID` */
export function validateSecrets (v: unknown): ManifestSecret[] | undefined {
  if (v === undefined) return undefined
  if (!Array.isArray(v) || v.length > MAX_MANIFEST_SECRETS) fail(`secrets must be an array of at most ${MAX_MANIFEST_SECRETS} { name, keyId, dealer, threshold, holders, executors }`, 'secrets')
  if (v.length === 0) return undefined
  const names = new Set<string>()
  return (v as unknown[]).map((s, i) => {
    const field = `secrets[${i}]`
    if (typeof s !== 'object' || s === null) fail(`${field} must be { name, keyId, dealer, threshold, holders, executors }`, field)
    const r = s as Record<string, unknown>
    if (typeof r['name'] !== 'string' || !SECRET_NAME.test(r['name'])) fail(`${field}.name must match ${String(SECRET_NAME)}`, `${field}.name`)
    if (names.has(r['name'])) fail(`two secrets named ${r['name']}`, `${field}.name`)
    names.add(r['name'])
    if (!isHexKey(r['keyId'])) fail(`${field}.keyId must be 64 lowercase hex characters`, `${field}.keyId`)
    if (!isHexKey(r['dealer'])) fail(`${field}.dealer must be 64 lowercase hex characters`, `${field}.dealer`)
    const holders = keys(r['holders'], `${field}.holders`, 2)
    const t = r['threshold']
    if (typeof t !== 'number' || !Number.isInteger(t) || t < 2 || t > holders.length) fail(`${field}.threshold must be 2..${holders.length}`, `${field}.threshold`)
    return { name: r['name'], keyId: r['keyId'], dealer: r['dealer'], threshold: t, holders, executors: keys(r['executors'], `${field}.executors`, 1) }
  })
}

export function writeSecrets (s: State, pre: boolean, secrets: ManifestSecret[]): void {
  put(s, pre, c.uint, secrets.length)
  for (const x of secrets) {
    put(s, pre, c.string, x.name)
    put(s, pre, c.fixed32, b4a.from(x.keyId, 'hex'))
    put(s, pre, c.fixed32, b4a.from(x.dealer, 'hex'))
    put(s, pre, c.uint, x.threshold)
    for (const list of [x.holders, x.executors]) {
      put(s, pre, c.uint, list.length)
      for (const k of list) put(s, pre, c.fixed32, b4a.from(k, 'hex'))
    }
  }
}

export function readSecrets (s: State): Array<Record<string, unknown>> {
  const n = c.uint.decode(s)
  if (n > MAX_MANIFEST_SECRETS) fail(`more than ${MAX_MANIFEST_SECRETS} secrets`, 'secrets')
  const out: Array<Record<string, unknown>> = []
  const list = (): string[] => {
    const count = c.uint.decode(s)
    if (count > MAX_SECRET_NODES) fail(`more than ${MAX_SECRET_NODES} keys`, 'secrets')
    const keys: string[] = []
    for (let i = 0; i < count; i++) keys.push(b4a.toString(c.fixed32.decode(s), 'hex'))
    return keys
  }
  for (let i = 0; i < n; i++) {
    const name = c.string.decode(s)
    const keyId = b4a.toString(c.fixed32.decode(s), 'hex')
    const dealer = b4a.toString(c.fixed32.decode(s), 'hex')
    const threshold = c.uint.decode(s)
    out.push({ name, keyId, dealer, threshold, holders: list(), executors: list() })
  }
  return out
}

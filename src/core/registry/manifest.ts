/**
 * Function manifests: what a publisher signs about one version of one function, and their
 * canonical binary encoding (compact-encoding, fields in a fixed order, minimal integers).
 *
 * A manifest is decoded only if re-encoding it gives back the exact same bytes, so every
 * manifest has exactly one encoding and signatures never depend on who serialised it.
 */
import b4a from 'b4a'
import c, { type State } from 'compact-encoding'
import semver from 'semver'
import { describeValue } from '../describe.ts'
import { encodeFields, put } from '../encoding.ts'
import { ShadwError } from '../errors.ts'
import { isHexKey } from '../hex.ts'
import { MAX_BASE_PRICE } from '../pricing/index.ts'
import type { Abi, ExecutionLimits } from '../sandbox/index.ts'
import { canonicalJson, parseCanonicalJson } from './canonical-json.ts'
import { hasDocs, MAX_EXAMPLES, validateDocs, type FunctionExample, type ManifestDocs } from './manifest-docs.ts'
import { readMounts, validateMounts, writeMounts, type ManifestMount } from './manifest-mounts.ts'
import { readSecrets, validateSecrets, writeSecrets, type ManifestSecret } from './manifest-secrets.ts'
import { decodeRecord, encodeRecord, signRecord, type SignedRecord } from './signed-record.ts'

/**
 * Newest version of the manifest body encoding (first byte of the body): version 2 appends
 * the publisher's SIWE domain list ({@link FunctionManifest.authDomains}); version 3 appends
 * the documentation fields (description, README, examples; manifest-docs.ts) after a domain
 * list that may be empty. Each manifest is written in the lowest version that holds it, so
 * what was published before a version keeps its bytes and signature.
 */
export const MANIFEST_VERSION = 3
/** The body version with drive mounts appended after the version 3 fields (manifest-mounts.ts). */
export const MANIFEST_VERSION_4 = 4
/** The body version with secrets appended after the mounts, which may be none (manifest-secrets.ts). */
export const MANIFEST_VERSION_5 = 5
/**
 * The body version with a domain list and no documentation fields: written whenever a
 * manifest has `authDomains` and none of `description`, `readme`, `examples`.
 */
export const MANIFEST_VERSION_2 = 2
/**
 * The body version without a domain list. A manifest without one is still written as
 * version 1, so everything published before version 2 keeps its bytes and signature, and
 * nodes that predate version 2 keep reading it; they refuse a version 2 body, so none of them
 * can run a gated function while ignoring its publisher's domain list.
 */
export const MANIFEST_VERSION_1 = 1
/** Signature domain of manifests. */
export const MANIFEST_DOMAIN = 'shadw/manifest/v1'
/** A stored signed manifest is at most this large: it is read from peers before anything else. */
export const MAX_MANIFEST_BYTES = 96 * 1024
/** Canonical access conditions are at most this large (Lit conditions are a few KiB at most). */
export const MAX_ACCESS_BYTES = 64 * 1024
/** Function names: lowercase, URL- and key-safe, no `/` or `@` (they delimit refs). */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/
/** Versions are at most this long (semver itself sets no bound). */
export const MAX_VERSION_LENGTH = 64
/**
 * At most this many SIWE domains per manifest: a function is served by a handful of apps,
 * and an executor compares every auth against the list.
 */
export const MAX_AUTH_DOMAINS = 16
/** A domain is at most this long: a 253-character DNS name and `:65535`. */
export const MAX_AUTH_DOMAIN_LENGTH = 259
/** Largest module size a manifest can state: modules live in 32-bit linear address space. */
export const MAX_MANIFEST_MODULE_BYTES = 2 ** 31
/** Price curve control points are parts per million. */
export const PRICE_CURVE_SCALE = 1_000_000

const ABIS: readonly Abi[] = ['raw', 'wasi']
/**
 * A SIWE `domain` as browsers write `location.host`: a lowercase DNS name or IPv4 address
 * (labels of 1-63 letters, digits and inner dashes), or a bracketed lowercase IPv6 address;
 * then an optional port 1-65535 without leading zeros. No scheme, path, user info or
 * wildcard: the SIWE domain is compared exactly (EIP-4361), so the list is exact too.
 */
const AUTH_DOMAIN = /^(?:(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?|\[[0-9a-f:.]{2,45}\])(?::([1-9][0-9]{0,4}))?$/
const LIMIT_FIELDS = ['fuel', 'memoryPages', 'deadlineMs', 'maxInputBytes', 'maxOutputBytes'] as const

/**
 * The publisher's price for the function: `base` µcredits per million fuel (at most
 * {@link MAX_BASE_PRICE}), scaled by a cubic Bézier over the executor's utilisation whose
 * four control-point heights are `curve` (parts per million of `base`). Executors charge the
 * higher of this and their own curve's fuel price (`quoteFor`, docs/pricing.md); `base` 0
 * leaves the price to the executor.
 */
export interface PriceParams {
  base: number
  curve: [number, number, number, number]
}

/** Where the module bytes sit in the publisher's blob log. */
export interface BlobLocation {
  /** key of the blob Hypercore, hex */
  key: string
  /** first block */
  start: number
  /** number of blocks */
  length: number
}

/** One version of one function, as its publisher signed it. */
export interface FunctionManifest extends ManifestDocs {
  name: string
  version: string
  /** SHA-256 of the module bytes, lowercase hex (the sandbox's `moduleHash`) */
  moduleHash: string
  /** module size in bytes */
  size: number
  abi: Abi
  limits: ExecutionLimits
  /** Lit unified access control conditions; empty = public */
  access: unknown[]
  /**
   * The app domains (host[:port], sorted, distinct) whose SIWE auth every executor accepts
   * for this function, whatever its own domain; absent (never empty) = each executor accepts
   * only its own app domain, as before this field existed. Only with `access` conditions.
   */
  authDomains?: string[]
  price: PriceParams
  /** publisher ed25519 public key = registry Hypercore key, hex */
  publisher: string
  /** milliseconds since the epoch */
  createdAt: number
  blob: BlobLocation
  /** drives mounted read-only into every call; absent (never empty) without any */
  mounts?: ManifestMount[]
  /** condition-gated secrets the executor fetches for each call (wasi only, gated only); absent (never empty) without any */
  secrets?: ManifestSecret[]
}

/** A manifest with its canonical body and the publisher's signature over it. */
export interface SignedManifest extends SignedRecord {
  manifest: FunctionManifest
}

function fail (msg: string, details?: Record<string, unknown>): never {
  throw ShadwError.MANIFEST_INVALID(msg, details)
}

function uint (v: unknown, field: string, max = Number.MAX_SAFE_INTEGER, min = 0): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) fail(`${field} must be an integer in ${min}..${max}`, { field })
  return v
}

function hex32 (v: unknown, field: string): string {
  if (!isHexKey(v)) fail(`${field} must be 64 lowercase hex characters`, { field })
  return v
}

/**
 * True when `v` is a domain a manifest may list: see {@link validateAuthDomains}.
 *
 * @example
 * ```ts
 * isValidAuthDomain('app.example:8443') // true
 * isValidAuthDomain('https://app.example') // false: no scheme
 * ```
 */
export function isValidAuthDomain (v: unknown): v is string {
  if (typeof v !== 'string' || v.length > MAX_AUTH_DOMAIN_LENGTH) return false
  const match = AUTH_DOMAIN.exec(v)
  if (match === null) return false
  const port = match[1]
  return port === undefined || Number(port) <= 65_535
}

/**
 * Checks a publisher's domain list and returns it sorted and without duplicates, the one
 * order it is signed in.
 *
 * @throws ShadwError `MANIFEST_INVALID` (details name the field) when it is not an array of
 *   1..{@link MAX_AUTH_DOMAINS} domains as {@link isValidAuthDomain} accepts them.
 */
export function validateAuthDomains (v: unknown): string[] {
  if (!Array.isArray(v) || v.length === 0 || v.length > MAX_AUTH_DOMAINS) fail(`authDomains must be an array of 1..${MAX_AUTH_DOMAINS} domains (leave it out for the executor's own)`, { field: 'authDomains' })
  for (const [i, d] of (v as unknown[]).entries()) {
    if (!isValidAuthDomain(d)) fail(`authDomains[${i}] must be a lowercase host[:port] of at most ${MAX_AUTH_DOMAIN_LENGTH} characters, as a browser's location.host: ${describeValue(d)}`, { field: `authDomains[${i}]` })
  }
  return [...new Set(v as string[])].sort()
}

/** True when `v` is a strict semver version without build metadata, in its normal form. */
export function isValidVersion (v: unknown): v is string {
  return typeof v === 'string' && v.length <= MAX_VERSION_LENGTH && !v.includes('+') && semver.valid(v) === v
}

/** Validates a manifest's fields (shape and protocol bounds, not node ceilings); returns a clean copy. */
export function validateManifest (m: unknown): FunctionManifest {
  if (typeof m !== 'object' || m === null) fail('manifest must be an object')
  const o = m as Record<string, unknown>
  if (typeof o['name'] !== 'string' || !NAME_PATTERN.test(o['name'])) fail(`name must match ${String(NAME_PATTERN)}`, { field: 'name' })
  if (!isValidVersion(o['version'])) fail('version must be a semver version (MAJOR.MINOR.PATCH[-pre], no build metadata)', { field: 'version' })
  const abi = o['abi']
  if (!ABIS.includes(abi as Abi)) fail('abi must be raw or wasi', { field: 'abi' })
  const limitsIn = o['limits']
  if (typeof limitsIn !== 'object' || limitsIn === null) fail('limits must be an object', { field: 'limits' })
  const l = limitsIn as Record<string, unknown>
  const limits = {} as ExecutionLimits
  for (const f of LIMIT_FIELDS) limits[f] = uint(l[f], `limits.${f}`, Number.MAX_SAFE_INTEGER, f === 'fuel' || f === 'deadlineMs' ? 1 : 0)
  if (!Array.isArray(o['access'])) fail('access must be an array of Lit access control conditions (empty = public)', { field: 'access' })
  const access = JSON.parse(canonicalJson(o['access'])) as unknown[]
  if (b4a.byteLength(canonicalJson(access)) > MAX_ACCESS_BYTES) fail(`access conditions exceed ${MAX_ACCESS_BYTES} bytes`, { field: 'access' })
  const p = o['price'] as Record<string, unknown> | null
  if (typeof p !== 'object' || p === null || !Array.isArray(p['curve']) || p['curve'].length !== 4) fail('price must be { base, curve: [4 control points] }', { field: 'price' })
  const curve = (p['curve'] as unknown[]).map((v, i) => uint(v, `price.curve[${i}]`, 100 * PRICE_CURVE_SCALE)) as PriceParams['curve']
  let authDomains: string[] | undefined
  if (o['authDomains'] !== undefined) {
    authDomains = validateAuthDomains(o['authDomains'])
    // a public function checks no auth, so a list there would read as a restriction that is not one
    if (access.length === 0) fail('authDomains needs access conditions: a public function checks no auth', { field: 'authDomains' })
  }
  const b = o['blob'] as Record<string, unknown> | null
  if (typeof b !== 'object' || b === null) fail('blob must be { key, start, length }', { field: 'blob' })
  const size = uint(o['size'], 'size', MAX_MANIFEST_MODULE_BYTES, 1)
  const docs = validateDocs(o)
  const mounts = validateMounts(o['mounts'])
  const secrets = validateSecrets(o['secrets'])
  // a secret goes to the function in its environment, and only to callers the conditions let in
  if (secrets !== undefined && abi !== 'wasi') fail('secrets need the wasi abi: the function reads them from its environment', { field: 'secrets' })
  if (secrets !== undefined && access.length === 0) fail('secrets need access conditions: a secret every caller may have is not gated', { field: 'secrets' })
  return {
    name: o['name'],
    version: o['version'],
    moduleHash: hex32(o['moduleHash'], 'moduleHash'),
    size,
    abi: abi as Abi,
    limits,
    access,
    ...(authDomains === undefined ? {} : { authDomains }),
    price: { base: uint(p['base'], 'price.base', MAX_BASE_PRICE), curve },
    publisher: hex32(o['publisher'], 'publisher'),
    createdAt: uint(o['createdAt'], 'createdAt'),
    blob: { key: hex32(b['key'], 'blob.key'), start: uint(b['start'], 'blob.start'), length: uint(b['length'], 'blob.length', size, 1) },
    ...docs,
    ...(mounts === undefined ? {} : { mounts }),
    ...(secrets === undefined ? {} : { secrets })
  }
}

/** The lowest body version that holds `m`. */
function bodyVersion (m: FunctionManifest): number {
  if (m.secrets !== undefined) return MANIFEST_VERSION_5
  if (m.mounts !== undefined) return MANIFEST_VERSION_4
  if (hasDocs(m)) return MANIFEST_VERSION
  return m.authDomains === undefined ? MANIFEST_VERSION_1 : MANIFEST_VERSION_2
}

function walk (state: State, m: FunctionManifest, pre: boolean): void {
  const version = bodyVersion(m)
  put(state, pre, c.uint8, version)
  put(state, pre, c.string, m.name)
  put(state, pre, c.string, m.version)
  put(state, pre, c.fixed32, b4a.from(m.moduleHash, 'hex'))
  put(state, pre, c.uint, m.size)
  put(state, pre, c.uint8, ABIS.indexOf(m.abi))
  for (const f of LIMIT_FIELDS) put(state, pre, c.uint, m.limits[f])
  put(state, pre, c.string, canonicalJson(m.access))
  put(state, pre, c.uint, m.price.base)
  for (const v of m.price.curve) put(state, pre, c.uint, v)
  put(state, pre, c.fixed32, b4a.from(m.publisher, 'hex'))
  put(state, pre, c.uint, m.createdAt)
  put(state, pre, c.fixed32, b4a.from(m.blob.key, 'hex'))
  put(state, pre, c.uint, m.blob.start)
  put(state, pre, c.uint, m.blob.length)
  if (version === MANIFEST_VERSION_1) return
  const domains = m.authDomains ?? []
  put(state, pre, c.uint, domains.length)
  for (const d of domains) put(state, pre, c.string, d)
  if (version === MANIFEST_VERSION_2) return
  // absent fields are written empty: validateManifest leaves empty ones out, so one form each
  put(state, pre, c.string, m.description ?? '')
  put(state, pre, c.string, m.readme ?? '')
  const examples = m.examples ?? []
  put(state, pre, c.uint, examples.length)
  for (const e of examples) {
    put(state, pre, c.string, e.input)
    put(state, pre, c.string, e.output)
  }
  if (version >= MANIFEST_VERSION_4) writeMounts(state, pre, m.mounts ?? [])
  if (version === MANIFEST_VERSION_5) writeSecrets(state, pre, m.secrets ?? [])
}

/** The canonical body of a manifest (validated first). */
export function encodeManifest (manifest: FunctionManifest): Uint8Array {
  const m = validateManifest(manifest)
  const body = encodeFields((s, pre) => { walk(s, m, pre) })
  // the envelope adds a version byte, a length and a 64-byte signature
  if (body.byteLength > MAX_MANIFEST_BYTES - 128) fail(`manifest body of ${body.byteLength} bytes exceeds ${MAX_MANIFEST_BYTES - 128}`)
  return body
}

/** Decodes and validates a canonical manifest body; throws MANIFEST_INVALID otherwise. */
export function decodeManifest (body: Uint8Array): FunctionManifest {
  const state = c.state(0, body.byteLength, body)
  let m: FunctionManifest
  try {
    const version = c.uint8.decode(state)
    if (version !== MANIFEST_VERSION_1 && version !== MANIFEST_VERSION_2 && version !== MANIFEST_VERSION && version !== MANIFEST_VERSION_4 && version !== MANIFEST_VERSION_5) fail(`unknown manifest version ${version}`)
    const name = c.string.decode(state)
    const ver = c.string.decode(state)
    const moduleHash = b4a.toString(c.fixed32.decode(state), 'hex')
    const size = c.uint.decode(state)
    const abi = ABIS[c.uint8.decode(state)]
    const limits = {} as ExecutionLimits
    for (const f of LIMIT_FIELDS) limits[f] = c.uint.decode(state)
    const accessText = c.string.decode(state)
    if (accessText.length > MAX_ACCESS_BYTES) fail('access conditions too large')
    const access = parseCanonicalJson(accessText)
    const base = c.uint.decode(state)
    const curve = [c.uint.decode(state), c.uint.decode(state), c.uint.decode(state), c.uint.decode(state)] as PriceParams['curve']
    const publisher = b4a.toString(c.fixed32.decode(state), 'hex')
    const createdAt = c.uint.decode(state)
    const blob = { key: b4a.toString(c.fixed32.decode(state), 'hex'), start: c.uint.decode(state), length: c.uint.decode(state) }
    let authDomains: string[] | undefined
    const docs: Record<string, unknown> = {}
    if (version !== MANIFEST_VERSION_1) {
      const count = c.uint.decode(state)
      // bounded before the loop: the count comes from a peer
      if (count > MAX_AUTH_DOMAINS) fail(`more than ${MAX_AUTH_DOMAINS} auth domains`, { field: 'authDomains' })
      const domains: string[] = []
      for (let i = 0; i < count; i++) domains.push(c.string.decode(state))
      if (count > 0 || version === MANIFEST_VERSION_2) authDomains = domains
    }
    if (version >= MANIFEST_VERSION) {
      docs['description'] = c.string.decode(state)
      docs['readme'] = c.string.decode(state)
      const count = c.uint.decode(state)
      if (count > MAX_EXAMPLES) fail(`more than ${MAX_EXAMPLES} examples`, { field: 'examples' })
      const examples: FunctionExample[] = []
      for (let i = 0; i < count; i++) examples.push({ input: c.string.decode(state), output: c.string.decode(state) })
      docs['examples'] = examples
    }
    if (version >= MANIFEST_VERSION_4) docs['mounts'] = readMounts(state)
    if (version === MANIFEST_VERSION_5) docs['secrets'] = readSecrets(state)
    if (state.start !== state.end) fail('manifest has trailing bytes')
    m = validateManifest({ name, version: ver, moduleHash, size, abi, limits, access, ...(authDomains === undefined ? {} : { authDomains }), price: { base, curve }, publisher, createdAt, blob, ...docs })
  } catch (err) {
    if (err instanceof ShadwError) throw err
    fail('manifest is truncated or malformed')
  }
  if (!b4a.equals(encodeManifest(m), body)) fail('manifest is not in canonical form')
  return m
}

/** Signs a manifest with the publisher's ed25519 secret key. */
export function signManifest (manifest: FunctionManifest, secretKey: Uint8Array): SignedManifest {
  const body = encodeManifest(manifest)
  return { manifest: decodeManifest(body), ...signRecord(MANIFEST_DOMAIN, body, secretKey) }
}

/** Stored form of a signed manifest. */
export function encodeSignedManifest (signed: SignedRecord): Uint8Array {
  return encodeRecord(signed)
}

/** Parses a stored signed manifest (bounds and canonical form; the signature is checked by `verifyManifest`). */
export function decodeSignedManifest (bytes: Uint8Array): SignedManifest {
  const record = decodeRecord(bytes, MAX_MANIFEST_BYTES)
  return { manifest: decodeManifest(record.body), ...record }
}

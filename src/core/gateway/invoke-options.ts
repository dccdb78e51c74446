/**
 * The options of one invocation as they cross a boundary: the `shadw-*` request headers of
 * the `/fn/*` gateway (the SDK writes them, the gateway reads them) and the bridge's
 * postMessage (the service worker sends them, the node worker checks them). One table says,
 * for each option, its header and how its value is checked, written and read, so an option
 * added to {@link InvokeOptions} is added here once and travels every path.
 */
import { parsePinnedMounts, type PinnedMount } from '../drive/index.ts'
import { ShadwError } from '../errors.ts'
import { MAX_AUTH_CHARS, MAX_PINNED_CHAINS, NONCE_BYTES, type InvokeOptions } from '../invoke/index.ts'

/**
 * Every {@link InvokeOptions} field but the abort signal, which cannot cross a boundary. A type
 * alias, not an interface: bridge params that spread it stay plain records.
 */
export type WireInvokeOptions = Omit<InvokeOptions, 'signal'>

type Value<K extends keyof WireInvokeOptions> = Exclude<WireInvokeOptions[K], undefined>

/** How one option crosses: checked as a value, and (when it has a header) written and read as text. */
type Field<T> =
  | {
    header: string
    /** a value from a page, a worker or the SDK's caller: anything may arrive */
    check (value: unknown): T
    /** the header's text for a checked value; undefined: nothing to send */
    format (value: T): string | undefined
    /** the value a header's text stands for */
    parse (text: string): T
  }
  | { header: null, check (value: unknown): T }

/**
 * A numeric header: at most nine digits. 999,999,999 ms is eleven days, redundancy and quorum
 * are far below it, and the gateway never reads a number that is not a safe integer.
 */
const HEADER_COUNT = /^\d{1,9}$/

/** A non-negative integer option (the ranges that depend on each other are runCall's to check). */
function count (name: string, header: string, unit = ''): Field<number> {
  return {
    header,
    check (value) {
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw ShadwError.INVALID_ARGUMENT(`${name} must be a non-negative integer${unit}`)
      return value
    },
    format: value => String(value),
    parse (text) {
      if (!HEADER_COUNT.test(text)) throw ShadwError.INVALID_ARGUMENT(`${header} must be a positive integer`)
      return Number(text)
    }
  }
}

/** The tenant's Lit AuthSig: any JSON value (the executor's gate judges it), at most {@link MAX_AUTH_CHARS} as JSON. */
const auth: Field<unknown> = {
  header: 'shadw-auth',
  check (value) {
    let json: string | undefined
    try {
      json = JSON.stringify(value)
    } catch {
      throw ShadwError.AUTH_MALFORMED('auth is not JSON')
    }
    if (json === undefined) throw ShadwError.AUTH_MALFORMED('auth is not JSON')
    if (json.length > MAX_AUTH_CHARS) throw ShadwError.AUTH_MALFORMED(`auth is longer than ${MAX_AUTH_CHARS} characters as JSON`)
    return value
  },
  // header values are Latin-1: JSON with every non-ASCII character escaped
  format: value => (JSON.stringify(value) as string).replace(/[\u007f-\uffff]/g, ch => '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0')),
  parse (text) {
    if (text.length > MAX_AUTH_CHARS) throw ShadwError.AUTH_MALFORMED(`shadw-auth is longer than ${MAX_AUTH_CHARS} characters`)
    try {
      return JSON.parse(text)
    } catch {
      throw ShadwError.AUTH_MALFORMED('shadw-auth is not JSON')
    }
  }
}

/** Decimals of an audit share in its header: a millionth of calls is finer than any tenant needs. */
const AUDIT_DECIMALS = 6
/** An audit share in its header: 1, 0 or a decimal between, with at most {@link AUDIT_DECIMALS} decimals. */
const HEADER_SHARE = /^(0(\.\d{1,6})?|1(\.0{1,6})?)$/

/** Reveal the call's input to light nodes: `true`, `false` or the share of calls audited in [0, 1]. */
const audit: Field<boolean | number> = {
  header: 'shadw-audit',
  check (value) {
    if (typeof value !== 'boolean' && (typeof value !== 'number' || !(value >= 0 && value <= 1))) throw ShadwError.INVALID_ARGUMENT('audit must be true, false or a share of calls in [0, 1]')
    return value
  },
  format: value => value === false ? undefined : (value === true ? 1 : value).toFixed(AUDIT_DECIMALS),
  parse (text) {
    if (!HEADER_SHARE.test(text)) throw ShadwError.INVALID_ARGUMENT('shadw-audit must be a number from 0 to 1')
    return Number(text)
  }
}

/**
 * The call's nonce crosses the bridge only: a page that retries a call idempotently reuses it;
 * an HTTP tenant does not choose one (the gateway's node draws a fresh one per call).
 */
const nonce: Field<Uint8Array> = {
  header: null,
  check (value) {
    if (!(value instanceof Uint8Array) || value.byteLength !== NONCE_BYTES) throw ShadwError.INVALID_ARGUMENT(`nonce must be a Uint8Array of ${NONCE_BYTES} bytes`)
    return value
  }
}

/** A pin in its header: `chain=block`, comma-separated, a chain as Lit names it. */
const HEADER_PIN = /^([A-Za-z0-9]{1,32})=(0|[1-9]\d{0,19})$/

/** Blocks the caller pins its conditions at, chain → block (bigint): `shadw-blocks: ethereum=123`. */
const blocks: Field<Readonly<Record<string, bigint>>> = {
  header: 'shadw-blocks',
  check (value) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw ShadwError.INVALID_ARGUMENT('blocks must map chains to block numbers')
    const entries = Object.entries(value)
    if (entries.length === 0 || entries.length > MAX_PINNED_CHAINS) throw ShadwError.INVALID_ARGUMENT(`pin blocks on 1-${MAX_PINNED_CHAINS} chains`)
    for (const [chain, block] of entries) {
      if (!/^[A-Za-z0-9]{1,32}$/.test(chain) || typeof block !== 'bigint' || block < 0n) throw ShadwError.INVALID_ARGUMENT('a pinned block is a chain name and a non-negative bigint')
    }
    return Object.fromEntries(entries) as Record<string, bigint>
  },
  format: value => Object.entries(value).map(([chain, block]) => `${chain}=${block}`).join(','),
  parse (text) {
    const pins = text.split(',').map(part => HEADER_PIN.exec(part.trim()))
    if (pins.length > MAX_PINNED_CHAINS || pins.some(m => m === null)) throw ShadwError.INVALID_ARGUMENT(`shadw-blocks must be 1-${MAX_PINNED_CHAINS} chain=block pairs`)
    return Object.fromEntries(pins.map(m => [m?.[1] ?? '', BigInt(m?.[2] ?? '0')]))
  }
}

/** A call's pinned drive mounts cross the bridge only (a page's invoke); no header carries them yet. */
const mounts: Field<PinnedMount[]> = {
  header: null,
  check (value) {
    try {
      return parsePinnedMounts(value)
    } catch (err) {
      throw ShadwError.INVALID_ARGUMENT(err instanceof Error ? err.message : 'bad mounts')
    }
  }
}

/** Whether the node pins the function's "latest" mounts before the call (default yes); crosses the bridge only. */
const pinManifest: Field<boolean> = {
  header: null,
  check (value) {
    if (typeof value !== 'boolean') throw ShadwError.INVALID_ARGUMENT('pinManifest must be true or false')
    return value
  }
}

/**
 * Who asked a node's gateway: set by the host from the connection (never from a header), and
 * crossing the bridge only as a bounded string.
 */
const client: Field<string> = {
  header: null,
  check (value) {
    if (typeof value !== 'string' || value.length === 0 || value.length > 256) throw ShadwError.INVALID_ARGUMENT('client must be a string of 1 to 256 characters')
    return value
  }
}

/** Every option, in the order their headers are listed (the CORS preflight answer shows it). */
const FIELDS: { readonly [K in keyof WireInvokeOptions]-?: Field<Value<K>> } = {
  redundancy: count('redundancy', 'shadw-redundancy'),
  quorum: count('quorum', 'shadw-quorum'),
  deadline: count('deadline', 'shadw-deadline', ' (ms)'),
  auth,
  maxCharge: count('maxCharge', 'shadw-max-charge', ' (µcredits)'),
  audit,
  nonce,
  blocks,
  mounts,
  pinManifest,
  client
}

const ENTRIES = Object.entries(FIELDS) as Array<[keyof WireInvokeOptions, Field<unknown>]>

/** The request headers that carry invocation options. */
export const INVOKE_OPTION_HEADERS: readonly string[] = ENTRIES.flatMap(([, f]) => f.header === null ? [] : [f.header])

/**
 * The `shadw-*` headers that carry `opts`, each value checked first; options without a header
 * (the nonce) and fields that are no option (an abort signal) are left out.
 *
 * @throws ShadwError `INVALID_ARGUMENT`, or `AUTH_MALFORMED` for an auth that is no JSON or too long
 * @example
 * ```ts
 * await fetch(`${base}/fn/${ref}`, { method: 'POST', body: input, headers: invokeOptionHeaders({ redundancy: 3, audit: true }) })
 * ```
 */
export function invokeOptionHeaders (opts: WireInvokeOptions): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const [key, field] of ENTRIES) {
    const value = opts[key]
    if (value === undefined || field.header === null) continue
    const text = field.format(field.check(value))
    if (text !== undefined) headers[field.header] = text
  }
  return headers
}

/**
 * The options a request's `shadw-*` headers carry (absent headers: absent options).
 *
 * @throws ShadwError `INVALID_ARGUMENT`, or `AUTH_MALFORMED` for a `shadw-auth` that is no JSON or too long
 */
export function parseInvokeHeaders (headers: Headers): WireInvokeOptions {
  const opts: Record<string, unknown> = {}
  for (const [key, field] of ENTRIES) {
    if (field.header === null) continue
    const text = headers.get(field.header)
    if (text !== null) opts[key] = field.parse(text)
  }
  return opts as WireInvokeOptions
}

/**
 * Checks the options in values that arrived over the bridge (a page's or the service worker's
 * postMessage: structured clone carries any type). Returns the options only, each checked;
 * other fields (the ref, the input) are the caller's to check.
 *
 * @throws ShadwError `INVALID_ARGUMENT`, or `AUTH_MALFORMED` for an auth that is no JSON or too long
 */
export function checkInvokeOptions (values: Record<string, unknown>): WireInvokeOptions {
  const opts: Record<string, unknown> = {}
  for (const [key, field] of ENTRIES) {
    const value = values[key]
    if (value !== undefined) opts[key] = field.check(value)
  }
  return opts as WireInvokeOptions
}

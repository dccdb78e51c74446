/**
 * Receipts: what an executor signs about one execution, with its node key (the swarm's
 * ed25519 key pair), and appends to its ledger log. A receipt binds the exact function
 * version (its manifest signature and module hash), the input and output (SHA-256), the fuel
 * used, the executor, the tenant, the time and the call's nonce, so anyone holding it can
 * check offline who ran what on which input (`shadw verify-receipt`).
 *
 * Encoding: a version byte, then the fields in a fixed order with compact-encoding; a
 * receipt decodes only if re-encoding gives the same bytes, so each has exactly one form.
 */
import b4a from 'b4a'
import c, { type State } from 'compact-encoding'
import crypto from 'hypercore-crypto'
import { ShadwError } from '../core/errors.ts'
import { MAX_RECEIPT_BYTES } from './protocol.ts'

/** Version of the receipt encoding (first byte). */
export const RECEIPT_VERSION = 1
/** Signature domain: a receipt signature can never pass for a manifest's or a tombstone's. */
export const RECEIPT_DOMAIN = 'shadw/receipt/v1'
/** Tenant ids are an EIP-55 address (42 chars) or a 64-hex node key; 128 bounds both. */
export const MAX_TENANT_CHARS = 128
/** An exact function id `<64 hex>/<name>@<version>` fits in 256 characters. */
const MAX_FN_CHARS = 256

/** The signed fields of a receipt. Hashes and keys are lowercase hex. */
export interface ReceiptBody {
  /** exact function `<publisher>/<name>@<version>` */
  fn: string
  /** the publisher's signature over the manifest (128 hex): names one signed manifest */
  manifestSignature: string
  /** SHA-256 of the module bytes (64 hex) */
  moduleHash: string
  /** SHA-256 of the input (64 hex) */
  inputHash: string
  /** SHA-256 of the output (64 hex) */
  outputHash: string
  fuel: number
  /** executor node key: ed25519 public key (64 hex) */
  executor: string
  /** the tenant: its verified SIWE address, or the calling node's key for public functions */
  tenant: string
  /** ms since the epoch when the executor signed */
  time: number
  /** the call's nonce (64 hex) */
  nonce: string
}

/** A receipt with the executor's signature over its encoded body. */
export interface SignedReceipt extends ReceiptBody {
  /** ed25519 signature (128 hex) */
  signature: string
}

const HEX = (n: number): RegExp => new RegExp(`^[0-9a-f]{${n}}$`)
const HEX32 = HEX(64)
const HEX64 = HEX(128)

function bad (why: string): never {
  throw ShadwError.RECEIPT_INVALID(why)
}

function checkBody (r: ReceiptBody): void {
  if (typeof r !== 'object' || r === null) bad('receipt is not an object')
  if (typeof r.fn !== 'string' || r.fn.length === 0 || r.fn.length > MAX_FN_CHARS) bad('fn must be 1-256 characters')
  if (typeof r.manifestSignature !== 'string' || !HEX64.test(r.manifestSignature)) bad('manifestSignature must be 128 hex characters')
  for (const f of ['moduleHash', 'inputHash', 'outputHash', 'executor', 'nonce'] as const) {
    if (typeof r[f] !== 'string' || !HEX32.test(r[f])) bad(`${f} must be 64 hex characters`)
  }
  if (!Number.isSafeInteger(r.fuel) || r.fuel < 0) bad('fuel must be a non-negative integer')
  if (typeof r.tenant !== 'string' || r.tenant.length === 0 || r.tenant.length > MAX_TENANT_CHARS) bad(`tenant must be 1-${MAX_TENANT_CHARS} characters`)
  if (!Number.isSafeInteger(r.time) || r.time < 0) bad('time must be a non-negative integer')
}

function writeBody (s: State, r: ReceiptBody, pre: boolean): void {
  const enc = <T>(e: { preencode: (s: State, v: T) => void, encode: (s: State, v: T) => void }, v: T): void => { pre ? e.preencode(s, v) : e.encode(s, v) }
  enc(c.uint8, RECEIPT_VERSION)
  enc(c.string, r.fn)
  enc(c.fixed64, b4a.from(r.manifestSignature, 'hex'))
  enc(c.fixed32, b4a.from(r.moduleHash, 'hex'))
  enc(c.fixed32, b4a.from(r.inputHash, 'hex'))
  enc(c.fixed32, b4a.from(r.outputHash, 'hex'))
  enc(c.uint, r.fuel)
  enc(c.fixed32, b4a.from(r.executor, 'hex'))
  enc(c.string, r.tenant)
  enc(c.uint, r.time)
  enc(c.fixed32, b4a.from(r.nonce, 'hex'))
}

/** The canonical bytes of a receipt body (what is signed). */
export function encodeReceiptBody (r: ReceiptBody): Uint8Array {
  checkBody(r)
  const s = c.state()
  writeBody(s, r, true)
  s.buffer = b4a.alloc(s.end)
  s.start = 0
  writeBody(s, r, false)
  return s.buffer
}

function message (body: Uint8Array): Uint8Array {
  return b4a.concat([b4a.from(RECEIPT_DOMAIN + '\0'), body])
}

/** Signs a receipt with the executor's node secret key; `r.executor` must be its public key. */
export function signReceipt (r: ReceiptBody, secretKey: Uint8Array): SignedReceipt {
  const body = encodeReceiptBody(r)
  return { ...r, signature: b4a.toString(crypto.sign(message(body), secretKey), 'hex') }
}

/** Encodes a signed receipt for the wire and the ledger: body then the 64-byte signature. */
export function encodeReceipt (r: SignedReceipt): Uint8Array {
  if (typeof r.signature !== 'string' || !HEX64.test(r.signature)) bad('signature must be 128 hex characters')
  return b4a.concat([encodeReceiptBody(r), b4a.from(r.signature, 'hex')])
}

/** Decodes a receipt (structure only; see {@link verifyReceipt}). Throws `RECEIPT_INVALID`. */
export function decodeReceipt (bytes: Uint8Array): SignedReceipt {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength > MAX_RECEIPT_BYTES || bytes.byteLength < 65) bad(`receipt must be 65-${MAX_RECEIPT_BYTES} bytes`)
  let r: SignedReceipt
  try {
    const s = c.state(0, bytes.byteLength, bytes)
    const version = c.uint8.decode(s)
    if (version !== RECEIPT_VERSION) bad(`unknown receipt version ${version}`)
    const hex = (b: Uint8Array): string => b4a.toString(b, 'hex')
    r = {
      fn: c.string.decode(s),
      manifestSignature: hex(c.fixed64.decode(s)),
      moduleHash: hex(c.fixed32.decode(s)),
      inputHash: hex(c.fixed32.decode(s)),
      outputHash: hex(c.fixed32.decode(s)),
      fuel: c.uint.decode(s),
      executor: hex(c.fixed32.decode(s)),
      tenant: c.string.decode(s),
      time: c.uint.decode(s),
      nonce: hex(c.fixed32.decode(s)),
      signature: hex(c.fixed64.decode(s))
    }
    if (s.start !== s.end) bad('trailing bytes')
  } catch (err) {
    if (err instanceof ShadwError) throw err
    bad(`undecodable receipt: ${(err as Error).message}`)
  }
  if (!b4a.equals(encodeReceipt(r), bytes)) bad('receipt is not in canonical form')
  return r
}

/**
 * Checks a receipt's executor signature (and its field formats). Returns it when valid.
 *
 * @throws ShadwError `RECEIPT_INVALID`
 * @example
 * ```ts
 * const r = verifyReceipt(JSON.parse(text).receipt)
 * if (r.outputHash !== await sha256Hex(output)) throw new Error('not this output')
 * ```
 */
export function verifyReceipt (r: SignedReceipt): SignedReceipt {
  const body = encodeReceiptBody(r)
  if (typeof r.signature !== 'string' || !HEX64.test(r.signature)) bad('signature must be 128 hex characters')
  const ok = crypto.verify(message(body), b4a.from(r.signature, 'hex'), b4a.from(r.executor, 'hex'))
  if (!ok) throw ShadwError.RECEIPT_INVALID('executor signature does not verify', { executor: r.executor })
  return r
}

/** Copies only the receipt fields out of an untrusted object (a JSON file), for {@link verifyReceipt}. */
export function parseReceiptJson (value: unknown): SignedReceipt {
  if (typeof value !== 'object' || value === null) bad('receipt is not an object')
  const v = value as Record<string, unknown>
  const r = {
    fn: v['fn'],
    manifestSignature: v['manifestSignature'],
    moduleHash: v['moduleHash'],
    inputHash: v['inputHash'],
    outputHash: v['outputHash'],
    fuel: v['fuel'],
    executor: v['executor'],
    tenant: v['tenant'],
    time: v['time'],
    nonce: v['nonce'],
    signature: v['signature']
  } as SignedReceipt
  checkBody(r)
  if (typeof r.signature !== 'string' || !HEX64.test(r.signature)) bad('signature must be 128 hex characters')
  return r
}

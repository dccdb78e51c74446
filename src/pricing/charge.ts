/**
 * Charges: the price an executor applied to one receipt, as a record it signs with the same
 * node key and appends to its ledger beside the receipt. The receipt format (`shadw/receipt/v1`)
 * is left as it is — callers, the SDK and `shadw verify-receipt` already check it — and the
 * charge names its receipt by the SHA-256 of the receipt's encoded bytes, so the pair is as
 * binding as one record: editing either breaks the link or a signature.
 *
 * A charge counts only if its signature verifies under the receipt's executor, its fuel,
 * executor and tenant equal the receipt's, and its total is exactly what {@link charge} gives
 * for its quote: nobody can sign a total that the quote does not explain.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import { ShadwError } from '../core/errors.ts'
import { encodeReceipt, type SignedReceipt } from '../invoke/receipt.ts'
import { sha256 } from '../invoke/sha256.ts'
import { charge, type PriceQuote } from './price-curve.ts'
import { HEX, encodeBody, encoder, signBody, verifyBody } from './signed-codec.ts'

/** First byte of an encoded charge; receipts start with their version (1), so a ledger can hold both. */
export const CHARGE_TAG = 0xc1
/** Signature domain: a charge signature never passes for a receipt's. */
export const CHARGE_DOMAIN = 'shadw/charge/v1'
/** Tenant ids are at most 128 characters (as in receipts). */
const MAX_TENANT_CHARS = 128
/** A charge is < 250 bytes; anything larger is not one. */
export const MAX_CHARGE_BYTES = 512

/** The signed fields of a charge. */
export interface ChargeBody extends PriceQuote {
  /** SHA-256 of the encoded signed receipt (64 hex) */
  receiptHash: string
  /** the executor that signed both (64 hex) */
  executor: string
  tenant: string
  fuel: number
  /** input + output bytes moved */
  bytes: number
  /** µcredits: charge(quote, fuel, bytes) */
  total: number
}

/** A charge with the executor's signature (128 hex). */
export interface SignedCharge extends ChargeBody { signature: string }

const HEX32 = HEX(32)
const HEX64 = HEX(64)

function bad (why: string): never {
  throw ShadwError.CHARGE_INVALID(why)
}

function check (r: ChargeBody): void {
  if (typeof r !== 'object' || r === null) bad('charge is not an object')
  if (typeof r.receiptHash !== 'string' || !HEX32.test(r.receiptHash)) bad('receiptHash must be 64 hex characters')
  if (typeof r.executor !== 'string' || !HEX32.test(r.executor)) bad('executor must be 64 hex characters')
  if (typeof r.tenant !== 'string' || r.tenant.length === 0 || r.tenant.length > MAX_TENANT_CHARS) bad(`tenant must be 1-${MAX_TENANT_CHARS} characters`)
  for (const f of ['utilisationPpm', 'fuelPrice', 'bytePrice', 'fuel', 'bytes', 'total'] as const) {
    if (!Number.isSafeInteger(r[f]) || r[f] < 0) bad(`${f} must be a non-negative integer`)
  }
  if (r.utilisationPpm > 1_000_000) bad('utilisationPpm must be at most 10^6')
}

function body (r: ChargeBody): Uint8Array {
  check(r)
  return encodeBody((s, pre) => {
    const enc = encoder(s, pre)
    enc(c.uint8, CHARGE_TAG)
    enc(c.fixed32, b4a.from(r.receiptHash, 'hex'))
    enc(c.fixed32, b4a.from(r.executor, 'hex'))
    enc(c.string, r.tenant)
    enc(c.uint, r.utilisationPpm)
    enc(c.uint, r.fuelPrice)
    enc(c.uint, r.bytePrice)
    enc(c.uint, r.fuel)
    enc(c.uint, r.bytes)
    enc(c.uint, r.total)
  })
}

/** SHA-256 of a receipt's canonical encoding: how charges and attestations name it. */
export function receiptHash (r: SignedReceipt): string {
  return sha256(encodeReceipt(r))
}

/**
 * Prices a receipt at `q` and signs the charge with the executor's key (the one that signed
 * the receipt).
 *
 * @example
 * ```ts
 * const q = quote(pricing, service.slots - service.free, service.slots)
 * const record = encodeCharge(signCharge(receipt, q, input.byteLength + output.byteLength, keyPair.secretKey))
 * await ledger.append([encodeReceipt(receipt), record])
 * ```
 */
export function signCharge (receipt: SignedReceipt, q: PriceQuote, bytes: number, secretKey: Uint8Array): SignedCharge {
  const r: ChargeBody = {
    receiptHash: receiptHash(receipt),
    executor: receipt.executor,
    tenant: receipt.tenant,
    utilisationPpm: q.utilisationPpm,
    fuelPrice: q.fuelPrice,
    bytePrice: q.bytePrice,
    fuel: receipt.fuel,
    bytes,
    total: charge(q, receipt.fuel, bytes)
  }
  return { ...r, signature: b4a.toString(signBody(CHARGE_DOMAIN, body(r), secretKey), 'hex') }
}

/** Encoded form for the ledger: body then the 64-byte signature. */
export function encodeCharge (r: SignedCharge): Uint8Array {
  if (typeof r.signature !== 'string' || !HEX64.test(r.signature)) bad('signature must be 128 hex characters')
  return b4a.concat([body(r), b4a.from(r.signature, 'hex')])
}

/** Decodes a charge (structure only). @throws ShadwError `CHARGE_INVALID` */
export function decodeCharge (bytes: Uint8Array): SignedCharge {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength < 66 || bytes.byteLength > MAX_CHARGE_BYTES) bad(`charge must be 66-${MAX_CHARGE_BYTES} bytes`)
  let r: SignedCharge
  try {
    const s = c.state(0, bytes.byteLength, bytes)
    if (c.uint8.decode(s) !== CHARGE_TAG) bad('not a charge record')
    const hex = (b: Uint8Array): string => b4a.toString(b, 'hex')
    r = {
      receiptHash: hex(c.fixed32.decode(s)),
      executor: hex(c.fixed32.decode(s)),
      tenant: c.string.decode(s),
      utilisationPpm: c.uint.decode(s),
      fuelPrice: c.uint.decode(s),
      bytePrice: c.uint.decode(s),
      fuel: c.uint.decode(s),
      bytes: c.uint.decode(s),
      total: c.uint.decode(s),
      signature: hex(c.fixed64.decode(s))
    }
    if (s.start !== s.end) bad('trailing bytes')
  } catch (err) {
    if (err instanceof ShadwError) throw err
    bad(`undecodable charge: ${(err as Error).message}`)
  }
  if (!b4a.equals(encodeCharge(r), bytes)) bad('charge is not in canonical form')
  return r
}

/**
 * Checks a charge against the receipt it names (which the caller has verified): signature by
 * the receipt's executor, same fuel and tenant, and a total its quote explains.
 *
 * @throws ShadwError `CHARGE_INVALID`
 */
export function verifyCharge (r: SignedCharge, receipt: SignedReceipt): SignedCharge {
  const b = body(r)
  if (r.receiptHash !== receiptHash(receipt)) bad('names another receipt')
  if (r.executor !== receipt.executor) bad('is not by the receipt\'s executor')
  if (r.fuel !== receipt.fuel || r.tenant !== receipt.tenant) bad('fuel or tenant differ from the receipt')
  if (r.total !== charge(r, r.fuel, r.bytes)) bad(`total ${r.total} is not what its quote gives (${charge(r, r.fuel, r.bytes)})`)
  if (!verifyBody(CHARGE_DOMAIN, b, b4a.from(r.signature, 'hex'), b4a.from(r.executor, 'hex'))) bad('executor signature does not verify')
  return r
}

/**
 * The co-signed pin record: the agreement behind a holder's storage receipts, signed by both
 * sides. The pinner signs an order naming the drive, the holder it asks, the bytes, the time
 * and the prices (storage per GiB-month, serving per MiB); the holder checks the order,
 * signs the same body and appends the record (both signatures) to its storage ledger when it
 * holds the pin. A holder's `hold` and `serve` receipts (storage-receipt.ts, signed by the
 * holder alone) are paid only under such a record: same holder, drive and pinner, the
 * agreed price, bytes within the agreed bytes, a period not starting before the order (see
 * storage-credits.ts). So a holder cannot bill anyone for storage they did not ask for: it
 * would need the pinner's signature.
 *
 * Wire and ledger format (version = tag; a changed layout takes a new tag): tag `0xc3`, then
 * compact-encoded `drive`, `holder`, `pinner` (32 bytes each), `bytes`, `time`, `price`,
 * `servePrice` (uints), then the holder's 64-byte ed25519 signature under
 * `shadw/storage-pin/holder/v1` and the pinner's under `shadw/storage-pin/pinner/v1`, both
 * over the body (tag included). The two domains keep one key from signing for both sides
 * with one signature (a node may pin onto itself). See docs/storage.md.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import { encodeFields, put } from '../encoding.ts'
import { ShadwError } from '../errors.ts'
import { isHex, isHexKey } from '../hex.ts'
import { sha256 } from '../sha256.ts'
import { SignatureDomain } from '../signature-domain.ts'
import { MAX_STORAGE_UNIT_PRICE } from './storage-receipt.ts'

/** First byte of a co-signed pin record (storage receipts 0xc1, release records 0xc2). */
export const STORAGE_PIN_TAG = 0xc3
/** The holder's signature domain. */
export const STORAGE_PIN_HOLDER_DOMAIN = 'shadw/storage-pin/holder/v1'
/** The pinner's signature domain (the order). */
export const STORAGE_PIN_PINNER_DOMAIN = 'shadw/storage-pin/pinner/v1'
/** A record is under 260 bytes. */
const MAX_BYTES_RECORD = 320
const MAX_BYTES = 2 ** 50

/** What both sides sign. Keys are lowercase hex. */
export interface StoragePinBody {
  drive: string
  /** the node asked to hold: it signs, and earns under this record */
  holder: string
  /** who asked: it signs the order, and owes under this record */
  pinner: string
  /** bytes of the pin (the sum of its logs' byte lengths) */
  bytes: number
  /** when the pinner ordered it, ms since the epoch: nothing before it is billed */
  time: number
  /** µcredits per GiB-month held */
  price: number
  /** µcredits per MiB served */
  servePrice: number
}

/** The pinner's order: the body and its signature (128 hex). */
export interface StorageOrder extends StoragePinBody { pinnerSignature: string }

/** The record a holder appends: the order and the holder's signature over the same body. */
export interface CosignedPin extends StorageOrder { holderSignature: string }

const HOLDER = new SignatureDomain(STORAGE_PIN_HOLDER_DOMAIN)
const PINNER = new SignatureDomain(STORAGE_PIN_PINNER_DOMAIN)

function bad (why: string): never {
  throw ShadwError.STORAGE_RECEIPT_INVALID(`pin record: ${why}`)
}

function uint (v: unknown, what: string, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) bad(`${what} must be an integer 0-${max}`)
  return v
}

function body (r: StoragePinBody): Uint8Array {
  if (typeof r !== 'object' || r === null) bad('not an object')
  for (const f of ['drive', 'holder', 'pinner'] as const) if (!isHexKey(r[f])) bad(`${f} must be 64 hex characters`)
  uint(r.bytes, 'bytes', MAX_BYTES)
  uint(r.time, 'time', Number.MAX_SAFE_INTEGER)
  uint(r.price, 'price', MAX_STORAGE_UNIT_PRICE)
  uint(r.servePrice, 'servePrice', MAX_STORAGE_UNIT_PRICE)
  return encodeFields((s, pre) => {
    put(s, pre, c.uint8, STORAGE_PIN_TAG)
    put(s, pre, c.fixed32, b4a.from(r.drive, 'hex'))
    put(s, pre, c.fixed32, b4a.from(r.holder, 'hex'))
    put(s, pre, c.fixed32, b4a.from(r.pinner, 'hex'))
    put(s, pre, c.uint, r.bytes)
    put(s, pre, c.uint, r.time)
    put(s, pre, c.uint, r.price)
    put(s, pre, c.uint, r.servePrice)
  })
}

function fields (r: StoragePinBody): StoragePinBody {
  return { drive: r.drive, holder: r.holder, pinner: r.pinner, bytes: r.bytes, time: r.time, price: r.price, servePrice: r.servePrice }
}

/** The pinner signs an order for one holder. */
export function signStorageOrder (b: Omit<StoragePinBody, 'pinner'>, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }): StorageOrder {
  const r = fields({ ...b, pinner: b4a.toString(keyPair.publicKey, 'hex') })
  return { ...r, pinnerSignature: b4a.toString(PINNER.sign(body(r), keyPair.secretKey), 'hex') }
}

/** Checks an order's fields and the pinner's signature. @throws ShadwError `STORAGE_RECEIPT_INVALID` */
export function verifyStorageOrder (o: StorageOrder): StorageOrder {
  const r = { ...fields(o), pinnerSignature: o.pinnerSignature }
  if (!isHex(r.pinnerSignature, 64)) bad('pinner signature must be 128 hex characters')
  if (!PINNER.verify(body(r), b4a.from(r.pinnerSignature, 'hex'), b4a.from(r.pinner, 'hex'))) bad('pinner signature does not verify')
  return r
}

/** The holder countersigns a checked order (its key must be the order's holder). */
export function cosignStorageOrder (o: StorageOrder, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }): CosignedPin {
  const r = verifyStorageOrder(o)
  if (r.holder !== b4a.toString(keyPair.publicKey, 'hex')) bad('the order names another holder')
  return { ...r, holderSignature: b4a.toString(HOLDER.sign(body(r), keyPair.secretKey), 'hex') }
}

/** Checks both signatures. Returns the record when valid. @throws ShadwError `STORAGE_RECEIPT_INVALID` */
export function verifyCosignedPin (r: CosignedPin): CosignedPin {
  const order = verifyStorageOrder(r)
  if (!isHex(r.holderSignature, 64)) bad('holder signature must be 128 hex characters')
  if (!HOLDER.verify(body(order), b4a.from(r.holderSignature, 'hex'), b4a.from(order.holder, 'hex'))) bad('holder signature does not verify')
  return { ...order, holderSignature: r.holderSignature }
}

/** Encoded form for a ledger: body, holder signature, pinner signature. */
export function encodeCosignedPin (r: CosignedPin): Uint8Array {
  if (!isHex(r.holderSignature, 64) || !isHex(r.pinnerSignature, 64)) bad('signatures must be 128 hex characters')
  return b4a.concat([body(r), b4a.from(r.holderSignature, 'hex'), b4a.from(r.pinnerSignature, 'hex')])
}

/** Decodes a record (structure only; see {@link verifyCosignedPin}); canonical form only. @throws ShadwError `STORAGE_RECEIPT_INVALID` */
export function decodeCosignedPin (bytes: Uint8Array): CosignedPin {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength < 100 + 128 || bytes.byteLength > MAX_BYTES_RECORD) bad(`must be 228-${MAX_BYTES_RECORD} bytes`)
  let r: CosignedPin
  try {
    const s = c.state(0, bytes.byteLength, bytes)
    if (c.uint8.decode(s) !== STORAGE_PIN_TAG) bad('not a pin record')
    const hex = (b: Uint8Array): string => b4a.toString(b, 'hex')
    r = {
      drive: hex(c.fixed32.decode(s)),
      holder: hex(c.fixed32.decode(s)),
      pinner: hex(c.fixed32.decode(s)),
      bytes: c.uint.decode(s),
      time: c.uint.decode(s),
      price: c.uint.decode(s),
      servePrice: c.uint.decode(s),
      holderSignature: hex(c.fixed64.decode(s)),
      pinnerSignature: hex(c.fixed64.decode(s))
    }
    if (s.start !== s.end) bad('trailing bytes')
  } catch (err) {
    if (err instanceof ShadwError) throw err
    bad(`undecodable: ${(err as Error).message}`)
  }
  if (!b4a.equals(encodeCosignedPin(r), bytes)) bad('not in canonical form')
  return r
}

/** Copies only an order's fields out of an untrusted object (a peer's message) and checks it. */
export function parseStorageOrder (v: unknown): StorageOrder {
  if (typeof v !== 'object' || v === null) bad('order is not an object')
  const o = v as Record<string, unknown>
  return verifyStorageOrder({ drive: o.drive, holder: o.holder, pinner: o.pinner, bytes: o.bytes, time: o.time, price: o.price, servePrice: o.servePrice, pinnerSignature: o.pinnerSignature } as StorageOrder)
}

/** SHA-256 of a record's encoding: copies of one record count once. */
export function cosignedPinHash (r: CosignedPin): string {
  return sha256(encodeCosignedPin(r))
}

/**
 * Storage receipts: a holder's signed word about storage it gave a pinner. Three kinds:
 *
 * - `pin`: it took a pin (fetched and checked every log) at the price it asked then: the
 *   agreement. Covers no time, so its total is 0.
 * - `hold`: it held `bytes` of the drive from `from` to `to` (ms): one per re-confirmation,
 *   each period starting where the last ended (or where holding resumed after a restart, so
 *   time the holder was down is never billed, and shows as a gap).
 * - `serve`: it served `bytes` of the drive's blocks to peers between `from` and `to`.
 *
 * The total is exactly what the price gives (GiB-month pro rata for `hold`, per MiB for
 * `serve`, rounded down), or the receipt does not verify: nobody can sign a total its price
 * does not explain. The holder appends receipts to its own storage ledger log; the pinner
 * named in them owes the totals (storage-credits.ts). A receipt is the holder's claim, not a
 * proof of storage: co-holders' proof verdicts (proof-verdict.ts) are, and a `hold` period is
 * unpaid where a quorum of them failed the holder (docs/storage.md).
 *
 * Framing is the shared signed-record codec: tag `0xc1` (which is also the version: a
 * changed layout takes a new tag), compact-encoded fields, an ed25519 signature under its
 * own domain.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import { encodeFields, put } from '../encoding.ts'
import { ShadwError } from '../errors.ts'
import { isHex, isHexKey } from '../hex.ts'
import { sha256 } from '../sha256.ts'
import { SignatureDomain } from '../signature-domain.ts'
import { decodeSigned, encodeSigned, type RecordKind } from './signed-codec.ts'

/** First byte of an encoded storage receipt (compute receipts start with 3-6, attestations 0xa1, misses 0xb1). */
export const STORAGE_RECEIPT_TAG = 0xc1
/** Signature domain: a storage receipt's signature never passes for a compute receipt's or a hold confirmation's. */
export const STORAGE_RECEIPT_DOMAIN = 'shadw/storage-receipt/v1'
/** A storage receipt is under 200 bytes; anything larger is not one. */
export const MAX_STORAGE_RECEIPT_BYTES = 256
/** Bytes in a GiB: the unit storage is priced in. */
export const GIB = 2 ** 30
/** Bytes in a MiB: the unit serving is priced in. */
export const MIB = 2 ** 20
/** A month for pricing: 30 days in ms. */
export const MONTH_MS = 30 * 24 * 3600_000
/** Highest unit price a receipt may carry (µcredits per GiB-month or per MiB). */
export const MAX_STORAGE_UNIT_PRICE = 1e12
/** Largest byte count a receipt may carry: 1 PiB. */
const MAX_BYTES = 2 ** 50

/** What a storage receipt is for (see the module comment). */
export type StorageKind = 'pin' | 'hold' | 'serve'
const KINDS: readonly StorageKind[] = ['pin', 'hold', 'serve']

/** The signed fields of a storage receipt. Keys are lowercase hex. */
export interface StorageReceiptBody {
  kind: StorageKind
  /** the drive's key (64 hex) */
  drive: string
  /** the holder's node key (64 hex): it signs, and earns the total */
  holder: string
  /** the node key of who asked for the pin (64 hex): it owes the total */
  pinner: string
  /** bytes held (`pin`, `hold`) or served (`serve`) */
  bytes: number
  /** start of the period covered, ms since the epoch (`pin`: when it was taken) */
  from: number
  /** end of the period covered, ms since the epoch (`pin`: equal to `from`) */
  to: number
  /** µcredits per GiB-month (`pin`, `hold`) or per MiB (`serve`): the price of the accepted pin */
  price: number
  /** µcredits owed: exactly {@link storageCharge} of the fields above */
  total: number
}

/** A storage receipt with the holder's signature (128 hex). */
export interface SignedStorageReceipt extends StorageReceiptBody { signature: string }

const SIGNATURE = new SignatureDomain(STORAGE_RECEIPT_DOMAIN)

function bad (why: string): never {
  throw ShadwError.STORAGE_RECEIPT_INVALID(why)
}

/**
 * What a storage receipt bills, µcredits, rounded down: `pin` 0; `hold` bytes/GiB × (to −
 * from)/month × price; `serve` bytes/MiB × price. Exact (big integers), so every checker
 * gets the same figure.
 */
export function storageCharge (kind: StorageKind, bytes: number, from: number, to: number, price: number): number {
  if (kind === 'pin') return 0
  if (kind === 'serve') return Number(BigInt(bytes) * BigInt(price) / BigInt(MIB))
  return Number(BigInt(bytes) * BigInt(to - from) * BigInt(price) / (BigInt(GIB) * BigInt(MONTH_MS)))
}

function check (r: StorageReceiptBody): void {
  if (typeof r !== 'object' || r === null) bad('storage receipt is not an object')
  if (!KINDS.includes(r.kind)) bad('kind must be pin, hold or serve')
  for (const f of ['drive', 'holder', 'pinner'] as const) if (!isHexKey(r[f])) bad(`${f} must be 64 hex characters`)
  if (!Number.isSafeInteger(r.bytes) || r.bytes < 0 || r.bytes > MAX_BYTES) bad(`bytes must be an integer 0-${MAX_BYTES}`)
  if (!Number.isSafeInteger(r.from) || r.from < 0) bad('from must be a non-negative integer')
  if (!Number.isSafeInteger(r.to) || r.to < r.from) bad('to must be an integer not before from')
  if (r.kind === 'pin' && r.to !== r.from) bad('a pin receipt covers no time (to equals from)')
  if (!Number.isSafeInteger(r.price) || r.price < 0 || r.price > MAX_STORAGE_UNIT_PRICE) bad(`price must be an integer 0-${MAX_STORAGE_UNIT_PRICE}`)
  if (!Number.isSafeInteger(r.total) || r.total !== storageCharge(r.kind, r.bytes, r.from, r.to, r.price)) bad(`total ${String(r.total)} is not what the receipt's price gives for its bytes and time`)
}

function body (r: StorageReceiptBody): Uint8Array {
  check(r)
  return encodeFields((s, pre) => {
    put(s, pre, c.uint8, STORAGE_RECEIPT_TAG)
    put(s, pre, c.uint8, KINDS.indexOf(r.kind))
    put(s, pre, c.fixed32, b4a.from(r.drive, 'hex'))
    put(s, pre, c.fixed32, b4a.from(r.holder, 'hex'))
    put(s, pre, c.fixed32, b4a.from(r.pinner, 'hex'))
    put(s, pre, c.uint, r.bytes)
    put(s, pre, c.uint, r.from)
    put(s, pre, c.uint, r.to)
    put(s, pre, c.uint, r.price)
    put(s, pre, c.uint, r.total)
  })
}

/**
 * Signs a storage receipt with the holder's node key pair; the total is computed here.
 *
 * @example
 * ```ts
 * const r = signStorageReceipt({ kind: 'hold', drive, pinner, bytes, from, to: Date.now(), price }, node.keyPair)
 * await ledger.append([encodeStorageReceipt(r)])
 * ```
 */
export function signStorageReceipt (b: Omit<StorageReceiptBody, 'holder' | 'total'>, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }): SignedStorageReceipt {
  const r: StorageReceiptBody = { kind: b.kind, drive: b.drive, holder: b4a.toString(keyPair.publicKey, 'hex'), pinner: b.pinner, bytes: b.bytes, from: b.from, to: b.to, price: b.price, total: 0 }
  if (KINDS.includes(r.kind) && [r.bytes, r.from, r.to, r.price].every(v => Number.isSafeInteger(v) && v >= 0) && r.to >= r.from) r.total = storageCharge(r.kind, r.bytes, r.from, r.to, r.price)
  return { ...r, signature: b4a.toString(SIGNATURE.sign(body(r), keyPair.secretKey), 'hex') }
}

const KIND: RecordKind = { tag: STORAGE_RECEIPT_TAG, name: 'storage receipt', maxBytes: MAX_STORAGE_RECEIPT_BYTES, bad }

/** Encoded form for a ledger: body then the 64-byte signature. */
export function encodeStorageReceipt (r: SignedStorageReceipt): Uint8Array {
  return encodeSigned(KIND, body(r), r.signature)
}

/** Decodes a storage receipt (structure only; see {@link verifyStorageReceipt}). @throws ShadwError `STORAGE_RECEIPT_INVALID` */
export function decodeStorageReceipt (bytes: Uint8Array): SignedStorageReceipt {
  return decodeSigned<SignedStorageReceipt>(KIND, bytes, s => {
    const hex = (b: Uint8Array): string => b4a.toString(b, 'hex')
    const kind = KINDS[c.uint8.decode(s)]
    if (kind === undefined) bad('unknown kind')
    return {
      kind,
      drive: hex(c.fixed32.decode(s)),
      holder: hex(c.fixed32.decode(s)),
      pinner: hex(c.fixed32.decode(s)),
      bytes: c.uint.decode(s),
      from: c.uint.decode(s),
      to: c.uint.decode(s),
      price: c.uint.decode(s),
      total: c.uint.decode(s)
    }
  }, encodeStorageReceipt)
}

/** Checks the fields and the holder's signature. Returns it when valid. @throws ShadwError `STORAGE_RECEIPT_INVALID` */
export function verifyStorageReceipt (r: SignedStorageReceipt): SignedStorageReceipt {
  const b = body(r)
  if (!isHex(r.signature, 64)) bad('signature must be 128 hex characters')
  if (!SIGNATURE.verify(b, b4a.from(r.signature, 'hex'), b4a.from(r.holder, 'hex'))) bad('holder signature does not verify')
  return r
}

/** Copies only the storage receipt fields out of an untrusted object (a JSON file), for {@link verifyStorageReceipt}. */
export function parseStorageReceiptJson (value: unknown): SignedStorageReceipt {
  if (typeof value !== 'object' || value === null) bad('storage receipt is not an object')
  const v = value as Record<string, unknown>
  const r = { kind: v.kind, drive: v.drive, holder: v.holder, pinner: v.pinner, bytes: v.bytes, from: v.from, to: v.to, price: v.price, total: v.total, signature: v.signature } as SignedStorageReceipt
  check(r)
  if (!isHex(r.signature, 64)) bad('signature must be 128 hex characters')
  return r
}

/** SHA-256 of a storage receipt's canonical encoding (64 hex): copies of one receipt are paid once. */
export function storageReceiptHash (r: SignedStorageReceipt): string {
  return sha256(encodeStorageReceipt(r))
}

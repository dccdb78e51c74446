/**
 * Standing orders and replacement records: how a re-pinned replica is paid without its pinner.
 *
 * A co-signed pin record (storage-pin.ts) names one holder, so the pinner must sign for each
 * holder it asks; a holder the swarm picks later, when one of the first is gone, has no such
 * record and holds unpaid. A **standing order** is the pinner's signature over what it is
 * willing to pay for the drive as a whole: `replicas` concurrent holders of `bytes`, from
 * `time` until `until`, at most `price` per GiB-month and `servePrice` per MiB served, and
 * the grace period (`graceMs`) after which a silent holder may be replaced. It names no holder.
 *
 * A **replacement record** (tag `0xc6`) carries the standing order and says: `holder` takes
 * the place of `replaces` from `time`, at `price`/`servePrice` (within the order's caps),
 * `replaces` having last been seen at `lastSeen` (at least `graceMs` before `time`). It is
 * signed by the `repairer` (a holder of the drive under the order, who chose the new holder)
 * and by the new `holder` (who agrees to the terms); the new holder appends it to its storage
 * ledger. Who is a current holder under an order is decided when ledgers are read
 * (storage-credits.ts): the order's first holders are those of the pinner's co-signed pin
 * records, and each valid replacement swaps one out and one in, so an order never pays more
 * than `replicas` holders at once.
 *
 * Wire and ledger format (version = tag; a changed layout takes a new tag). Standing order:
 * tag `0xc5`, compact-encoded `drive`, `pinner` (32 bytes each), `bytes`, `replicas`, `time`,
 * `until`, `price`, `servePrice`, `graceMs` (uints), then the pinner's 64-byte signature under
 * `shadw/standing-order/v1` over the fields before it. Replacement: tag `0xc6`, the encoded
 * standing order (length-prefixed), `holder`, `replaces`, `repairer` (32 bytes each),
 * `lastSeen`, `time`, `price`, `servePrice` (uints), then the repairer's signature under
 * `shadw/replacement/repairer/v1` and the holder's under `shadw/replacement/holder/v1`, both
 * over the body (tag included).
 *
 * **Slot orders** extend both to erasure pins, whose holders each keep one slot (shard index)
 * of K+M: the order names the erasure pin's `root` and pays `replicas` = K+M slots of `bytes`
 * (a slot's bytes) each; a replacement under it names the `slot` its new holder takes over.
 * Same fields otherwise, same signatures and domains (the tag is part of what is signed, so a
 * slot order never verifies as a drive's). Slot order: tag `0xcc`, the standing order's
 * fields then `root` (32 bytes), then the signature. Slot replacement: tag `0xcd`, the
 * replacement's fields (the slot order inside) then `slot` (uint), then both signatures.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import { encodeFields, put } from '../encoding.ts'
import { ShadwError } from '../errors.ts'
import { isHex, isHexKey } from '../hex.ts'
import { sha256 } from '../sha256.ts'
import { SignatureDomain } from '../signature-domain.ts'
import { MAX_STORAGE_UNIT_PRICE } from './storage-receipt.ts'

/** First byte of an encoded standing order. */
export const STANDING_ORDER_TAG = 0xc5
/** First byte of a replacement record (co-signed pin records are 0xc3, verdicts 0xc4). */
export const REPLACEMENT_TAG = 0xc6
/** First bytes of a slot order and of a replacement under one (erasure pins). */
export const SLOT_ORDER_TAG = 0xcc
export const SLOT_REPLACEMENT_TAG = 0xcd
/** The pinner's signature domain for standing orders. */
export const STANDING_ORDER_DOMAIN = 'shadw/standing-order/v1'
/** The repairer's and the new holder's signature domains: one key never signs both sides with one signature. */
export const REPLACEMENT_REPAIRER_DOMAIN = 'shadw/replacement/repairer/v1'
export const REPLACEMENT_HOLDER_DOMAIN = 'shadw/replacement/holder/v1'
/** An order is under 200 bytes, a replacement under 500. */
const MAX_ORDER_BYTES = 256
const MAX_REPLACEMENT_BYTES = 640
const MAX_BYTES = 2 ** 50
/** A standing order for more holders than a pin may have is not one we sign or read. */
const MAX_STANDING_REPLICAS = 16
/** Slots of an erasure pin at most (the pinning layer's K+M bound). */
const MAX_SLOTS = 64

/** What the pinner signs. Keys are lowercase hex. */
export interface StandingOrderBody {
  drive: string
  /** who owes for every holder under the order */
  pinner: string
  /** bytes of the pin: a holder under the order bills at most these */
  bytes: number
  /** most holders paid at once */
  replicas: number
  /** when it was signed, ms since the epoch: nothing before it is billed */
  time: number
  /** when it ends: nothing after it is billed under it */
  until: number
  /** the most it pays, µcredits per GiB-month held */
  price: number
  /** the most it pays, µcredits per MiB served */
  servePrice: number
  /** silence after which a holder may be replaced, ms */
  graceMs: number
  /** a slot order's erasure pin (its root): `replicas` is then its K+M slots */
  root?: string
}

/** A standing order with the pinner's signature (128 hex). */
export interface StandingOrder extends StandingOrderBody { pinnerSignature: string }

/** The fields of a replacement the repairer and the new holder sign. */
export interface ReplacementBody {
  order: StandingOrder
  /** the new holder: it earns under the order from `time` */
  holder: string
  /** the holder it takes the place of */
  replaces: string
  /** the holder under the order that chose the new one and signs for it */
  repairer: string
  /** the slot the new holder takes over: present exactly when the order is a slot order */
  slot?: number
  /** when `replaces` was last heard from (its newest hold confirmation the repairer knew) */
  lastSeen: number
  time: number
  price: number
  servePrice: number
}

/** The repairer's offer to the new holder. */
export interface ReplacementOffer extends ReplacementBody { repairerSignature: string }

/** The record the new holder appends: both signatures. */
export interface Replacement extends ReplacementOffer { holderSignature: string }

const ORDER = new SignatureDomain(STANDING_ORDER_DOMAIN)
const REPAIRER = new SignatureDomain(REPLACEMENT_REPAIRER_DOMAIN)
const HOLDER = new SignatureDomain(REPLACEMENT_HOLDER_DOMAIN)
const hex = (b: Uint8Array): string => b4a.toString(b, 'hex')

function bad (why: string): never {
  throw ShadwError.STORAGE_RECEIPT_INVALID(`standing order: ${why}`)
}

function uint (v: unknown, what: string, max: number, min = 0): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) bad(`${what} must be an integer ${min}-${max}`)
  return v
}

function orderFields (o: StandingOrderBody): StandingOrderBody {
  if (typeof o !== 'object' || o === null) bad('order is not an object')
  for (const f of ['drive', 'pinner'] as const) if (!isHexKey(o[f])) bad(`${f} must be 64 hex characters`)
  const r: StandingOrderBody = {
    drive: o.drive,
    pinner: o.pinner,
    bytes: uint(o.bytes, 'bytes', MAX_BYTES),
    replicas: uint(o.replicas, 'replicas', o.root === undefined ? MAX_STANDING_REPLICAS : MAX_SLOTS, 1),
    time: uint(o.time, 'time', Number.MAX_SAFE_INTEGER),
    until: uint(o.until, 'until', Number.MAX_SAFE_INTEGER),
    price: uint(o.price, 'price', MAX_STORAGE_UNIT_PRICE),
    servePrice: uint(o.servePrice, 'servePrice', MAX_STORAGE_UNIT_PRICE),
    graceMs: uint(o.graceMs, 'graceMs', Number.MAX_SAFE_INTEGER, 1)
  }
  if (r.until <= r.time) bad('until must be after time')
  if (o.root !== undefined) {
    if (!isHexKey(o.root)) bad('root must be 64 hex characters')
    r.root = o.root
  }
  return r
}

function orderBody (r: StandingOrderBody): Uint8Array {
  return encodeFields((s, pre) => {
    put(s, pre, c.uint8, r.root === undefined ? STANDING_ORDER_TAG : SLOT_ORDER_TAG)
    put(s, pre, c.fixed32, b4a.from(r.drive, 'hex'))
    put(s, pre, c.fixed32, b4a.from(r.pinner, 'hex'))
    for (const v of [r.bytes, r.replicas, r.time, r.until, r.price, r.servePrice, r.graceMs]) put(s, pre, c.uint, v)
    if (r.root !== undefined) put(s, pre, c.fixed32, b4a.from(r.root, 'hex'))
  })
}

/** The pinner signs a standing order for its drive. */
export function signStandingOrder (b: Omit<StandingOrderBody, 'pinner'>, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }): StandingOrder {
  const r = orderFields({ ...b, pinner: hex(keyPair.publicKey) })
  return { ...r, pinnerSignature: hex(ORDER.sign(orderBody(r), keyPair.secretKey)) }
}

/** Checks a standing order's fields and signature; copies only its fields (safe on a peer's object). @throws ShadwError `STORAGE_RECEIPT_INVALID` */
export function verifyStandingOrder (o: StandingOrder): StandingOrder {
  const r = orderFields(o)
  const sig = (o as { pinnerSignature?: unknown }).pinnerSignature
  if (!isHex(sig, 64)) bad('pinner signature must be 128 hex characters')
  if (!ORDER.verify(orderBody(r), b4a.from(sig, 'hex'), b4a.from(r.pinner, 'hex'))) bad('pinner signature does not verify')
  return { ...r, pinnerSignature: sig }
}

/** The order's encoding: body and signature. */
export function encodeStandingOrder (o: StandingOrder): Uint8Array {
  return b4a.concat([orderBody(orderFields(o)), b4a.from(o.pinnerSignature, 'hex')])
}

/** SHA-256 of the order's encoding: replacements under one order share it. */
export function standingOrderHash (o: StandingOrder): string {
  return sha256(encodeStandingOrder(o))
}

function decodeOrder (bytes: Uint8Array): StandingOrder {
  if (bytes.byteLength > MAX_ORDER_BYTES) bad('order too large')
  const s = c.state(0, bytes.byteLength, bytes)
  const tag = c.uint8.decode(s)
  if (tag !== STANDING_ORDER_TAG && tag !== SLOT_ORDER_TAG) bad('not a standing order')
  const drive = hex(c.fixed32.decode(s))
  const pinner = hex(c.fixed32.decode(s))
  const [bytesHeld, replicas, time, until, price, servePrice, graceMs] = Array.from({ length: 7 }, () => c.uint.decode(s)) as [number, number, number, number, number, number, number]
  const root = tag === SLOT_ORDER_TAG ? { root: hex(c.fixed32.decode(s)) } : {}
  const pinnerSignature = hex(c.fixed64.decode(s))
  if (s.start !== s.end) bad('trailing bytes in order')
  return { drive, pinner, bytes: bytesHeld, replicas, time, until, price, servePrice, graceMs, ...root, pinnerSignature }
}

function replacementFields (b: ReplacementBody): ReplacementBody {
  if (typeof b !== 'object' || b === null) bad('replacement is not an object')
  const order = verifyStandingOrder(b.order)
  for (const f of ['holder', 'replaces', 'repairer'] as const) if (!isHexKey(b[f])) bad(`${f} must be 64 hex characters`)
  const r: ReplacementBody = {
    order,
    holder: b.holder,
    replaces: b.replaces,
    repairer: b.repairer,
    lastSeen: uint(b.lastSeen, 'lastSeen', Number.MAX_SAFE_INTEGER),
    time: uint(b.time, 'time', Number.MAX_SAFE_INTEGER),
    price: uint(b.price, 'price', order.price),
    servePrice: uint(b.servePrice, 'servePrice', order.servePrice)
  }
  if ((order.root === undefined) !== (b.slot === undefined)) bad('a replacement names a slot exactly when its order is a slot order')
  if (b.slot !== undefined) r.slot = uint(b.slot, 'slot', order.replicas - 1)
  if (new Set([r.holder, r.replaces, r.repairer]).size !== 3) bad('holder, replaced holder and repairer must be three nodes')
  if (r.time < order.time || r.time >= order.until) bad('the replacement falls outside the order')
  if (r.time - r.lastSeen < order.graceMs) bad(`the replaced holder was seen ${r.time - r.lastSeen} ms before, within the order's grace of ${order.graceMs} ms`)
  return r
}

function replacementBody (r: ReplacementBody): Uint8Array {
  return encodeFields((s, pre) => {
    put(s, pre, c.uint8, r.slot === undefined ? REPLACEMENT_TAG : SLOT_REPLACEMENT_TAG)
    put(s, pre, c.buffer, encodeStandingOrder(r.order))
    for (const k of [r.holder, r.replaces, r.repairer]) put(s, pre, c.fixed32, b4a.from(k, 'hex'))
    for (const v of [r.lastSeen, r.time, r.price, r.servePrice]) put(s, pre, c.uint, v)
    if (r.slot !== undefined) put(s, pre, c.uint, r.slot)
  })
}

/** The repairer signs its offer of a replaced holder's place to `holder`. @throws ShadwError `STORAGE_RECEIPT_INVALID` */
export function signReplacement (b: Omit<ReplacementBody, 'repairer'>, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }): ReplacementOffer {
  const r = replacementFields({ ...b, repairer: hex(keyPair.publicKey) })
  return { ...r, repairerSignature: hex(REPAIRER.sign(replacementBody(r), keyPair.secretKey)) }
}

/** Checks an offer's fields and the repairer's signature; copies only its fields. @throws ShadwError `STORAGE_RECEIPT_INVALID` */
export function verifyReplacementOffer (o: ReplacementOffer): ReplacementOffer {
  const r = replacementFields(o)
  const sig = (o as { repairerSignature?: unknown }).repairerSignature
  if (!isHex(sig, 64)) bad('repairer signature must be 128 hex characters')
  if (!REPAIRER.verify(replacementBody(r), b4a.from(sig, 'hex'), b4a.from(r.repairer, 'hex'))) bad('repairer signature does not verify')
  return { ...r, repairerSignature: sig }
}

/** The new holder countersigns a checked offer (its key must be the offer's holder). */
export function cosignReplacement (o: ReplacementOffer, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }): Replacement {
  const r = verifyReplacementOffer(o)
  if (r.holder !== hex(keyPair.publicKey)) bad('the replacement names another holder')
  return { ...r, holderSignature: hex(HOLDER.sign(replacementBody(r), keyPair.secretKey)) }
}

/** Checks both signatures of a replacement record. @throws ShadwError `STORAGE_RECEIPT_INVALID` */
export function verifyReplacement (r: Replacement): Replacement {
  const o = verifyReplacementOffer(r)
  const sig = (r as { holderSignature?: unknown }).holderSignature
  if (!isHex(sig, 64)) bad('holder signature must be 128 hex characters')
  if (!HOLDER.verify(replacementBody(o), b4a.from(sig, 'hex'), b4a.from(o.holder, 'hex'))) bad('holder signature does not verify')
  return { ...o, holderSignature: sig }
}

/** Encoded form for a ledger: body, repairer signature, holder signature. */
export function encodeReplacement (r: Replacement): Uint8Array {
  if (!isHex(r.repairerSignature, 64) || !isHex(r.holderSignature, 64)) bad('signatures must be 128 hex characters')
  return b4a.concat([replacementBody(replacementFields(r)), b4a.from(r.repairerSignature, 'hex'), b4a.from(r.holderSignature, 'hex')])
}

/** Decodes a replacement record (structure only; see {@link verifyReplacement}); canonical form only. @throws ShadwError `STORAGE_RECEIPT_INVALID` */
export function decodeReplacement (bytes: Uint8Array): Replacement {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength > MAX_REPLACEMENT_BYTES) bad(`a replacement is at most ${MAX_REPLACEMENT_BYTES} bytes`)
  let r: Replacement
  try {
    const s = c.state(0, bytes.byteLength, bytes)
    const tag = c.uint8.decode(s)
    if (tag !== REPLACEMENT_TAG && tag !== SLOT_REPLACEMENT_TAG) bad('not a replacement record')
    const order = decodeOrder(c.buffer.decode(s) ?? new Uint8Array(0))
    const [holder, replaces, repairer] = [0, 1, 2].map(() => hex(c.fixed32.decode(s))) as [string, string, string]
    const [lastSeen, time, price, servePrice] = [0, 1, 2, 3].map(() => c.uint.decode(s)) as [number, number, number, number]
    const slot = tag === SLOT_REPLACEMENT_TAG ? { slot: c.uint.decode(s) } : {}
    const repairerSignature = hex(c.fixed64.decode(s))
    const holderSignature = hex(c.fixed64.decode(s))
    if (s.start !== s.end) bad('trailing bytes')
    r = { order, holder, replaces, repairer, ...slot, lastSeen, time, price, servePrice, repairerSignature, holderSignature }
  } catch (err) {
    if (err instanceof ShadwError) throw err
    bad(`undecodable: ${(err as Error).message}`)
  }
  if (!b4a.equals(encodeReplacement(r), bytes)) bad('not in canonical form')
  return r
}

/** SHA-256 of a record's encoding: copies count once, and ties between two records break on it. */
export function replacementHash (r: Replacement): string {
  return sha256(encodeReplacement(r))
}

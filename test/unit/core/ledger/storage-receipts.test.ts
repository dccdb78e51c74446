import { readFileSync } from 'node:fs'
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import {
  CLOCK_SKEW_MS, computeCredits, computeStorageCredits, cosignStorageOrder, decodeCosignedPin, decodeStorageReceipt, encodeCosignedPin,
  encodeReceipt, encodeStorageReceipt, GIB, MIB, MONTH_MS, parseReceiptJson, parseStorageOrder, parseStorageReceiptJson, readLedgerEntry,
  signStorageOrder, signStorageReceipt, storageCharge, verifyCosignedPin, verifyStorageReceipt, type CosignedPin, type LedgerEntry,
  type SignedStorageReceipt
} from '../../../../src/core/ledger/index.ts'
import { computeStorageReputation, NEUTRAL_REPUTATION } from '../../../../src/core/reputation/index.ts'

function code (fn: () => unknown): string {
  try { fn() } catch (err) { if (err instanceof ShadwError) return err.code; throw err }
  throw new Error('expected a typed error')
}

const hex = (k: Uint8Array): string => b4a.toString(k, 'hex')
const holder = crypto.keyPair()
const pinnerKeys = crypto.keyPair()
const pinner = hex(pinnerKeys.publicKey)
const drive = 'cd'.repeat(32)

/** The agreement both sides sign: GiB at 1,000 per GiB-month, 100 per MiB served, from `time`. */
function agreement (over: Partial<Parameters<typeof signStorageOrder>[0]> = {}, by = pinnerKeys): CosignedPin {
  return cosignStorageOrder(signStorageOrder({ drive, holder: hex(holder.publicKey), bytes: GIB, time: 0, price: 1_000, servePrice: 100, ...over }, by), holder)
}

function hold (from: number, to: number, over: Partial<Parameters<typeof signStorageReceipt>[0]> = {}): SignedStorageReceipt {
  return signStorageReceipt({ kind: 'hold', drive, pinner, bytes: GIB, from, to, price: 1_000, ...over }, holder)
}

function entries (rs: SignedStorageReceipt[]): LedgerEntry[] {
  return rs.map(r => readLedgerEntry(encodeStorageReceipt(r)))
}

describe('storage receipts', () => {
  it('bill GiB-months pro rata and MiB served, exactly, rounded down', () => {
    expect(storageCharge('hold', GIB, 0, MONTH_MS, 1_000)).toBe(1_000)
    expect(storageCharge('hold', GIB / 2, 0, MONTH_MS / 3, 1_000)).toBe(166)
    // products past 2^53 stay exact
    expect(storageCharge('hold', 2 ** 45, 0, 365 * 24 * 3600_000, 1e9)).toBe(Number(2n ** 45n * 31536000000n * 1000000000n / (2n ** 30n * BigInt(MONTH_MS))))
    expect(storageCharge('serve', 3 * MIB + 1, 0, 0, 100)).toBe(300)
    expect(storageCharge('pin', GIB, 5, 5, 1_000)).toBe(0)
  })

  it('round-trip through the ledger codec, verify, and refuse tampering with a typed error', () => {
    const r = hold(1_000, 1_000 + MONTH_MS)
    expect(r.total).toBe(1_000)
    const bytes = encodeStorageReceipt(r)
    expect(bytes[0]).toBe(0xc1)
    expect(decodeStorageReceipt(bytes)).toEqual(r)
    expect(readLedgerEntry(bytes)).toEqual({ kind: 'storage', receipt: r })
    expect(verifyStorageReceipt(parseStorageReceiptJson(JSON.parse(JSON.stringify(r))))).toEqual(r)
    // a total its price does not explain, a signature over other fields, another signer
    expect(code(() => verifyStorageReceipt({ ...r, total: r.total + 1 }))).toBe('STORAGE_RECEIPT_INVALID')
    expect(code(() => verifyStorageReceipt({ ...r, bytes: r.bytes + 1, total: storageCharge('hold', r.bytes + 1, r.from, r.to, r.price) }))).toBe('STORAGE_RECEIPT_INVALID')
    expect(code(() => verifyStorageReceipt({ ...r, holder: pinner }))).toBe('STORAGE_RECEIPT_INVALID')
    expect(code(() => hold(10, 5))).toBe('STORAGE_RECEIPT_INVALID')
    expect(code(() => signStorageReceipt({ kind: 'pin', drive, pinner, bytes: 1, from: 1, to: 2, price: 1 }, holder))).toBe('STORAGE_RECEIPT_INVALID')
    const flipped = b4a.from(bytes)
    flipped[40] = (flipped[40] as number) ^ 1
    expect(readLedgerEntry(flipped)).toMatchObject({ kind: 'invalid', code: 'STORAGE_RECEIPT_INVALID' })
    expect(readLedgerEntry(b4a.concat([bytes, b4a.from([0])]))).toMatchObject({ kind: 'invalid', code: 'STORAGE_RECEIPT_INVALID' })
  })

  it('credits: paid once per copy, overlapping periods refused, gaps counted as missed, compute credits untouched', () => {
    const pin = signStorageReceipt({ kind: 'pin', drive, pinner, bytes: GIB, from: 0, to: 0, price: 1_000 }, holder)
    const a = hold(0, MONTH_MS)
    const b = hold(MONTH_MS, 2 * MONTH_MS)
    const overlap = hold(MONTH_MS + 1, 2 * MONTH_MS + 1)
    const afterGap = hold(3 * MONTH_MS, 4 * MONTH_MS)
    const serve = signStorageReceipt({ kind: 'serve', drive, pinner, bytes: 10 * MIB, from: 0, to: 10, price: 100 }, holder)
    const record = readLedgerEntry(encodeCosignedPin(agreement()))
    const read = [record, ...entries([afterGap, b, pin, a, a, overlap, serve, b]), record]
    const c = computeStorageCredits(read)
    const h = hex(holder.publicKey)
    expect(c.earned.get(h)).toBe(3_000 + 1_000)
    expect(c.owed.get(pinner)).toBe(4_000)
    expect(c.holders.get(h)).toEqual({ kept: 3, missed: 1, pins: 1, failed: 0, bytesServed: 10 * MIB })
    expect(c.rejected).toHaveLength(1)
    // the holder-only pin receipt is no agreement
    expect(c.unbacked).toBe(1)
    // the same figures in any reading order
    expect(computeStorageCredits([...read].reverse())).toEqual(c)
    // compute credits ignore storage receipts
    expect(computeCredits(read)).toMatchObject({ counted: 0, unpriced: 0, rejected: [] })
    const rep = computeStorageReputation(read).get(h)
    expect(rep).toMatchObject({ kept: 3, missed: 1 })
    expect(rep!.score).toBeLessThan(NEUTRAL_REPUTATION)
    expect(computeStorageReputation([record, ...entries([a, b])]).get(h)!.score).toBeGreaterThan(NEUTRAL_REPUTATION)
  })

  it('the co-signed pin record: both signatures, each under its own domain, in one canonical form', () => {
    const order = signStorageOrder({ drive, holder: hex(holder.publicKey), bytes: 5, time: 7, price: 9, servePrice: 11 }, pinnerKeys)
    expect(parseStorageOrder(JSON.parse(JSON.stringify(order)))).toEqual(order)
    const rec = cosignStorageOrder(order, holder)
    const bytes = encodeCosignedPin(rec)
    expect(bytes[0]).toBe(0xc3)
    expect(decodeCosignedPin(bytes)).toEqual(rec)
    expect(readLedgerEntry(bytes)).toEqual({ kind: 'storage-pin', pin: rec })
    // an order for another holder, a forged or swapped signature, changed fields, trailing bytes
    expect(code(() => cosignStorageOrder(order, crypto.keyPair()))).toBe('STORAGE_RECEIPT_INVALID')
    expect(code(() => parseStorageOrder({ ...order, price: 10 }))).toBe('STORAGE_RECEIPT_INVALID')
    expect(code(() => verifyCosignedPin({ ...rec, holderSignature: rec.pinnerSignature }))).toBe('STORAGE_RECEIPT_INVALID')
    const self = cosignStorageOrder(signStorageOrder({ ...order, holder: pinner }, pinnerKeys), pinnerKeys)
    expect(code(() => verifyCosignedPin({ ...self, holderSignature: self.pinnerSignature }))).toBe('STORAGE_RECEIPT_INVALID')
    expect(code(() => verifyCosignedPin({ ...rec, bytes: 6 }))).toBe('STORAGE_RECEIPT_INVALID')
    const flipped = b4a.from(bytes)
    flipped[70] = (flipped[70] as number) ^ 1
    expect(readLedgerEntry(flipped)).toMatchObject({ kind: 'invalid', code: 'STORAGE_RECEIPT_INVALID' })
    expect(readLedgerEntry(b4a.concat([bytes, b4a.from([0])]))).toMatchObject({ kind: 'invalid', code: 'STORAGE_RECEIPT_INVALID' })
  })

  it('credits count only receipts a co-signed pin record backs: same parties, its prices, its bytes, from its time', () => {
    const h = hex(holder.publicKey)
    const a = hold(MONTH_MS, 2 * MONTH_MS)
    const serve = signStorageReceipt({ kind: 'serve', drive, pinner, bytes: 10 * MIB, from: MONTH_MS, to: MONTH_MS + 10, price: 100 }, holder)
    const paid = (rec: CosignedPin | null, rs: SignedStorageReceipt[]): number | undefined =>
      computeStorageCredits([...(rec === null ? [] : [readLedgerEntry(encodeCosignedPin(rec))]), ...entries(rs)]).earned.get(h)
    expect(paid(agreement(), [a, serve])).toBe(1_000 + 1_000)
    // nobody asked: the holder's word alone earns nothing
    expect(paid(null, [a, serve])).toBeUndefined()
    expect(computeStorageCredits(entries([a, serve]))).toMatchObject({ counted: 0, unbacked: 2 })
    // another price, fewer bytes agreed, another pinner, an order after the period (past the skew)
    expect(paid(agreement({ price: 999 }), [a])).toBeUndefined()
    expect(paid(agreement({ servePrice: 99 }), [serve])).toBeUndefined()
    expect(paid(agreement({ bytes: GIB - 1 }), [a])).toBeUndefined()
    expect(paid(agreement({}, crypto.keyPair()), [a])).toBeUndefined()
    expect(paid(agreement({ time: MONTH_MS + CLOCK_SKEW_MS + 1 }), [a])).toBeUndefined()
    expect(paid(agreement({ time: MONTH_MS + CLOCK_SKEW_MS }), [a])).toBe(1_000)
    // a record another holder signed does not back this one's receipts
    const other = crypto.keyPair()
    const theirs = cosignStorageOrder(signStorageOrder({ drive, holder: hex(other.publicKey), bytes: GIB, time: 0, price: 1_000, servePrice: 100 }, pinnerKeys), other)
    expect(paid(theirs, [a])).toBeUndefined()
  })

  it('a ledger written before storage receipts still reads: the stored receipt decodes as a compute receipt', () => {
    const doc = JSON.parse(readFileSync(new URL('../../../fixtures/stored/pre-layout/invoke.json', import.meta.url), 'utf8')) as { receipts: unknown[] }
    const r = parseReceiptJson(doc.receipts[0])
    expect(readLedgerEntry(encodeReceipt(r))).toMatchObject({ kind: 'receipt', receipt: r })
  })
})

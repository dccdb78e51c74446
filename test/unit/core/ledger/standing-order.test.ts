import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import {
  computeStorageCredits, cosignReplacement, cosignStorageOrder, decodeReplacement, encodeCosignedPin, encodeReplacement, encodeStorageReceipt,
  GIB, readLedgerEntry, signReplacement, signStandingOrder, signStorageOrder, signStorageReceipt, verifyStandingOrder, type LedgerEntry,
  type StandingOrder
} from '../../../../src/core/ledger/index.ts'

function code (fn: () => unknown): string {
  try { fn() } catch (err) { if (err instanceof ShadwError) return err.code; throw err }
  throw new Error('expected a typed error')
}

const hex = (k: Uint8Array): string => b4a.toString(k, 'hex')
const pinner = crypto.keyPair()
const [a, b, c, d] = [crypto.keyPair(), crypto.keyPair(), crypto.keyPair(), crypto.keyPair()]
const drive = 'cd'.repeat(32)
const GRACE = 60_000
const order: StandingOrder = signStandingOrder({ drive, bytes: GIB, replicas: 2, time: 1_000, until: 1_000 + 100 * GRACE, price: 2_000, servePrice: 200, graceMs: GRACE }, pinner)

const entry = (bytes: Uint8Array): LedgerEntry => readLedgerEntry(bytes)
const pin = (holder: typeof a, time = 1_000): LedgerEntry => entry(encodeCosignedPin(cosignStorageOrder(signStorageOrder({ drive, holder: hex(holder.publicKey), bytes: GIB, time, price: 1_000, servePrice: 100 }, pinner), holder)))
const replace = (holder: typeof a, replaces: typeof a, repairer: typeof a, time: number): LedgerEntry =>
  entry(encodeReplacement(cosignReplacement(signReplacement({ order, holder: hex(holder.publicKey), replaces: hex(replaces.publicKey), lastSeen: time - GRACE, time, price: 1_500, servePrice: 150 }, repairer), holder)))
const hold = (holder: typeof a, from: number, to: number, price: number): LedgerEntry => entry(encodeStorageReceipt(signStorageReceipt({ kind: 'hold', drive, pinner: hex(pinner.publicKey), bytes: GIB, from, to, price }, holder)))

describe('standing orders and replacement records', () => {
  it('round-trips a replacement through a ledger block, and refuses a tampered one, typed', () => {
    const e = replace(c, a, b, 10 * GRACE)
    expect(e.kind).toBe('replacement')
    const bytes = encodeReplacement((e as { replacement: Parameters<typeof encodeReplacement>[0] }).replacement)
    expect(decodeReplacement(bytes)).toEqual((e as { replacement: unknown }).replacement)
    const tampered = b4a.from(bytes)
    tampered[tampered.byteLength - 70] = (tampered[tampered.byteLength - 70] ?? 0) ^ 1
    expect(readLedgerEntry(tampered)).toMatchObject({ kind: 'invalid', code: 'STORAGE_RECEIPT_INVALID' })
    expect(code(() => verifyStandingOrder({ ...order, replicas: 3 }))).toBe('STORAGE_RECEIPT_INVALID')
  })

  it('refuses to sign a replacement within the grace, above the caps, outside the order or with a holder as its own repairer', () => {
    const base = { order, holder: hex(c.publicKey), replaces: hex(a.publicKey), lastSeen: 0, time: 10 * GRACE, price: 1_500, servePrice: 150 }
    expect(code(() => signReplacement({ ...base, lastSeen: 10 * GRACE - 1 }, b))).toBe('STORAGE_RECEIPT_INVALID')
    expect(code(() => signReplacement({ ...base, price: 2_001 }, b))).toBe('STORAGE_RECEIPT_INVALID')
    expect(code(() => signReplacement({ ...base, time: order.until }, b))).toBe('STORAGE_RECEIPT_INVALID')
    expect(code(() => signReplacement(base, c))).toBe('STORAGE_RECEIPT_INVALID')
  })

  it('seats at most the order\'s replicas: pin records first, then one in for one out; a replaced holder is paid up to its replacement only', () => {
    const t = 10 * GRACE
    const entries = [
      pin(a), pin(b), pin(d, 2_000),
      hold(a, 2_000, t - 2 * GRACE, 1_000), hold(a, t + 1_000, t + 2_000, 1_000),
      hold(b, 2_000, t + 2_000, 1_000),
      replace(c, a, b, t), hold(c, t, t + 80 * GRACE, 1_500)
    ]
    const credits = computeStorageCredits(entries)
    expect(credits.replacements).toEqual({ accepted: 1, refused: [] })
    // a's hold after it was replaced is not backed; c's under the replacement is
    expect(credits.unbacked).toBe(1)
    expect(credits.earned.get(hex(c.publicKey))).toBeGreaterThan(0)
    // d has a pin record of its own (the pinner signed for it), so it is paid, but took no seat: it cannot repair
    const byD = computeStorageCredits([...entries, replace(crypto.keyPair() as typeof a, b, d, t + GRACE)])
    expect(byD.replacements.refused.map(r => r.reason)).toEqual(['the repairer holds no seat under the order then'])
    // the same loss replaced twice: the earlier stands, whatever the reading order
    const twice = [...entries, replace(d, a, b, t + 1)]
    expect(computeStorageCredits(twice).replacements.refused.map(r => r.reason)).toEqual(['the replaced holder holds no seat under the order then'])
    expect(computeStorageCredits([...twice].reverse()).earned).toEqual(computeStorageCredits(twice).earned)
  })
})

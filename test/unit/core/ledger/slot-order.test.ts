import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import {
  computeStorageCredits, cosignReplacement, cosignStorageOrder, decodeReplacement, encodeCosignedPin, encodeReplacement, encodeStorageReceipt, encodeVerdict,
  GIB, readLedgerEntry, signReplacement, signStandingOrder, signStorageOrder, signStorageReceipt, signVerdict, SLOT_REPLACEMENT_TAG, verifyStandingOrder,
  type LedgerEntry, type Replacement, type StandingOrder
} from '../../../../src/core/ledger/index.ts'

function code (fn: () => unknown): string {
  try { fn() } catch (err) { if (err instanceof ShadwError) return err.code; throw err }
  throw new Error('expected a typed error')
}

type Key = ReturnType<typeof crypto.keyPair>
const hex = (k: Key): string => b4a.toString(k.publicKey, 'hex')
const pinner = crypto.keyPair()
const [a, b, c, d, e] = [crypto.keyPair(), crypto.keyPair(), crypto.keyPair(), crypto.keyPair(), crypto.keyPair()]
const drive = 'cd'.repeat(32)
const root = 'ef'.repeat(32)
const GRACE = 60_000
const SLOT = GIB / 2
const REPLICA = GIB
// a 2+1 pin: three slots of half a GiB
const order: StandingOrder = signStandingOrder({ drive, root, bytes: SLOT, replicas: 3, time: 1_000, until: 1_000 + 100 * GRACE, price: 2_000_000, servePrice: 0, graceMs: GRACE }, pinner)

const entry = (bytes: Uint8Array): LedgerEntry => readLedgerEntry(bytes)
const pin = (holder: Key, bytes = SLOT, time = 1_000): LedgerEntry => entry(encodeCosignedPin(cosignStorageOrder(signStorageOrder({ drive, holder: hex(holder), bytes, time, price: 1_000_000, servePrice: 0 }, pinner), holder)))
const replace = (holder: Key, replaces: Key, repairer: Key, time: number, slot: number): LedgerEntry =>
  entry(encodeReplacement(cosignReplacement(signReplacement({ order, holder: hex(holder), replaces: hex(replaces), slot, lastSeen: time - GRACE, time, price: 1_500_000, servePrice: 0 }, repairer), holder)))
const hold = (holder: Key, from: number, to: number, price: number, bytes = SLOT): LedgerEntry => entry(encodeStorageReceipt(signStorageReceipt({ kind: 'hold', drive, pinner: hex(pinner), bytes, from, to, price }, holder)))
const passed = (holder: Key, challenger: Key, time: number): LedgerEntry =>
  entry(encodeVerdict(signVerdict({ kind: 'shard', drive, target: root, stripe: 0, shard: 0, holder: hex(holder), ok: true, reason: '', time }, challenger)))

describe('slot orders: standing orders for erasure pins', () => {
  it('round-trips a slot replacement; a slot order never verifies as a drive order, and a slot is named exactly under a slot order', () => {
    const r = replace(d, a, b, 10 * GRACE, 2)
    expect(r.kind).toBe('replacement')
    const bytes = encodeReplacement((r as { replacement: Replacement }).replacement)
    expect(bytes[0]).toBe(SLOT_REPLACEMENT_TAG)
    expect(decodeReplacement(bytes)).toMatchObject({ slot: 2, order: { root } })
    const { root: _, ...asDrive } = order
    expect(code(() => verifyStandingOrder(asDrive))).toBe('STORAGE_RECEIPT_INVALID')
    const base = { order, holder: hex(d), replaces: hex(a), lastSeen: 0, time: 10 * GRACE, price: 1_500_000, servePrice: 0 }
    expect(code(() => signReplacement(base, b))).toBe('STORAGE_RECEIPT_INVALID')
    expect(code(() => signReplacement({ ...base, slot: 3 }, b))).toBe('STORAGE_RECEIPT_INVALID')
  })

  it('a repaired slot pays its new holder from the repair and stops paying the lost one; K+M seats at most', () => {
    const t = 10 * GRACE
    const base = [pin(a), pin(b), pin(c), hold(a, 2_000, t - 2 * GRACE, 1_000_000), hold(b, 2_000, t + 2_000, 1_000_000), hold(c, 2_000, t + 2_000, 1_000_000)]
    const late = hold(a, t + 1_000, t + 2_000, 1_000_000)
    const after = hold(d, t, t + 50 * GRACE, 1_500_000)
    // without the replacement, d's receipts are nobody's order: unpaid; a is still paid after t
    const before = computeStorageCredits([...base, late, after])
    expect(before.earned.get(hex(d))).toBeUndefined()
    expect(before.unbacked).toBe(1)
    const credits = computeStorageCredits([...base, late, after, replace(d, a, b, t, 0)])
    expect(credits.replacements).toEqual({ accepted: 1, refused: [] })
    expect((after as { receipt: { total: number } }).receipt.total).toBeGreaterThan(0)
    expect(credits.earned.get(hex(d))).toBe((after as { receipt: { total: number } }).receipt.total)
    // a's hold after its replacement is not backed any more
    expect(credits.unbacked).toBe(1)
    // a fourth holder with a pin record of its own does not take a seat: it cannot repair
    const byE = computeStorageCredits([pin(a), pin(b), pin(c), pin(e, SLOT, 2_000), replace(d, a, e, t, 0)])
    expect(byE.replacements.refused.map(r => r.reason)).toEqual(['the repairer holds no seat under the order then'])
  })

  it('refuses a second replacement of one loss (under the same or another name), an outsider repairer, and evicting a holder a co-holder\'s proof just passed', () => {
    const t = 10 * GRACE
    const base = [pin(a), pin(b), pin(c), replace(d, a, b, t, 0)]
    const reasons = (extra: LedgerEntry[]): string[] => computeStorageCredits([...base, ...extra]).replacements.refused.map(r => r.reason)
    expect(reasons([replace(e, a, c, t + 1, 0)])).toEqual(['the replaced holder holds no seat under the order then'])
    // the same slot again, naming a live holder as the lost one
    expect(reasons([replace(e, c, b, t + 1, 0)])).toEqual(['another holder holds slot 0 then'])
    // d holds slot 0: a record moving it as slot 1 is a lie
    expect(reasons([replace(e, d, b, t + 2 * GRACE, 1)])).toEqual(['the replaced holder holds slot 0, not 1'])
    expect(reasons([replace(e, c, crypto.keyPair(), t + 1, 2)])).toEqual(['the repairer holds no seat under the order then'])
    expect(reasons([passed(c, b, t + 10), replace(e, c, b, t + 20, 2)])).toEqual(['a co-holder\'s proof passed the replaced holder 10 ms before'])
    // the earlier of two stands whatever the reading order
    const twice = [...base, replace(e, a, c, t + 1, 0), hold(d, t, t + GRACE, 1_500_000), hold(e, t, t + GRACE, 1_500_000)]
    expect(computeStorageCredits([...twice].reverse()).earned).toEqual(computeStorageCredits(twice).earned)
    expect(computeStorageCredits(twice).earned.get(hex(e))).toBeUndefined()
  })

  it('a node the pinner asked for a replica and a slot of one drive is paid for both overlapping series; a duplicated bill of one seat is refused', () => {
    const replicaPin = pin(a, REPLICA)
    const slotPin = pin(a, SLOT)
    const replicaHold = hold(a, 2_000, 3_000_000, 1_000_000, REPLICA)
    const slotHold = hold(a, 2_000, 3_000_000, 1_000_000, SLOT)
    const total = (x: LedgerEntry): number => (x as { receipt: { total: number } }).receipt.total
    const both = computeStorageCredits([replicaPin, slotPin, replicaHold, slotHold])
    expect(both.rejected).toEqual([])
    expect(total(slotHold)).toBeGreaterThan(0)
    expect(both.earned.get(hex(a))).toBe(total(replicaHold) + total(slotHold))
    expect(both.holders.get(hex(a))).toMatchObject({ kept: 2, missed: 0 })
    // one seat (the replica) billed twice over the same time: the copy signed anew is refused
    const dup = hold(a, 1_000_000, 3_000_000, 1_000_000, REPLICA)
    const one = computeStorageCredits([replicaPin, replicaHold, dup])
    expect(one.rejected.map(r => r.code)).toEqual(['STORAGE_RECEIPT_INVALID'])
    expect(one.earned.get(hex(a))).toBe(total(replicaHold))
    // the same with both seats: the third series has no seat, and the sums are the same in any reading order
    const three = [replicaPin, slotPin, replicaHold, slotHold, dup]
    expect(computeStorageCredits(three).rejected).toHaveLength(1)
    expect(computeStorageCredits(three).earned).toEqual(both.earned)
    expect(computeStorageCredits([...three].reverse()).earned).toEqual(both.earned)
    // two pin records of one seat (the pinner asked twice) are still one series
    const again = computeStorageCredits([replicaPin, pin(a, REPLICA, 1_500_000), replicaHold, dup])
    expect(again.rejected).toHaveLength(1)
  })
})

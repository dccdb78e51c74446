import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import {
  computeStorageCredits, cosignStorageOrder, decodeVerdict, encodeCosignedPin, encodeStorageReceipt, encodeVerdict, GIB, MONTH_MS, proofFailures,
  readLedgerEntry, signStorageOrder, signStorageReceipt, signVerdict, storageCharge, verifyVerdict, VERDICT_TAG, type LedgerEntry, type ProofVerdict
} from '../../../../src/core/ledger/index.ts'
import { computeStorageReputation, NEUTRAL_REPUTATION } from '../../../../src/core/reputation/index.ts'

const hex = (k: Uint8Array): string => b4a.toString(k, 'hex')
const holder = crypto.keyPair()
const H = hex(holder.publicKey)
const pinnerKeys = crypto.keyPair()
const pinner = hex(pinnerKeys.publicKey)
const drive = 'cd'.repeat(32)
const root = 'ef'.repeat(32)
const [a, b, c] = [crypto.keyPair(), crypto.keyPair(), crypto.keyPair()]

function verdict (by: typeof a, ok: boolean, time: number, on = H): ProofVerdict {
  return signVerdict({ kind: 'shard', drive, target: root, stripe: 2, shard: 3, holder: on, ok, reason: ok ? '' : 'chunk 7 does not prove', time }, by)
}

function code (fn: () => unknown): string {
  try { fn() } catch (err) { if (err instanceof ShadwError) return err.code; throw err }
  throw new Error('expected a typed error')
}

describe('proof verdicts in the ledger', () => {
  it('round-trip through the ledger codec with tag 0xc4; tampering, bad flags and self-judgement are refused with VERDICT_INVALID', () => {
    const v = verdict(a, false, 1_000)
    const bytes = encodeVerdict(v)
    expect(bytes[0]).toBe(VERDICT_TAG)
    expect(readLedgerEntry(bytes)).toEqual({ kind: 'verdict', verdict: v })
    expect(decodeVerdict(bytes)).toEqual(v)
    expect(verifyVerdict(JSON.parse(JSON.stringify(v)))).toEqual(v)
    const flipped = b4a.from(bytes)
    flipped[flipped.length - 70] = flipped[flipped.length - 70]! ^ 1 // inside the body: the signature no longer verifies
    expect(readLedgerEntry(flipped)).toMatchObject({ kind: 'invalid', code: 'VERDICT_INVALID' })
    expect(code(() => verifyVerdict({ ...v, ok: true }))).toBe('VERDICT_INVALID')
    expect(code(() => verifyVerdict({ ...v, reason: 'x'.repeat(201) }))).toBe('VERDICT_INVALID')
    expect(code(() => signVerdict({ kind: 'shard', drive, target: root, stripe: 0, shard: 0, holder: hex(a.publicKey), ok: false, reason: '', time: 1 }, a))).toBe('VERDICT_INVALID')
    const bad = b4a.from(bytes)
    bad[1] = 9 // unknown kind
    expect(code(() => decodeVerdict(bad))).toBe('VERDICT_INVALID')
  })

  it('failed periods need a quorum of distinct challengers and end when their latest verdicts pass again', () => {
    // a alone fails the holder three times: never a quorum
    expect(proofFailures([verdict(a, false, 10), verdict(a, false, 20), verdict(a, false, 30)])).toEqual([])
    // a then b: failed from b's verdict; b passes at 50: over; c fails at 60 beside a: failed again, still open
    const vs = [verdict(a, false, 10), verdict(b, false, 20), verdict(b, true, 50), verdict(c, false, 60), verdict(a, false, 70)]
    const expected = [{ holder: H, drive, from: 20, to: 50 }, { holder: H, drive, from: 60, to: null }]
    expect(proofFailures(vs)).toEqual(expected)
    expect(proofFailures([...vs].reverse())).toEqual(expected)
    expect(proofFailures(vs, 3)).toEqual([])
  })

  it('an unreachable failure round-trips as such and counts only from a challenger that reaches another holder of the drive', () => {
    const far = signVerdict({ kind: 'block', drive, target: root, stripe: 0, shard: 0, holder: H, ok: false, reason: 'PROOF_FAILED: holder unreachable', unreachable: true, time: 5 }, a)
    expect(far.unreachable).toBe(true)
    expect(decodeVerdict(encodeVerdict(far))).toEqual(far)
    expect(encodeVerdict(far)[encodeVerdict(far).length - 64 - 1 - 1 - far.reason.length - 1]).toBe(2)
    expect(verdict(a, false, 1).unreachable).toBe(false)
    expect(code(() => signVerdict({ kind: 'shard', drive, target: root, stripe: 0, shard: 0, holder: H, ok: true, reason: '', unreachable: true, time: 1 }, a))).toBe('VERDICT_INVALID')
    expect(code(() => verifyVerdict({ ...far, unreachable: false }))).toBe('VERDICT_INVALID')

    const unreachable = (by: typeof a, on: string, time: number): ProofVerdict => signVerdict({ kind: 'shard', drive, target: root, stripe: 0, shard: 0, holder: on, ok: false, reason: 'holder unreachable', unreachable: true, time }, by)
    const [A, B, C] = [hex(a.publicKey), hex(b.publicKey), hex(c.publicKey)]
    // three holders, each cut off from both others (a loopback path that never opened): nobody is failed
    const isolated = [[a, [H, B]], [b, [H, A]], [holder, [A, B]]].flatMap(([by, on], i) => (on as string[]).map((o, j) => unreachable(by as typeof a, o, 10 + 2 * i + j)))
    expect(proofFailures(isolated)).toEqual([])
    // a and b reach each other (a passed proof) but not H: H is failed, from the verdict that made them count
    const reached = [verdict(a, true, 30, B), verdict(b, true, 31, A), unreachable(a, H, 40), unreachable(b, H, 41)]
    expect(proofFailures(reached)).toEqual([{ holder: H, drive, from: 41, to: null }])
    // b then reaches nobody else either (its latest on A is unreachable too): its word on H stops counting
    expect(proofFailures([...reached, unreachable(b, A, 50)])).toEqual([{ holder: H, drive, from: 41, to: 50 }])
    // wrong answers count however cut off the challenger is
    expect(proofFailures([verdict(a, false, 60), verdict(c, false, 61), unreachable(a, C, 62)])).toEqual([{ holder: H, drive, from: 61, to: null }])
  })

  it('payment stops for the failed stretch only, and reputation drops; one lying challenger changes nothing', () => {
    const receipt = signStorageReceipt({ kind: 'hold', drive, pinner, bytes: GIB, from: 0, to: MONTH_MS, price: 1_000 }, holder)
    const half = MONTH_MS / 2
    // the holder and the challengers hold the drive under pins its pinner co-signed
    const pins = [holder, a, b, c].map(k => cosignStorageOrder(signStorageOrder({ drive, holder: hex(k.publicKey), bytes: GIB, time: 0, price: 1_000, servePrice: 100 }, pinnerKeys), k))
    const ledger = (vs: ProofVerdict[]): LedgerEntry[] => [readLedgerEntry(encodeStorageReceipt(receipt)), ...pins.map(p => readLedgerEntry(encodeCosignedPin(p)))].concat(vs.map(v => readLedgerEntry(encodeVerdict(v))))

    const honest = computeStorageCredits(ledger([]))
    expect(honest.earned.get(H)).toBe(1_000)

    const liar = computeStorageCredits(ledger([verdict(a, false, 1), verdict(a, false, half)]))
    expect(liar.earned.get(H)).toBe(1_000)
    expect(liar.withheld.size).toBe(0)
    expect(computeStorageReputation(ledger([verdict(a, false, 1)])).get(H)).toEqual(computeStorageReputation(ledger([])).get(H))

    // a and b fail it from mid-month, b passes again at three quarters: a quarter month unpaid
    const failed = computeStorageCredits(ledger([verdict(a, false, half - 10), verdict(b, false, half), verdict(b, true, half + MONTH_MS / 4)]))
    const paid = storageCharge('hold', GIB, 0, half, 1_000) + storageCharge('hold', GIB, half + MONTH_MS / 4, MONTH_MS, 1_000)
    expect(failed.earned.get(H)).toBe(paid)
    expect(failed.owed.get(pinner)).toBe(paid)
    expect(failed.withheld.get(H)).toBe(1_000 - paid)
    expect(failed.holders.get(H)).toMatchObject({ kept: 1, failed: 1 })
    const rep = computeStorageReputation(ledger([verdict(a, false, half - 10), verdict(b, false, half)])).get(H)!
    expect(rep.failed).toBe(1)
    expect(rep.score).toBeLessThan(NEUTRAL_REPUTATION)
    expect(rep.score).toBeLessThan(computeStorageReputation(ledger([])).get(H)!.score)

    // strangers (no pin of the drive) do not judge, however many keys they sign with
    const strangers = [crypto.keyPair(), crypto.keyPair(), crypto.keyPair()]
    const framed = computeStorageCredits(ledger(strangers.map(k => verdict(k, false, 1))))
    expect(framed.earned.get(H)).toBe(1_000)
    expect(framed.failures).toEqual([])

    // still failed at the end of the period: nothing from the failure on
    const open = computeStorageCredits(ledger([verdict(a, false, half), verdict(c, false, half)]))
    expect(open.earned.get(H)).toBe(storageCharge('hold', GIB, 0, half, 1_000))
  })
})

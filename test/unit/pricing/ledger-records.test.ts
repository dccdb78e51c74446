import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../src/core/errors.ts'
import { attestStatus, decodeAttestation, encodeAttestation, LightSigner, signAttestation, type SignedAttestation } from '../../../src/attest/index.ts'
import { AVOID_REPUTATION, encodeReceipt, pickPeer, signReceipt, type PeerState, type ReceiptBody, type SignedReceipt } from '../../../src/invoke/index.ts'
import {
  computeCredits, decodeCharge, encodeCharge, quote, readLedgerEntry, receiptHash, signCharge, SpendingCap, verifyCharge, worstCase, DEFAULT_PRICING
} from '../../../src/pricing/index.ts'
import { computeReputation, NEUTRAL_REPUTATION } from '../../../src/reputation/index.ts'

function code (fn: () => unknown): string {
  try { fn() } catch (err) { if (err instanceof ShadwError) return err.code; throw err }
  throw new Error('expected a typed error')
}

const hex = (k: Uint8Array): string => b4a.toString(k, 'hex')
const exec = crypto.keyPair()
const other = crypto.keyPair()
let nonce = 0
function receipt (kp = exec, over: Partial<ReceiptBody> = {}): SignedReceipt {
  nonce++
  return signReceipt({
    fn: `${'ab'.repeat(32)}/echo@1.0.0`,
    manifestSignature: 'cd'.repeat(64),
    moduleHash: '01'.repeat(32),
    inputHash: '02'.repeat(32),
    outputHash: '03'.repeat(32),
    fuel: 2_000_000,
    executor: hex(kp.publicKey),
    tenant: '0xTenant',
    time: 1_763_000_000_000,
    nonce: nonce.toString(16).padStart(64, '0'),
    ...over
  }, kp.secretKey)
}
const q = quote(DEFAULT_PRICING, 1, 2)

describe('charges and credits', () => {
  it('a charge signed with a receipt round-trips, verifies against it and totals its quote', () => {
    const r = receipt()
    const ch = signCharge(r, q, 1024 * 1024, exec.secretKey)
    expect(ch.total).toBe(Math.ceil(2 * q.fuelPrice) + q.bytePrice)
    expect(decodeCharge(encodeCharge(ch))).toEqual(ch)
    expect(verifyCharge(ch, r)).toBe(ch)
    expect(code(() => verifyCharge(ch, receipt()))).toBe('CHARGE_INVALID')
    expect(code(() => verifyCharge({ ...ch, total: ch.total + 1 }, r))).toBe('CHARGE_INVALID')
    expect(code(() => verifyCharge({ ...ch, fuelPrice: ch.fuelPrice * 2, total: Math.ceil(4 * q.fuelPrice) + q.bytePrice }, r))).toBe('CHARGE_INVALID')
    expect(code(() => decodeCharge(b4a.concat([encodeCharge(ch), b4a.from([0])])))).toBe('CHARGE_INVALID')
  })

  it('credits come only from signed pairs: forged, edited, orphan and double charges never count', () => {
    const good = receipt()
    const good2 = receipt(other)
    const unpriced = receipt()
    const goodCharge = signCharge(good, q, 100, exec.secretKey)
    const good2Charge = signCharge(good2, q, 0, other.secretKey)
    // an edited receipt block: one byte of the fuel field flipped, signature left as it was
    const edited = encodeReceipt(receipt())
    edited.set([(edited[edited.length - 64 - 40] ?? 0) ^ 1], edited.length - 64 - 40)
    // a receipt "by" exec signed with another key, with a charge signed by that key
    const forged = { ...receipt(exec), signature: signReceipt({ ...receipt(exec) }, other.secretKey).signature }
    // a charge for a receipt that is not in the ledger
    const orphan = signCharge(receipt(), q, 0, exec.secretKey)
    // a second charge for the same receipt
    const again = signCharge(good, quote(DEFAULT_PRICING, 2, 2), 100, exec.secretKey)
    // a charge whose total was raised after signing
    const raised = encodeCharge(signCharge(good2, q, 0, other.secretKey))
    raised.set([(raised[raised.length - 65] ?? 0) ^ 1], raised.length - 65)
    const blocks = [
      encodeReceipt(good), encodeCharge(goodCharge), encodeReceipt(good2), encodeCharge(good2Charge), encodeReceipt(unpriced),
      edited, encodeReceipt(forged as SignedReceipt), encodeCharge(orphan), encodeCharge(again), raised, b4a.from([9, 9, 9])
    ]
    const credits = computeCredits(blocks.map(readLedgerEntry))
    expect(credits.earned).toEqual(new Map([[hex(exec.publicKey), goodCharge.total], [hex(other.publicKey), good2Charge.total]]))
    expect(credits.spent).toEqual(new Map([['0xTenant', goodCharge.total + good2Charge.total]]))
    expect(credits.counted).toBe(2)
    expect(credits.unpriced).toBe(1)
    expect(credits.rejected.map(r => r.code)).toEqual(['RECEIPT_INVALID', 'RECEIPT_INVALID', 'RECEIPT_INVALID', 'CHARGE_INVALID', 'CHARGE_INVALID', 'CHARGE_INVALID'])
  })
})

describe('spending caps', () => {
  it('refuses a call whose worst case passes the per-call cap, and one that passes what is left of the session, with SPENDING_CAP_EXCEEDED', () => {
    const limits = { fuel: 10_000_000, maxOutputBytes: 1024 * 1024 }
    const worst = worstCase(q, limits, 0)
    expect(worst).toBe(10 * q.fuelPrice + q.bytePrice)
    const cap = new SpendingCap({ perCall: worst, perSession: worst * 2 })
    const held = cap.reserve(worst)
    cap.settle(held, 100)
    expect(cap.spent).toBe(100)
    expect(cap.remaining).toBe(worst * 2 - 100)
    expect(code(() => cap.reserve(worst + 1))).toBe('SPENDING_CAP_EXCEEDED')
    cap.reserve(worst)
    try { cap.reserve(worst) } catch (err) { expect((err as ShadwError).details).toMatchObject({ cap: 'session' }) }
    expect(code(() => new SpendingCap({ perCall: -1 }))).toBe('INVALID_ARGUMENT')
  })
})

describe('light-node attestation', () => {
  const lights = [crypto.keyPair(), crypto.keyPair(), crypto.keyPair()]
  const signers = new Set(lights.map(k => hex(k.publicKey)))

  it('2-of-3: two honest co-signers attest a good receipt whatever the dishonest third says; the liar alone never attests a wrong one', async () => {
    const right = receipt(exec)
    const peer = receipt(other, { nonce: right.nonce })
    const wrong = receipt(crypto.keyPair(), { nonce: right.nonce, outputHash: 'ee'.repeat(32) })
    const honest = lights.slice(0, 2).map(kp => new LightSigner({ keyPair: kp, sampleRate: 0 }))
    const a1 = await honest[0]?.attest(right, [peer, wrong]) as SignedAttestation
    const a2 = await honest[1]?.attest(right, [peer, wrong]) as SignedAttestation
    expect([a1.verdict, a2.verdict, a1.method]).toEqual(['agree', 'agree', 'quorum'])
    expect(await honest[0]?.attest(wrong, [right, peer])).toMatchObject({ verdict: 'disagree' })
    // the dishonest signer disagrees with the good receipt and vouches for the wrong one
    const liar = lights[2] as { publicKey: Uint8Array, secretKey: Uint8Array }
    const lie1 = signAttestation(right, 'disagree', 'reexec', liar, 1)
    const lie2 = signAttestation(wrong, 'agree', 'reexec', liar, 1)
    // attestations go through the ledger encoding: verifiable offline from bytes
    const stored = [a1, a2, lie1, lie2].map(a => decodeAttestation(encodeAttestation(a)))
    expect(attestStatus(right, stored, { m: 2, signers })).toEqual({ attested: true, agree: [a1.signer, a2.signer].sort(), disagree: [hex(liar.publicKey)], ignored: 1 })
    expect(attestStatus(wrong, stored, { m: 2, signers }).attested).toBe(false)
    // the liar signing twice, an outsider, the executor itself and a moved attestation add nothing
    const outsider = signAttestation(wrong, 'agree', 'quorum', crypto.keyPair(), 1)
    const self = signAttestation(wrong, 'agree', 'quorum', { publicKey: b4a.from(wrong.executor, 'hex'), secretKey: b4a.alloc(64) }, 1)
    const moved = { ...a1, receiptHash: receiptHash(wrong), outputHash: wrong.outputHash }
    const status = attestStatus(wrong, [lie2, lie2, outsider, moved, self], { m: 2, signers: new Set([...signers, wrong.executor]) })
    expect(status.attested).toBe(false)
    expect(status.agree).toEqual([hex(liar.publicKey)])
    // a forged signature fails decoding-independent verification
    expect(attestStatus(right, [{ ...a1, signature: a2.signature }, a2], { m: 2, signers }).attested).toBe(false)
  })

  it('re-executes when quorum evidence is missing, and abstains when it cannot check', async () => {
    const r = receipt()
    const rerun = new LightSigner({ keyPair: lights[0] as { publicKey: Uint8Array, secretKey: Uint8Array }, rerun: async () => ({ outputHash: r.outputHash, fuel: r.fuel }) })
    expect(await rerun.attest(r)).toMatchObject({ verdict: 'agree', method: 'reexec' })
    const liarCaught = new LightSigner({ keyPair: lights[0] as { publicKey: Uint8Array, secretKey: Uint8Array }, rerun: async () => ({ outputHash: '00'.repeat(32), fuel: r.fuel }) })
    expect(await liarCaught.attest(r)).toMatchObject({ verdict: 'disagree', method: 'reexec' })
    const blind = new LightSigner({ keyPair: lights[0] as { publicKey: Uint8Array, secretKey: Uint8Array } })
    expect(await blind.attest(r)).toBeNull()
    expect(await blind.attest({ ...r, fuel: 1 })).toBeNull()
  })
})

describe('reputation', () => {
  it('falls for a liar below an honest executor and below neutral; recomputed from the same blocks it is the same', () => {
    const lights = [crypto.keyPair(), crypto.keyPair(), crypto.keyPair()]
    const policy = { m: 2, signers: new Set(lights.map(k => hex(k.publicKey))) }
    const liar = crypto.keyPair()
    const blocks: Uint8Array[] = []
    for (let i = 0; i < 10; i++) {
      const good = receipt(exec)
      const bad = receipt(liar, { nonce: good.nonce, outputHash: 'ee'.repeat(32) })
      blocks.push(encodeReceipt(good), encodeReceipt(bad))
      for (const l of lights) {
        blocks.push(encodeAttestation(signAttestation(good, 'agree', 'quorum', l, i)))
        if (i < 3) blocks.push(encodeAttestation(signAttestation(bad, 'disagree', 'quorum', l, i)))
      }
    }
    const rep = computeReputation(blocks.map(readLedgerEntry), { policy })
    const honest = rep.get(hex(exec.publicKey))
    const lying = rep.get(hex(liar.publicKey))
    expect(honest).toMatchObject({ served: 10, upheld: 10, refuted: 0, late: 0 })
    expect(lying).toMatchObject({ served: 10, upheld: 0, refuted: 3 })
    expect(honest?.score).toBeCloseTo(11 / 12, 12)
    expect(lying?.score).toBeCloseTo(1.7 / 32.7, 12)
    expect(lying?.score).toBeLessThan(NEUTRAL_REPUTATION)
    expect(computeReputation(blocks.map(readLedgerEntry), { policy })).toEqual(rep)
    // deadline misses count against it too
    const late = computeReputation(blocks.map(readLedgerEntry), { policy, deadlines: new Map([[receipt().nonce, 0]]) })
    expect(late.get(hex(exec.publicKey))?.late).toBe(0)
  })
})

describe('routing by reputation', () => {
  it('an executor below AVOID_REPUTATION is picked only when no trusted one has room, however fast it is', () => {
    const cap = { type: 'capacity' as const, id: 0, free: 1, total: 1, cpuBudget: 100, tier: 'super' as const }
    const peer = (key: string, rtt: number, reputation?: number): PeerState => ({ key, capacity: cap, rtt, inflight: 0, dissents: 0, full: false, ...(reputation === undefined ? {} : { reputation }) })
    const liar = peer('liar', 0.01, 0.05)
    const slow = peer('slow', 500, 0.9)
    expect(pickPeer([liar, slow], new Set()).key).toBe('slow')
    expect(pickPeer([liar, slow], new Set(['slow'])).key).toBe('liar')
    // between trusted peers reputation divides the score: 0.5-trusted at 10 ms loses to 1.0-trusted at 15 ms
    expect(pickPeer([peer('a', 10, 0.5), peer('b', 15, 1)], new Set()).key).toBe('b')
    expect(AVOID_REPUTATION).toBe(0.25)
  })
})

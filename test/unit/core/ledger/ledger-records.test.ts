import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import { attestStatus, LightSigner } from '../../../../src/core/attest/index.ts'
import { decodeAttestation, encodeAttestation, signAttestation, type SignedAttestation } from '../../../../src/core/ledger/index.ts'
import { pickPeer, type PeerState } from '../../../../src/core/invoke/index.ts'
import { AVOID_REPUTATION } from '../../../../src/core/invoke/router.ts'
import { decodeReceipt, encodeReceipt, openReceipt, parseReceiptJson, prepareReceipt, receiptHash, signReceipt, signReceiptBatch, verifyReceipt, type ReceiptBody, type SignedReceipt } from '../../../../src/core/ledger/index.ts'
import { charge, quote, SpendingCap, worstCase, DEFAULT_PRICING, type PriceQuote } from '../../../../src/core/pricing/index.ts'
import { computeCredits, readLedgerEntry } from '../../../../src/core/ledger/index.ts'
import { computeReputation } from '../../../../src/core/reputation/index.ts'
import { MAX_MISSES_PER_CALLER, NEUTRAL_REPUTATION } from '../../../../src/core/reputation/reputation.ts'
import { decodeMiss, encodeMiss, signMiss, verifyMiss } from '../../../../src/core/ledger/index.ts'

function code (fn: () => unknown): string {
  try { fn() } catch (err) { if (err instanceof ShadwError) return err.code; throw err }
  throw new Error('expected a typed error')
}

const hex = (k: Uint8Array): string => b4a.toString(k, 'hex')
const exec = crypto.keyPair()
const other = crypto.keyPair()
const q = quote(DEFAULT_PRICING, 1, 2)
let nonce = 0
/** A receipt body priced at `price` (default q) for its fuel and bytes: its total is what they give. */
function body (kp = exec, over: Partial<ReceiptBody> = {}): ReceiptBody {
  nonce++
  const b: ReceiptBody = {
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
    deadline: 1_763_000_000_500,
    bytes: 1024 * 1024,
    price: q,
    total: 0,
    ...over
  }
  return { ...b, total: over.total ?? charge(b.price, b.fuel, b.bytes) }
}
function receipt (kp = exec, over: Partial<ReceiptBody> = {}): SignedReceipt {
  return signReceipt(body(kp, over), kp.secretKey)
}

describe('priced receipts', () => {
  it('carry the quote applied, bytes moved, total and deadline; both forms round-trip, verify offline and survive JSON', () => {
    const r = receipt()
    expect(r.total).toBe(2 * q.fuelPrice + q.bytePrice)
    expect(r.price).toEqual(q)
    expect(decodeReceipt(encodeReceipt(r))).toEqual(r)
    expect(openReceipt(encodeReceipt(r))).toEqual(r)
    expect(verifyReceipt(parseReceiptJson(JSON.parse(JSON.stringify(r))))).toEqual(r)
    const [batched] = signReceiptBatch([prepareReceipt(body())], exec.secretKey)
    if (batched === undefined) throw new Error('no receipt')
    expect(batched.bytes[0]).toBe(4)
    expect(encodeReceipt(r)[0]).toBe(3)
    expect(openReceipt(batched.bytes)).toEqual(batched.receipt)
    expect(verifyReceipt(parseReceiptJson(JSON.parse(JSON.stringify(batched.receipt))))).toEqual(batched.receipt)
    // an unpriced executor signs price 0, total 0
    const free = receipt(exec, { price: { utilisationPpm: 0, fuelPrice: 0, bytePrice: 0 } })
    expect(free.total).toBe(0)
    expect(decodeReceipt(encodeReceipt(free))).toEqual(free)
  })

  it('a receipt whose total is not what its own price gives cannot be signed, decoded or verified: RECEIPT_INVALID', () => {
    expect(code(() => signReceipt(body(exec, { total: 1 }), exec.secretKey))).toBe('RECEIPT_INVALID')
    expect(code(() => prepareReceipt(body(exec, { total: 0 })))).toBe('RECEIPT_INVALID')
    const r = receipt()
    // each new field edited after signing, the total kept consistent where it can be, so only the signature can catch it
    const edits: Array<Partial<SignedReceipt>> = [
      { deadline: r.deadline + 1 },
      { bytes: r.bytes + 1, total: charge(r.price, r.fuel, r.bytes + 1) },
      { price: { ...r.price, utilisationPpm: r.price.utilisationPpm + 1 } },
      { price: { ...r.price, fuelPrice: r.price.fuelPrice + 1 }, total: charge({ ...r.price, fuelPrice: r.price.fuelPrice + 1 }, r.fuel, r.bytes) },
      { price: { ...r.price, bytePrice: r.price.bytePrice + 1 }, total: charge({ ...r.price, bytePrice: r.price.bytePrice + 1 }, r.fuel, r.bytes) },
      { total: r.total + 1 },
      { fuel: r.fuel * 2 },
      { fuel: r.fuel * 2, total: charge(r.price, r.fuel * 2, r.bytes) }
    ]
    for (const e of edits) expect(code(() => verifyReceipt({ ...r, ...e }))).toBe('RECEIPT_INVALID')
    // out of bounds
    for (const e of [{ bytes: 9 * 1024 * 1024 }, { deadline: -1 }, { price: { ...q, utilisationPpm: 1_000_001 } }, { price: { ...q, fuelPrice: 1e12 } }, { price: null as unknown as PriceQuote, total: 0 }]) {
      expect(code(() => signReceipt(body(exec, e), exec.secretKey))).toBe('RECEIPT_INVALID')
    }
    // a byte flipped in each new field of the encoding: the last six varints before the signature
    const bytes = encodeReceipt(r)
    for (let back = 65; back <= 65 + 12; back++) {
      const t = b4a.from(bytes)
      t[t.length - back] = (t[t.length - back] as number) ^ 1
      expect(code(() => verifyReceipt(decodeReceipt(t)))).toBe('RECEIPT_INVALID')
    }
    // the old, unpriced versions are refused, not read
    for (const version of [1, 2]) {
      const old = b4a.from(bytes)
      old[0] = version
      expect(code(() => decodeReceipt(old))).toBe('RECEIPT_INVALID')
    }
  })
})

describe('credits from receipts', () => {
  it('come only from receipts that verify: forged, edited, conflicting and re-totalled receipts never count; copies count once, in any order', () => {
    const good = receipt()
    const good2 = receipt(other, { bytes: 0 })
    const unpriced = receipt(exec, { price: { utilisationPpm: 0, fuelPrice: 0, bytePrice: 0 } })
    // an edited receipt block: one byte of the total flipped, signature left as it was
    const edited = encodeReceipt(receipt())
    edited.set([(edited[edited.length - 65] ?? 0) ^ 1], edited.length - 65)
    // a receipt "by" exec signed with another key
    const forged = { ...receipt(exec), signature: signReceipt(body(exec), other.secretKey).signature }
    // two different receipts by one executor for one call: a lie, neither is paid
    const first = receipt(exec)
    const second = signReceipt({ ...body(exec), nonce: first.nonce, fuel: 1, total: charge(q, 1, 1024 * 1024) }, exec.secretKey)
    const blocks = [
      encodeReceipt(good), encodeReceipt(good2), encodeReceipt(good), encodeReceipt(unpriced),
      edited, encodeReceipt(forged), encodeReceipt(first), encodeReceipt(second), b4a.from([9, 9, 9])
    ]
    const credits = computeCredits(blocks.map(readLedgerEntry))
    expect(credits.earned).toEqual(new Map([[hex(exec.publicKey), good.total], [hex(other.publicKey), good2.total]]))
    expect(credits.spent).toEqual(new Map([['0xTenant', good.total + good2.total]]))
    expect(credits.counted).toBe(2)
    expect(credits.unpriced).toBe(1)
    expect(credits.rejected.map(r => r.code).sort()).toEqual(Array(5).fill('RECEIPT_INVALID'))
    expect(computeCredits([...blocks].reverse().map(readLedgerEntry))).toEqual({ ...credits, rejected: expect.any(Array) as unknown })
    expect(receiptHash(good)).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('miss records', () => {
  it('round-trip, verify under the caller\'s key, and refuse edits, trailing bytes and self-misses with MISS_INVALID', () => {
    const caller = crypto.keyPair()
    const m = signMiss({ executor: hex(exec.publicKey), nonce: '05'.repeat(32), deadline: 10, reason: 'timeout', time: 11 }, caller)
    expect(m.caller).toBe(hex(caller.publicKey))
    expect(decodeMiss(encodeMiss(m))).toEqual(m)
    expect(verifyMiss(m)).toBe(m)
    expect(readLedgerEntry(encodeMiss(m))).toEqual({ kind: 'miss', miss: m })
    expect(code(() => verifyMiss({ ...m, executor: hex(other.publicKey) }))).toBe('MISS_INVALID')
    expect(code(() => verifyMiss({ ...m, reason: 'closed' }))).toBe('MISS_INVALID')
    expect(code(() => decodeMiss(b4a.concat([encodeMiss(m), b4a.from([0])])))).toBe('MISS_INVALID')
    expect(code(() => signMiss({ executor: hex(caller.publicKey), nonce: '05'.repeat(32), deadline: 10, reason: 'timeout', time: 11 }, caller))).toBe('MISS_INVALID')
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
    expect(computeReputation([...blocks].reverse().map(readLedgerEntry), { policy })).toEqual(rep)
  })

  it('a receipt signed after the deadline it carries is late, from the receipt alone, and lowers the score', () => {
    const policy = { m: 2, signers: new Set<string>() }
    const onTime = [receipt(exec), receipt(exec)]
    const late = receipt(other, { time: 1_763_000_001_000 })
    const rep = computeReputation([...onTime, receipt(other), late].map(r => readLedgerEntry(encodeReceipt(r))), { policy })
    expect(rep.get(hex(exec.publicKey))).toMatchObject({ served: 2, late: 0 })
    expect(rep.get(hex(other.publicKey))).toMatchObject({ served: 2, late: 1 })
    expect(rep.get(hex(other.publicKey))?.score).toBeCloseTo(1.2 / 3.2, 12)
    expect(rep.get(hex(other.publicKey))?.score).toBeLessThan(rep.get(hex(exec.publicKey))?.score ?? 0)
  })

  it('misses lower the score, weighted low, capped per distinct caller, void when the executor\'s receipt for the call is there', () => {
    const policy = { m: 2, signers: new Set<string>() }
    const target = hex(exec.publicKey)
    const miss = (caller: { publicKey: Uint8Array, secretKey: Uint8Array }, n: string): Uint8Array =>
      encodeMiss(signMiss({ executor: target, nonce: n, deadline: 1, reason: 'timeout', time: 2 }, caller))
    const slanderer = crypto.keyPair()
    // one caller claims 20 misses (the same one twice among them): only MAX_MISSES_PER_CALLER count
    const slander = Array.from({ length: 20 }, (_, i) => miss(slanderer, (i % 19).toString(16).padStart(64, 'f')))
    const alone = computeReputation(slander.map(readLedgerEntry), { policy }).get(target)
    expect(alone).toMatchObject({ served: 0, missed: MAX_MISSES_PER_CALLER })
    // one slanderer alone cannot get a node without any record avoided by routing
    expect(alone?.score).toBeGreaterThan(AVOID_REPUTATION)
    expect(alone?.score).toBeLessThan(NEUTRAL_REPUTATION)
    // a miss the executor answers with its receipt for that nonce does not count
    const served = receipt(exec)
    const refuted = computeReputation([encodeReceipt(served), miss(slanderer, served.nonce)].map(readLedgerEntry), { policy }).get(target)
    expect(refuted).toMatchObject({ served: 1, missed: 0 })
    // three distinct callers each count
    const callers = [crypto.keyPair(), crypto.keyPair(), crypto.keyPair()]
    const many = computeReputation(callers.map((c, i) => miss(c, i.toString(16).padStart(64, 'e'))).map(readLedgerEntry), { policy }).get(target)
    expect(many).toMatchObject({ missed: 3 })
    expect(many?.score).toBeCloseTo(1 / 3.5, 12)
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

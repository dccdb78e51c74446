import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import { decideQuorum, majority, NonceSet, pickPeer, type PeerState, type SlotOutcome } from '../../../../src/core/invoke/index.ts'
import { decodeReceipt, encodeReceipt, parseReceiptJson, signReceipt, verifyReceipt, type ReceiptBody, type SignedReceipt } from '../../../../src/core/ledger/index.ts'

function code (fn: () => unknown): string {
  try { fn() } catch (err) { if (err instanceof ShadwError) return err.code; throw err }
  throw new Error('expected a typed error')
}

const kp = crypto.keyPair()
function body (over: Partial<ReceiptBody> = {}): ReceiptBody {
  return {
    fn: `${'ab'.repeat(32)}/echo@1.0.0`,
    manifestSignature: 'cd'.repeat(64),
    moduleHash: '01'.repeat(32),
    inputHash: '02'.repeat(32),
    outputHash: '03'.repeat(32),
    fuel: 1234,
    executor: b4a.toString(kp.publicKey, 'hex'),
    tenant: '0xAbC',
    time: 1_763_000_000_000,
    nonce: '04'.repeat(32),
    deadline: 1_763_000_010_000,
    bytes: 0,
    price: { utilisationPpm: 0, fuelPrice: 0, bytePrice: 0 },
    total: 0,
    ...over
  }
}

describe('receipts', () => {
  it('sign, encode, decode and verify; any changed field or another key fails with RECEIPT_INVALID', () => {
    const r = signReceipt(body(), kp.secretKey)
    const bytes = encodeReceipt(r)
    expect(decodeReceipt(bytes)).toEqual(r)
    expect(verifyReceipt(parseReceiptJson(JSON.parse(JSON.stringify(r))))).toEqual(r)
    expect(code(() => verifyReceipt({ ...r, tenant: '0xabc' }))).toBe('RECEIPT_INVALID')
    expect(code(() => verifyReceipt({ ...r, executor: b4a.toString(crypto.keyPair().publicKey, 'hex') }))).toBe('RECEIPT_INVALID')
    expect(code(() => decodeReceipt(b4a.concat([bytes, b4a.from([0])])))).toBe('RECEIPT_INVALID')
    expect(code(() => decodeReceipt(bytes.subarray(0, 70)))).toBe('RECEIPT_INVALID')
    expect(code(() => signReceipt(body({ inputHash: 'zz' }), kp.secretKey))).toBe('RECEIPT_INVALID')
    expect(code(() => parseReceiptJson({ ...r, fuel: -1 }))).toBe('RECEIPT_INVALID')
  })
})

function ok (executor: string, outputHash: string, fuel = 10): SlotOutcome {
  const receipt = { ...body({ executor, outputHash, fuel }), signature: '00'.repeat(64) } as SignedReceipt
  return { ok: true, result: { output: b4a.from(outputHash.slice(0, 2)), receipt, ledger: { key: executor, index: 0 } } }
}

describe('quorum', () => {
  it('accepts the majority, records dissenters and failures', () => {
    expect(majority(1)).toBe(1)
    expect(majority(3)).toBe(2)
    expect(majority(4)).toBe(3)
    const d = decideQuorum([ok('a', 'aa'), ok('b', 'bb'), ok('c', 'aa')], 2)
    expect(d.receipts.map(r => r.executor)).toEqual(['a', 'c'])
    expect(d.dissenters.map(r => r.executor)).toEqual(['b'])
    const fuelDiffers = decideQuorum([ok('a', 'aa', 1), ok('b', 'aa', 2), ok('c', 'aa', 1), { ok: false, executor: 'd', code: 'TIMEOUT', message: 'TIMEOUT: x' }], 2)
    expect(fuelDiffers.dissenters.map(r => r.executor)).toEqual(['b'])
    expect(fuelDiffers.failures).toEqual([{ executor: 'd', code: 'TIMEOUT', message: 'TIMEOUT: x' }])
  })

  it('fails with QUORUM_FAILED and its evidence, or with the error a quorum shares', () => {
    let err: ShadwError | null = null
    try { decideQuorum([ok('a', 'aa'), ok('b', 'bb'), { ok: false, executor: 'c', code: 'TIMEOUT', message: 't' }], 2) } catch (e) { err = e as ShadwError }
    expect(err?.code).toBe('QUORUM_FAILED')
    expect((err?.details?.['groups'] as unknown[]).length).toBe(2)
    expect((err?.details?.['failures'] as unknown[]).length).toBe(1)
    expect(code(() => decideQuorum([{ ok: false, executor: 'a', code: 'TRAP', message: 'TRAP: unreachable' }], 1))).toBe('TRAP')
    expect(code(() => decideQuorum([{ ok: false, executor: null, code: 'BUSY', message: 'm' }, { ok: false, executor: null, code: 'BUSY', message: 'm' }, ok('c', 'aa')], 2))).toBe('QUORUM_FAILED')
  })
})

describe('nonce set', () => {
  it('refuses a replay, an expired or far deadline, and forgets nonces after their deadline', () => {
    let now = 1000
    const set = new NonceSet({ maxEntries: 2, now: () => now })
    const n1 = new Uint8Array(32).fill(1)
    set.use(n1, 2000)
    expect(code(() => set.use(n1, 2000))).toBe('REQUEST_REPLAYED')
    expect(code(() => set.use(new Uint8Array(32).fill(2), 1000))).toBe('DEADLINE_EXCEEDED')
    expect(code(() => set.use(new Uint8Array(32).fill(2), now + 5 * 60_000 + 1))).toBe('INVALID_ARGUMENT')
    set.use(new Uint8Array(32).fill(2), 3000)
    expect(code(() => set.use(new Uint8Array(32).fill(3), 3000))).toBe('BUSY')
    now = 2500
    set.use(new Uint8Array(32).fill(3), 3000) // n1 expired and was swept
    expect(set.size).toBe(2)
  })
})

describe('router', () => {
  const peer = (key: string, over: Partial<PeerState> = {}): PeerState => ({ key, capacity: { type: 'capacity', id: 0, free: 2, total: 2, cpuBudget: 100, tier: 'super' }, rtt: 10, inflight: 0, dissents: 0, full: false, ...over })
  it('prefers low latency, spreads load, avoids liars, and refuses with BUSY or NO_EXECUTORS', () => {
    expect(pickPeer([peer('slow', { rtt: 30 }), peer('fast', { rtt: 5 })], new Set()).key).toBe('fast')
    expect(pickPeer([peer('a', { rtt: 10, inflight: 1 }), peer('b', { rtt: 12 })], new Set()).key).toBe('b')
    expect(pickPeer([peer('liar', { rtt: 5, dissents: 1 }), peer('b', { rtt: 8 })], new Set()).key).toBe('b')
    expect(pickPeer([peer('a'), peer('b', { rtt: 1 })], new Set(['b'])).key).toBe('a')
    expect(code(() => pickPeer([peer('a', { full: true }), peer('b', { inflight: 2 })], new Set()))).toBe('BUSY')
    expect(code(() => pickPeer([peer('light', { capacity: { type: 'capacity', id: 0, free: 0, total: 0, cpuBudget: 100, tier: 'light' } }), peer('new', { capacity: null })], new Set()))).toBe('NO_EXECUTORS')
  })
})

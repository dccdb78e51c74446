import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { merkleProof } from '../../../../src/core/commit-merkle.ts'
import { ShadwError } from '../../../../src/core/errors.ts'
import {
  computeStorageCredits, cosignStorageOrder, decodeServedWrong, encodeCosignedPin, encodeServedWrong, encodeStorageReceipt, GIB, MONTH_MS,
  readLedgerEntry, SERVED_WRONG_TAG, signServedWrong, signShardAnswer, signStorageOrder, signStorageReceipt, storageCharge, verifyServedWrong,
  type LedgerEntry, type ServedWrong
} from '../../../../src/core/ledger/index.ts'
import { encodeErasure, judgeAnswer, servedWrongOn, shardHash, shardNonce, signAnswer, signErasurePin } from '../../../../src/core/pinning/index.ts'
import { computeStorageReputation, NEUTRAL_REPUTATION } from '../../../../src/core/reputation/index.ts'
import { reedSolomon } from '../../../../src/super-node/reed-solomon-node.ts'

const hex = (k: Uint8Array): string => b4a.toString(k, 'hex')
const [pinnerKeys, holder, reader, other] = [crypto.keyPair(), crypto.keyPair(), crypto.keyPair(), crypto.keyPair()]
const H = hex(holder.publicKey)
const drive = 'ab'.repeat(32)
const rs = reedSolomon()
const enc = encodeErasure(rs, crypto.randomBytes(5 * 2 * 1024 - 9), { k: 2, m: 2 }, 1024, 256)
const pin = signErasurePin({ drive, version: 3, layout: enc.layout, stripes: enc.commitments, time: 1 }, pinnerKeys)
const STRIPE = 3
const SHARD = 2
const good = enc.stripes[STRIPE]![SHARD]!
const flipped = good.map(x => x ^ 0x5a)

function code (fn: () => unknown): string {
  try { fn() } catch (err) { if (err instanceof ShadwError) return err.code; throw err }
  throw new Error('expected a typed error')
}

/** What a holder serving `bytes` signs when it signs what it sends (a liar that signs its lie). */
function liarAnswer (bytes: Uint8Array, nonce: string): string {
  return signShardAnswer({ drive, root: pin.root, stripe: STRIPE, stripes: pin.stripes.length, shard: SHARD, width: 4, hash: shardHash(bytes, pin.layout.chunkBytes), nonce, holder: H }, holder).signature
}

function caught (time = 1_000): ServedWrong {
  const nonce = shardNonce()
  const j = judgeAnswer(pin, H, SHARD, STRIPE, nonce, flipped, liarAnswer(flipped, nonce), reader)
  if (j.ok || j.record === null) throw new Error('not caught')
  return signServedWrong({ ...j.record, time }, reader)
}

describe('served-wrong records', () => {
  it('an honest answer passes; a wrong one under the holder\'s signature becomes a record that round-trips through the ledger with tag 0xc7', () => {
    const nonce = shardNonce()
    expect(judgeAnswer(pin, H, SHARD, STRIPE, nonce, good, signAnswer(pin, SHARD, STRIPE, nonce, holder), reader)).toEqual({ ok: true })
    // wrong bytes under a signature that is not over them (a rotted disk signs the committed hash): a bad answer, no evidence
    expect(judgeAnswer(pin, H, SHARD, STRIPE, nonce, flipped, signAnswer(pin, SHARD, STRIPE, nonce, holder), reader)).toEqual({ ok: false, record: null })
    const r = caught()
    expect(r.answer).toMatchObject({ holder: H, root: pin.root, stripe: STRIPE, shard: SHARD, hash: shardHash(flipped, 256) })
    expect(r.committed).toBe(pin.stripes[STRIPE]!.shards[SHARD])
    const bytes = encodeServedWrong(r)
    expect(bytes[0]).toBe(SERVED_WRONG_TAG)
    expect(decodeServedWrong(bytes)).toEqual(r)
    expect(readLedgerEntry(bytes)).toEqual({ kind: 'served-wrong', record: r })
    expect(verifyServedWrong(JSON.parse(JSON.stringify(r)))).toEqual(r)
    expect(servedWrongOn(pin, r)).toEqual(r)
    expect(servedWrongOn({ ...pin, root: 'cd'.repeat(32) }, r)).toBe(null)
  })

  it('a reader cannot frame a holder: a forged answer, an honest answer against a made-up commitment, a changed shape or a changed record all fail SERVED_WRONG_INVALID', () => {
    const r = caught()
    const st = pin.stripes[STRIPE]!
    const paths = { committed: st.shards[SHARD]!, shardPath: merkleProof(st.shards, SHARD), stripeRoot: st.root, stripePath: merkleProof(pin.stripes.map(x => x.root), STRIPE), time: 5 }
    // the reader signs the "holder's" answer with a key of its own
    const forged = signShardAnswer({ ...r.answer, holder: H }, other)
    expect(code(() => signServedWrong({ answer: forged, ...paths }, reader))).toBe('SERVED_WRONG_INVALID')
    expect(code(() => verifyServedWrong({ ...r, answer: forged }))).toBe('SERVED_WRONG_INVALID')
    // a genuine honest answer: its hash is the committed one, and no other hash leads to the pin root
    const nonce = shardNonce()
    const honest = signShardAnswer({ drive, root: pin.root, stripe: STRIPE, stripes: pin.stripes.length, shard: SHARD, width: 4, hash: st.shards[SHARD]!, nonce, holder: H }, holder)
    expect(code(() => signServedWrong({ answer: honest, ...paths }, reader))).toBe('SERVED_WRONG_INVALID')
    expect(code(() => signServedWrong({ answer: honest, ...paths, committed: st.shards[0]! }, reader))).toBe('SERVED_WRONG_INVALID')
    expect(code(() => signServedWrong({ answer: honest, ...paths, committed: 'ee'.repeat(32), shardPath: [], stripeRoot: 'ee'.repeat(32) }, reader))).toBe('SERVED_WRONG_INVALID')
    // a width of 1 would make the stripe root pass for the shard's hash: the holder signed the real width
    expect(code(() => verifyServedWrong({ ...r, answer: { ...r.answer, width: 1, shard: 0 }, committed: st.root, shardPath: [] }))).toBe('SERVED_WRONG_INVALID')
    // the reader's own fields and signature are covered
    expect(code(() => verifyServedWrong({ ...r, time: r.time + 1 }))).toBe('SERVED_WRONG_INVALID')
    expect(code(() => signServedWrong({ ...r, answer: { ...r.answer } }, holder))).toBe('SERVED_WRONG_INVALID')
    const tampered = encodeServedWrong(r)
    tampered[tampered.length - 70]! ^= 1
    expect(readLedgerEntry(tampered)).toMatchObject({ kind: 'invalid', code: 'SERVED_WRONG_INVALID' })
  })

  it('stops the holder\'s storage payment from the record on and lowers its reputation; one record is enough, copies count once', () => {
    const receipt = signStorageReceipt({ kind: 'hold', drive, pinner: hex(pinnerKeys.publicKey), bytes: GIB, from: 0, to: MONTH_MS, price: 1_000 }, holder)
    const pins = [cosignStorageOrder(signStorageOrder({ drive, holder: H, bytes: GIB, time: 0, price: 1_000, servePrice: 100 }, pinnerKeys), holder)]
    const ledger = (rs: ServedWrong[]): LedgerEntry[] => [readLedgerEntry(encodeStorageReceipt(receipt)), ...pins.map(p => readLedgerEntry(encodeCosignedPin(p)))].concat(rs.map(r => readLedgerEntry(encodeServedWrong(r))))
    expect(computeStorageCredits(ledger([])).earned.get(H)).toBe(1_000)
    const half = MONTH_MS / 2
    const r = caught(half)
    const stopped = computeStorageCredits(ledger([r, r, caught(half + 10)]))
    const paid = storageCharge('hold', GIB, 0, half, 1_000)
    expect(stopped.earned.get(H)).toBe(paid)
    expect(stopped.withheld.get(H)).toBe(1_000 - paid)
    expect(stopped.servedWrong).toEqual([{ holder: H, drive, from: half, to: null }])
    expect(stopped.holders.get(H)).toMatchObject({ kept: 1, failed: 1 })
    const rep = computeStorageReputation(ledger([r])).get(H)!
    expect(rep.score).toBeLessThan(NEUTRAL_REPUTATION)
    expect(rep.score).toBeLessThan(computeStorageReputation(ledger([])).get(H)!.score)
  })
})

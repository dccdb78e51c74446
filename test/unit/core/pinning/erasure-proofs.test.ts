import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import {
  answerChallenge, checkAnswer, electRepairer, encodeErasure, erasureHealth, holderFailed, makeChallenge, nextChallengeDelay,
  rebuildStripe, repairRanking, signErasurePin, signRepair, signVerdict, verifyRepair, verifyVerdict, type ErasurePin
} from '../../../../src/core/pinning/index.ts'
import { reedSolomon } from '../../../../src/super-node/reed-solomon-node.ts'

const rs = reedSolomon()
const DRIVE = 'ab'.repeat(32)
const data = crypto.randomBytes(4 * 4096 * 2 + 1000) // random: no two chunks alike
const enc = encodeErasure(rs, data, { k: 4, m: 2 }, 4096, 256)
const pin: ErasurePin = signErasurePin({ drive: DRIVE, version: 3, layout: enc.layout, stripes: enc.commitments, time: 1 }, crypto.keyPair())

/** A holder as a challenge sees it: it answers from what it keeps on "disk" (bytes or nothing). */
function answerFrom (disk: Uint8Array | null, chunk: number): unknown {
  return disk === null ? null : answerChallenge(disk, pin.layout.chunkBytes, chunk)
}

describe('storage proofs', () => {
  it('an honest holder passes every chunk of every shard', () => {
    for (let s = 0; s < enc.stripes.length; s++) {
      for (let i = 0; i < 6; i++) {
        for (const u of [0, 0.3, 0.999]) {
          const c = makeChallenge(pin, s, i, u)
          expect(() => checkAnswer(pin, c, answerFrom(enc.stripes[s]![i]!, c.chunk))).not.toThrow()
        }
      }
    }
  })

  it('a corrupted shard on disk is caught by a challenge of the corrupted chunk, and a proof cannot be replayed for another chunk', () => {
    const disk = enc.stripes[1]![2]!.slice()
    disk[5 * 256 + 10] = (disk[5 * 256 + 10] as number) ^ 0x80
    const c = makeChallenge(pin, 1, 2, 5.5 / 16)
    expect(c.chunk).toBe(5)
    expect(() => checkAnswer(pin, c, answerFrom(disk, 5))).toThrow(expect.objectContaining({ code: 'PROOF_FAILED', details: { stripe: 1, shard: 2, chunk: 5 } }))
    // the holder answers with a good chunk it still has instead: the proof's path is for chunk 4
    expect(() => checkAnswer(pin, c, answerFrom(enc.stripes[1]![2]!, 4))).toThrow(expect.objectContaining({ code: 'PROOF_FAILED' }))
    // random challenges find it: over 200 draws the odds of missing one chunk in 16 are (15/16)^200
    let caught = 0
    for (let j = 0; j < 200; j++) {
      const r = makeChallenge(pin, 1, 2, Math.random())
      try { checkAnswer(pin, r, answerFrom(disk, r.chunk)) } catch { caught++ }
    }
    expect(caught).toBeGreaterThan(0)
  })

  it('a holder that claimed more space than it has (kept only part of its shard, or none) is caught', () => {
    const full = enc.stripes[0]![4]!
    const partial = full.slice(0, 2048) // what fit in its real free space
    expect(() => checkAnswer(pin, makeChallenge(pin, 0, 4, 0.9), answerFrom(partial, 14))).toThrow(expect.objectContaining({ code: 'PROOF_FAILED' }))
    expect(() => checkAnswer(pin, makeChallenge(pin, 0, 4, 0.9), answerFrom(null, 14))).toThrow(expect.objectContaining({ code: 'PROOF_FAILED' }))
    expect(() => checkAnswer(pin, makeChallenge(pin, 0, 4, 0.9), { bytes: 'zz', proof: [] })).toThrow(expect.objectContaining({ code: 'PROOF_FAILED' }))
  })

  it('verdicts are signed; one challenger alone cannot fail a holder, two can', () => {
    const holder = 'cd'.repeat(32)
    const ROOT = 'ef'.repeat(32)
    const [a, b] = [crypto.keyPair(), crypto.keyPair()]
    const va = signVerdict({ kind: 'shard', drive: DRIVE, target: ROOT, stripe: 0, shard: 1, holder, ok: false, reason: 'no answer', time: 10 }, a)
    expect(verifyVerdict(JSON.parse(JSON.stringify(va)))).toEqual(va)
    expect(() => verifyVerdict({ ...va, ok: true })).toThrow(expect.objectContaining({ code: 'VERDICT_INVALID' }))
    expect(holderFailed([va], DRIVE, holder)).toBe(false)
    const vb = signVerdict({ kind: 'shard', drive: DRIVE, target: ROOT, stripe: 0, shard: 1, holder, ok: false, reason: 'wrong chunk', time: 11 }, b)
    expect(holderFailed([va, vb], DRIVE, holder)).toBe(true)
    // a later pass from b outweighs its earlier failure
    const vb2 = signVerdict({ kind: 'shard', drive: DRIVE, target: ROOT, stripe: 0, shard: 1, holder, ok: true, reason: '', time: 12 }, b)
    expect(holderFailed([va, vb, vb2], DRIVE, holder)).toBe(false)
  })

  it('challenge times are exponential: the mean is the interval, no draw predicts the next', () => {
    const xs = Array.from({ length: 20000 }, () => nextChallengeDelay(1000, Math.random()))
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length
    expect(mean).toBeGreaterThan(950)
    expect(mean).toBeLessThan(1050)
  })
})

describe('repair', () => {
  const holders = Array.from({ length: 8 }, () => crypto.keyPair())
  const keys = holders.map(h => Buffer.from(h.publicKey).toString('hex'))

  it('every holder elects the same repairer; the next takes over after each grace period', () => {
    const lost = 'ee'.repeat(32)
    const first = electRepairer(keys, pin.root, 3, lost, 1000, 1500, 60_000)
    expect(electRepairer([...keys].reverse(), pin.root, 3, lost, 1000, 59_000, 60_000)).toBe(first)
    const ranking = repairRanking(keys, pin.root, 3, lost)
    expect(ranking[0]).toBe(first)
    expect(electRepairer(keys, pin.root, 3, lost, 1000, 61_001, 60_000)).toBe(ranking[1])
    // another loss (another slot, or the same slot's next holder lost) elects independently
    expect(new Set(Array.from({ length: 6 }, (_, i) => electRepairer(keys, pin.root, i, lost, 0, 0, 1))).size).toBeGreaterThan(1)
    expect(new Set(keys.map(k => electRepairer(keys, pin.root, 3, k, 0, 0, 1))).size).toBeGreaterThan(1)
    expect(electRepairer([], pin.root, 3, lost, 0, 0, 1)).toBeNull()
  })

  it('rebuilds a lost data or parity shard exactly from K survivors and signs the new placement', () => {
    for (const lost of [0, 5]) {
      const rebuilt = rebuildStripe(rs, pin.layout, pin.stripes[2]!, 2, i => i === lost || i === 1 ? null : enc.stripes[2]![i]!)
      expect(Buffer.compare(rebuilt[lost]!, enc.stripes[2]![lost]!)).toBe(0)
    }
    const r = signRepair({ drive: DRIVE, root: pin.root, shard: 5, stripes: 3, from: keys[0]!, to: keys[7]!, time: 5 }, holders[3]!)
    expect(verifyRepair(JSON.parse(JSON.stringify(r)))).toEqual(r)
    expect(() => verifyRepair({ ...r, to: keys[6] })).toThrow(expect.objectContaining({ code: 'ERASURE_INVALID' }))
  })

  it('health: healthy at K+M live in every stripe, degraded below, lost below K', () => {
    expect(erasureHealth(pin.layout, [6, 6, 6])).toMatchObject({ health: 'healthy', weakestStripeLive: 6, expansion: 1.5 })
    expect(erasureHealth(pin.layout, [6, 4, 5])).toMatchObject({ health: 'degraded', weakestStripeLive: 4, weakestStripe: 1 })
    expect(erasureHealth(pin.layout, [6, 6, 3])).toMatchObject({ health: 'lost', weakestStripeLive: 3, weakestStripe: 2 })
  })
})

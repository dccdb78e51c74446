import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { interpolateAt, keyCheck, newShareXs, recoverKey, reshareCombine, reshareDeal, shareX, signCommitment, splitKey, verifyCommitment } from '../../../../src/core/access/index.ts'
import { ShadwError } from '../../../../src/core/errors.ts'

const KEY_ID = 'ab'.repeat(32)

function flip (share: Uint8Array, at: number, bits: number): void { share[at] = (share[at] as number) ^ bits }

async function code (p: Promise<unknown>): Promise<string> {
  try { await p } catch (err) { if (err instanceof ShadwError) return err.code; throw err }
  return 'PASSED'
}

describe('wrong-share detection against the dealer\'s commitment', () => {
  const dealer = crypto.keyPair()
  const dealerHex = b4a.toString(dealer.publicKey, 'hex')

  it('interpolating a threshold of shares gives every other holder\'s share', async () => {
    const shares = await splitKey(b4a.alloc(32, 3), 3, 6)
    for (const s of shares.slice(3)) expect(b4a.equals(interpolateAt(shares.slice(0, 3), shareX(s)), s)).toBe(true)
  })

  it('a commitment verifies only under its dealer and fields', () => {
    const c = signCommitment({ keyId: KEY_ID, epoch: 0, threshold: 3, check: keyCheck(KEY_ID, b4a.alloc(32, 1)) }, dealer.secretKey)
    expect(verifyCommitment(c, dealerHex)).toBe(true)
    expect(verifyCommitment({ ...c, epoch: 1 }, dealerHex)).toBe(false)
    expect(verifyCommitment({ ...c, threshold: 2 }, dealerHex)).toBe(false)
    expect(verifyCommitment(c, b4a.toString(crypto.keyPair().publicKey, 'hex'))).toBe(false)
    expect(verifyCommitment(null, dealerHex)).toBe(false)
  })

  it('names the holders whose shares are off the polynomial, wherever they sit in the order, and still rebuilds the key', async () => {
    const key = b4a.from('a 32-byte content key of a drive')
    const shares = await splitKey(key, 3, 5)
    const commitment = signCommitment({ keyId: KEY_ID, epoch: 0, threshold: 3, check: keyCheck(KEY_ID, key) }, dealer.secretKey)
    for (const liar of [0, 2, 4]) {
      const released = shares.map((s, i) => ({ source: `h${i}`, share: b4a.from(s) }))
      // one wrong byte in the y part, same x: the library alone would rebuild a wrong key
      flip(released[liar]!.share, 5, 0x40)
      const got = await recoverKey(released, commitment)
      expect(b4a.equals(got.key, key)).toBe(true)
      expect(got.wrong).toEqual([`h${liar}`])
    }
    // two liars among five at threshold three: three good shares remain, both named
    const released = shares.map((s, i) => ({ source: `h${i}`, share: b4a.from(s) }))
    flip(released[0]!.share, 0, 1)
    flip(released[3]!.share, 31, 0x80)
    const two = await recoverKey(released, commitment)
    expect(b4a.equals(two.key, key)).toBe(true)
    expect(two.wrong.sort()).toEqual(['h0', 'h3'])
    // three liars: no three good shares, a typed refusal rather than a wrong key
    flip(released[1]!.share, 2, 2)
    expect(await code(recoverKey(released, commitment))).toBe('KEY_SHARES_SHORT')
  })

  it('shares of before and after a rotation do not mix: the old one is named wrong under the new commitment', async () => {
    const key = b4a.alloc(32, 0x77)
    const old = await splitKey(key, 2, 3)
    const to = newShareXs(3)
    const dealt = old.slice(0, 2).map(s => reshareDeal(s, old.slice(0, 2).map(shareX), to, 2))
    const fresh = to.map((_, j) => reshareCombine(dealt.map(d => d[j]!)))
    const commitment = signCommitment({ keyId: KEY_ID, epoch: 1, threshold: 2, check: keyCheck(KEY_ID, key) }, dealer.secretKey)
    const got = await recoverKey([{ source: 'old', share: old[2]! }, { source: 'a', share: fresh[0]! }, { source: 'b', share: fresh[1]! }], commitment)
    expect(b4a.equals(got.key, key)).toBe(true)
    expect(got.wrong).toEqual(['old'])
  })
})

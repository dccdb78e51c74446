import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { MAX_VERDICTS_PER_DRIVE, ProofBook } from '../../../../src/core/pinning/proof-book.ts'
import { signVerdict, type HolderFailure, type ProofVerdict } from '../../../../src/core/pinning/index.ts'

const hex = (k: Uint8Array): string => b4a.toString(k, 'hex')
const drive = 'cd'.repeat(32)
const root = 'ef'.repeat(32)
const holder = hex(crypto.keyPair().publicKey)
const [a, b, c] = [crypto.keyPair(), crypto.keyPair(), crypto.keyPair()]

function verdict (by: typeof a, ok: boolean, time: number, on = holder): ProofVerdict {
  return signVerdict({ kind: 'shard', drive, target: root, stripe: 0, shard: 4, holder: on, ok, reason: ok ? '' : 'no answer', time }, by)
}

describe('the proof book', () => {
  it('fails a holder on the second distinct challenger, once, with the evidence; recovers when one passes again', () => {
    const book = new ProofBook()
    const failed: HolderFailure[] = []
    const recovered: HolderFailure[] = []
    book.onHolderFailed(f => { failed.push(f) })
    book.onHolderRecovered(f => { recovered.push(f) })
    expect(book.add(verdict(a, false, 10))).not.toBeNull()
    expect(book.add(verdict(a, false, 11))).not.toBeNull()
    expect(book.failedHolders(drive)).toEqual([])
    book.add(verdict(b, false, 12))
    expect(failed).toHaveLength(1)
    expect(failed[0]).toMatchObject({ drive, holder, kind: 'shard', target: root, shard: 4, since: 12 })
    expect(failed[0]!.verdicts.map(v => v.challenger).sort()).toEqual([hex(a.publicKey), hex(b.publicKey)].sort())
    book.add(verdict(c, false, 13))
    expect(failed).toHaveLength(1)
    expect(book.failuresOf(holder)).toHaveLength(1)
    // an older verdict from b does not replace its latest; a newer pass from b and c does
    expect(book.add(verdict(b, true, 5))).toBeNull()
    book.add(verdict(b, true, 20))
    expect(recovered).toHaveLength(0)
    book.add(verdict(c, true, 21))
    expect(recovered).toHaveLength(1)
    expect(book.failedHolders(drive)).toEqual([])
  })

  it('refuses unsigned, tampered and ineligible verdicts; a throwing listener stops nothing', () => {
    const judges = new Set([hex(a.publicKey), hex(b.publicKey)])
    const book = new ProofBook(2, (d, challenger) => d === drive && judges.has(challenger))
    book.onHolderFailed(() => { throw new Error('listener bug') })
    expect(book.add({ ...verdict(a, false, 1), ok: true })).toBeNull()
    expect(book.add(verdict(c, false, 1))).toBeNull()
    expect(book.add(verdict(a, false, 2))).not.toBeNull()
    expect(book.add(verdict(b, false, 3))).not.toBeNull()
    expect(book.failedHolders(drive).map(f => f.holder)).toEqual([holder])
    expect(book.verdicts(drive)).toHaveLength(2)
  })

  it('keeps at most MAX_VERDICTS_PER_DRIVE verdicts of a drive', () => {
    const book = new ProofBook()
    for (let i = 0; i < MAX_VERDICTS_PER_DRIVE + 5; i++) book.add(verdict(a, true, 1, b4a.toString(b4a.alloc(32, i % 256), 'hex').slice(0, 62) + (i >> 8).toString(16).padStart(2, '0')))
    expect(book.verdicts(drive)).toHaveLength(MAX_VERDICTS_PER_DRIVE)
  })
})

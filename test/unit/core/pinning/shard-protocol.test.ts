import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { decodeShardMessage, MAX_PLACEMENT_RECORDS, SHARD_PROTOCOL } from '../../../../src/core/pinning/shard-protocol.ts'

const enc = (v: unknown): Uint8Array => b4a.from(JSON.stringify(v))
const root = 'ab'.repeat(32)

describe('shard protocol: the holders\' gossip', () => {
  it('decodes a placement and a claim; ask is true only when sent true', () => {
    expect(decodeShardMessage(enc({ type: 'placement', root, holds: [{}], repairs: [], ask: true }))).toEqual({ type: 'placement', root, holds: [{}], repairs: [], ask: true })
    expect(decodeShardMessage(enc({ type: 'placement', root, holds: [], repairs: [], ask: 'yes' }))).toMatchObject({ ask: false })
    expect(decodeShardMessage(enc({ type: 'repairing', root, shard: 2, from: 'cd'.repeat(32) }))).toEqual({ type: 'repairing', root, shard: 2, from: 'cd'.repeat(32) })
  })

  it('refuses lists past the bound, a bad root, a bad claim', () => {
    const many = Array.from({ length: MAX_PLACEMENT_RECORDS + 1 }, () => ({}))
    for (const bad of [
      { type: 'placement', root, holds: many, repairs: [] },
      { type: 'placement', root, holds: [], repairs: many },
      { type: 'placement', root, holds: {}, repairs: [] },
      { type: 'placement', root: 'xy', holds: [], repairs: [] },
      { type: 'repairing', root, shard: -1, from: 'cd'.repeat(32) },
      { type: 'repairing', root, shard: 1, from: 'cd' }
    ]) expect(() => decodeShardMessage(enc(bad))).toThrow(expect.objectContaining({ code: 'PIN_PROTOCOL' }))
  })

  it('a slots answer carries each slot\'s repairs and the slots being repaired (absent: none)', () => {
    const m = decodeShardMessage(enc({ type: 'slots', id: 1, slots: [{ pin: 1, hold: 2, repairs: [{ a: 1 }], repairing: [3], wrong: [{ b: 2 }] }, { pin: 1, hold: 2 }] }))
    expect(m).toEqual({ type: 'slots', id: 1, slots: [{ pin: 1, hold: 2, repairs: [{ a: 1 }], repairing: [3], wrong: [{ b: 2 }] }, { pin: 1, hold: 2, repairs: [], repairing: [], wrong: [] }] })
    expect(() => decodeShardMessage(enc({ type: 'slots', id: 1, slots: [{ repairing: ['x'] }] }))).toThrow(expect.objectContaining({ code: 'PIN_PROTOCOL' }))
  })

  it('v2: a get carries the reader\'s nonce and a data answer the holder\'s signature; without them the message is refused', () => {
    const nonce = 'ce'.repeat(32)
    expect(decodeShardMessage(enc({ type: 'get', id: 3, root, shard: 1, stripe: 2, nonce }))).toEqual({ type: 'get', id: 3, root, shard: 1, stripe: 2, nonce })
    expect(decodeShardMessage(enc({ type: 'wrong', record: { x: 1 } }))).toEqual({ type: 'wrong', record: { x: 1 } })
    for (const bad of [
      { type: 'get', id: 3, root, shard: 1, stripe: 2 },
      { type: 'get', id: 3, root, shard: 1, stripe: 2, nonce: 'ce' },
      { type: 'data', id: 3 }
    ]) expect(() => decodeShardMessage(enc(bad))).toThrow(expect.objectContaining({ code: 'PIN_PROTOCOL' }))
    expect(SHARD_PROTOCOL).toBe('shadw/shard/v2')
  })
})

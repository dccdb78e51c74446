import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import { boundHoldings, decodeMessage, encodeMessage, MAX_ADVERTISED_DRIVES, missingBytes, pickPeer, type CapacityMessage, type HeldDrive, type PeerState } from '../../../../src/core/invoke/index.ts'

function code (fn: () => unknown): string {
  try { fn() } catch (err) { if (err instanceof ShadwError) return err.code; throw err }
  throw new Error('expected a typed error')
}

const D = 'dd'.repeat(32)
const E = 'ee'.repeat(32)
const MiB = 1024 * 1024

function peer (key: string, opts: { holdings?: HeldDrive[], rtt?: number, inflight?: number, total?: number, free?: number } = {}): PeerState {
  const total = opts.total ?? 4
  const capacity: CapacityMessage = { type: 'capacity', id: 0, free: opts.free ?? total, total, cpuBudget: 100, tier: 'super', ...(opts.holdings === undefined ? {} : { holdings: opts.holdings }) }
  return { key, capacity, rtt: opts.rtt ?? 5, inflight: opts.inflight ?? 0, dissents: 0, full: capacity.free === 0 }
}

describe('held drives in capacity adverts', () => {
  it('round-trip after the quote or alone, and a frame without them decodes as before', () => {
    const held = [{ drive: D, bytes: 64 * MiB }, { drive: E, bytes: 1 }]
    const alone: CapacityMessage = { type: 'capacity', id: 3, free: 1, total: 2, cpuBudget: 80, tier: 'super', holdings: held }
    const both: CapacityMessage = { ...alone, quote: { utilisationPpm: 500_000, fuelPrice: 2, bytePrice: 3 } }
    expect(decodeMessage(encodeMessage(alone))).toEqual(alone)
    expect(decodeMessage(encodeMessage(both))).toEqual(both)
    const plain: CapacityMessage = { type: 'capacity', id: 0, free: 1, total: 2, cpuBudget: 80, tier: 'super' }
    expect(decodeMessage(encodeMessage(plain))).toEqual(plain)
    // the largest advert stays small enough to answer every probe with
    const most = boundHoldings(Array.from({ length: 100 }, (_, i) => ({ drive: i.toString(16).padStart(64, '0'), bytes: Number.MAX_SAFE_INTEGER - i })))
    expect(most).toHaveLength(MAX_ADVERTISED_DRIVES)
    expect(encodeMessage({ ...both, holdings: most }).byteLength).toBeLessThan(1600)
  })

  it('are refused when malformed: out of order, repeated, empty, too many, zero bytes', () => {
    const base = encodeMessage({ type: 'capacity', id: 0, free: 1, total: 2, cpuBudget: 80, tier: 'super' })
    const entry = (key: string, bytes: number): Uint8Array => b4a.concat([b4a.from(key, 'hex'), b4a.from([bytes])])
    expect(decodeMessage(b4a.concat([base, b4a.from([2, 1]), entry(D, 9)]))).toMatchObject({ holdings: [{ drive: D, bytes: 9 }] })
    // the holdings mark before the quote's, a mark repeated, an unknown mark
    expect(code(() => decodeMessage(b4a.concat([base, b4a.from([2, 1]), entry(D, 9), b4a.from([1, 0, 0, 0])])))).toBe('INVOKE_PROTOCOL')
    expect(code(() => decodeMessage(b4a.concat([base, b4a.from([2, 1]), entry(D, 9), b4a.from([2, 1]), entry(E, 9)])))).toBe('INVOKE_PROTOCOL')
    expect(code(() => decodeMessage(b4a.concat([base, b4a.from([3, 0])])))).toBe('INVOKE_PROTOCOL')
    expect(code(() => decodeMessage(b4a.concat([base, b4a.from([2, 0])])))).toBe('INVOKE_PROTOCOL')
    expect(code(() => decodeMessage(b4a.concat([base, b4a.from([2, 2]), entry(D, 9), entry(D, 8)])))).toBe('INVOKE_PROTOCOL')
    expect(code(() => decodeMessage(b4a.concat([base, b4a.from([2, 1]), entry(D, 0)])))).toBe('INVOKE_PROTOCOL')
    expect(code(() => decodeMessage(b4a.concat([base, b4a.from([2, MAX_ADVERTISED_DRIVES + 1])])))).toBe('INVOKE_PROTOCOL')
    const cap: CapacityMessage = { type: 'capacity', id: 0, free: 1, total: 2, cpuBudget: 80, tier: 'super' }
    expect(code(() => encodeMessage({ ...cap, holdings: [] }))).toBe('INVOKE_PROTOCOL')
    expect(code(() => encodeMessage({ ...cap, holdings: [{ drive: D.toUpperCase(), bytes: 1 }] }))).toBe('INVOKE_PROTOCOL')
  })

  it('are bounded to the largest, one per drive, junk dropped', () => {
    expect(boundHoldings([{ drive: D, bytes: 5 }, { drive: D, bytes: 9 }, { drive: E, bytes: 0 }, { drive: 'x', bytes: 3 }, { drive: E, bytes: 2.5 }])).toEqual([{ drive: D, bytes: 9 }])
  })
})

describe('routing to the data', () => {
  it('estimates what each peer lacks from the largest advert', () => {
    const holder = peer('h', { holdings: [{ drive: D, bytes: 64 * MiB }] })
    const partial = peer('p', { holdings: [{ drive: D, bytes: 16 * MiB }] })
    const other = peer('o')
    const missing = missingBytes([holder, partial, other], [D, E])
    expect([missing.get(holder), missing.get(partial), missing.get(other)]).toEqual([0, 48 * MiB, 64 * MiB])
    // nobody advertises the drive: nobody is favoured
    expect(missingBytes([holder, other], [E]).size).toBe(0)
  })

  it('prefers the holder while it has room, even a little slower or busier; the other when it is full', () => {
    const held = [{ drive: D, bytes: 64 * MiB }]
    const never = (): number => 0.99
    // a call without mounts goes to the fastest
    expect(pickPeer([peer('h', { holdings: held, rtt: 20 }), peer('o', { rtt: 2 })], new Set(), never).key).toBe('o')
    // a call over the drive goes to its holder, though it is slower and has calls of ours in flight
    expect(pickPeer([peer('h', { holdings: held, rtt: 20, inflight: 3 }), peer('o', { rtt: 2 })], new Set(), never, [D]).key).toBe('h')
    // saturated (no room) or already tried: the other runs it and fetches the data
    expect(pickPeer([peer('h', { holdings: held, free: 0 }), peer('o')], new Set(), never, [D]).key).toBe('o')
    expect(pickPeer([peer('h', { holdings: held, inflight: 4 }), peer('o')], new Set(), never, [D]).key).toBe('o')
    expect(pickPeer([peer('h', { holdings: held }), peer('o')], new Set(['h']), never, [D]).key).toBe('o')
    // a small drive is worth less than a long round trip: a far holder loses to a near peer
    const small = [{ drive: D, bytes: 64 * 1024 }]
    expect(pickPeer([peer('h', { holdings: small, rtt: 300 }), peer('o', { rtt: 2 })], new Set(), never, [D]).key).toBe('o')
  })
})

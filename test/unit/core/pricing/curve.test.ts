import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import { charge, checkPricing, cubicBezier, DEFAULT_PRICING, MAX_BASE_PRICE, MAX_UNIT_PRICE, PPM, quote, quoteFor, utilisation, type ControlPoints, type PricingConfig } from '../../../../src/core/pricing/index.ts'

const height = fc.integer({ min: 0, max: 100_000_000 })
const points = fc.tuple(height, height, height, height) as fc.Arbitrary<ControlPoints>
const sorted = points.map(p => [...p].sort((a, b) => a - b) as unknown as ControlPoints)
const t = fc.double({ min: 0, max: 1, noNaN: true })

describe('bonding curve', () => {
  it('is the standard cubic Bernstein form: ends at P0 and P3, 1 everywhere for all-ones, 0.5 for a linear ramp at t = 0.5', () => {
    expect(cubicBezier([7, 1, 2, 9], 0)).toBe(7)
    expect(cubicBezier([7, 1, 2, 9], 1)).toBe(9)
    for (let i = 0; i <= 100; i++) expect(cubicBezier([1, 1, 1, 1], i / 100)).toBeCloseTo(1, 12)
    expect(cubicBezier([0, 1 / 3, 2 / 3, 1], 0.5)).toBeCloseTo(0.5, 12)
    expect(cubicBezier([0, 1 / 3, 2 / 3, 1], 0.25)).toBeCloseTo(0.25, 12)
  })

  it('stays within the control points\' bounds for every t (property)', () => {
    fc.assert(fc.property(points, t, (p, x) => {
      const y = cubicBezier(p, x)
      return y >= Math.min(...p) && y <= Math.max(...p)
    }), { numRuns: 5_000 })
  })

  it('is non-decreasing in t for non-decreasing control points, up to float rounding (property)', () => {
    // mathematically monotone; in doubles two t one ulp apart can swap by ~1e-16 relative
    fc.assert(fc.property(sorted, t, t, (p, a, b) => {
      const [lo, hi] = a <= b ? [a, b] : [b, a]
      return cubicBezier(p, lo) <= cubicBezier(p, hi) + 1e-12 * Math.max(1, ...p)
    }), { numRuns: 5_000 })
  })

  it('quoted prices (integers at ppm utilisation) are exactly non-decreasing in demand for non-decreasing control points (property)', () => {
    const base = fc.integer({ min: 0, max: 1_000_000_000 })
    const demand = fc.integer({ min: 0, max: 1_000 })
    fc.assert(fc.property(sorted, base, demand, demand, (curve, fuelBase, a, b) => {
      const cfg = { fuelBase, byteBase: fuelBase, curve }
      const [lo, hi] = a <= b ? [a, b] : [b, a]
      return quote(cfg, lo, 1_000).fuelPrice <= quote(cfg, hi, 1_000).fuelPrice
    }), { numRuns: 5_000 })
  })

  it('prices are non-decreasing in demand for a monotone curve, and a dense sweep of the default never leaves [P0, P3] × base', () => {
    let last = -1
    for (let demand = 0; demand <= 10_000; demand++) {
      const q = quote(DEFAULT_PRICING, demand, 10_000)
      expect(q.fuelPrice).toBeGreaterThanOrEqual(last)
      expect(q.fuelPrice).toBeGreaterThanOrEqual(500)
      expect(q.fuelPrice).toBeLessThanOrEqual(4_000)
      last = q.fuelPrice
    }
    expect(quote(DEFAULT_PRICING, 0, 4)).toEqual({ utilisationPpm: 0, fuelPrice: 500, bytePrice: 50 })
    expect(quote(DEFAULT_PRICING, 4, 4)).toEqual({ utilisationPpm: 1_000_000, fuelPrice: 4_000, bytePrice: 400 })
  })

  it('utilisation is demand / supply clamped to [0, 1]; no supply is full', () => {
    expect(utilisation(1, 4)).toBe(0.25)
    expect(utilisation(9, 4)).toBe(1)
    expect(utilisation(-3, 4)).toBe(0)
    expect(utilisation(1, 0)).toBe(1)
    expect(utilisation(Number.NaN, 4)).toBe(0)
  })

  it('charges are exact integers rounded up: fuel per million, bytes per MiB', () => {
    const q = { utilisationPpm: 0, fuelPrice: 1_000, bytePrice: 100 }
    expect(charge(q, 1_000_000, 0)).toBe(1_000)
    expect(charge(q, 1, 0)).toBe(1)
    expect(charge(q, 0, 1024 * 1024)).toBe(100)
    expect(charge(q, 2 ** 40, 0)).toBe(1_099_511_628)
    expect(charge(q, 0, 0)).toBe(0)
  })

  it('refuses configs out of range with INVALID_ARGUMENT', () => {
    const bad: Array<Partial<PricingConfig>> = [{ fuelBase: -1 }, { byteBase: 1.5 }, { curve: [1, 2, 3] as unknown as ControlPoints }, { curve: [0, 0, 0, 100_000_001] }]
    for (const b of bad) {
      expect(() => checkPricing({ ...DEFAULT_PRICING, ...b })).toThrow(ShadwError)
      try { checkPricing({ ...DEFAULT_PRICING, ...b }) } catch (err) { expect((err as ShadwError).code).toBe('INVALID_ARGUMENT') }
    }
    expect(checkPricing(DEFAULT_PRICING)).toBe(DEFAULT_PRICING)
  })
})

describe('the function\'s price combined with the executor\'s curve', () => {
  const flat = [PPM, PPM, PPM, PPM] as const

  it('the publisher\'s price is a floor under the fuel price, read at the executor\'s utilisation; bytes stay the executor\'s', () => {
    // idle default executor: 500 µcredits per million fuel, 50 per MiB
    expect(quoteFor(DEFAULT_PRICING, undefined, 0, 4)).toEqual({ utilisationPpm: 0, fuelPrice: 500, bytePrice: 50 })
    expect(quoteFor(DEFAULT_PRICING, { base: 0, curve: flat }, 0, 4)).toEqual(quote(DEFAULT_PRICING, 0, 4))
    // a floor below the executor's price changes nothing
    expect(quoteFor(DEFAULT_PRICING, { base: 400, curve: flat }, 0, 4)).toEqual({ utilisationPpm: 0, fuelPrice: 500, bytePrice: 50 })
    // a floor above it sets the fuel price; bytes are untouched
    expect(quoteFor(DEFAULT_PRICING, { base: 3_000, curve: flat }, 0, 4)).toEqual({ utilisationPpm: 0, fuelPrice: 3_000, bytePrice: 50 })
    // the publisher's curve is read at the executor's utilisation: a 2× surge at full load
    const surge = { base: 1_000, curve: [PPM, PPM, PPM, 2 * PPM] as const }
    expect(quoteFor(DEFAULT_PRICING, surge, 0, 4).fuelPrice).toBe(1_000)
    expect(quoteFor(DEFAULT_PRICING, surge, 2, 4).fuelPrice).toBe(Math.max(quote(DEFAULT_PRICING, 2, 4).fuelPrice, Math.round(1_000 * cubicBezier(surge.curve, 0.5) / PPM)))
    // at full load the executor's own 4× (4,000) is above the publisher's 2× (2,000)
    expect(quoteFor(DEFAULT_PRICING, surge, 4, 4)).toEqual(quote(DEFAULT_PRICING, 4, 4))
  })

  it('stays monotone in load for monotone curves, and within both configured ranges (property)', () => {
    const cfg = fc.record({ fuelBase: fc.integer({ min: 0, max: 100_000 }), byteBase: fc.integer({ min: 0, max: 100_000 }), curve: sorted })
    const fn = fc.record({ base: fc.integer({ min: 0, max: 100_000 }), curve: sorted })
    fc.assert(fc.property(cfg, fn, fc.integer({ min: 0, max: 63 }), (c, f, d) => {
      const a = quoteFor(c, f, d, 64)
      const b = quoteFor(c, f, d + 1, 64)
      const node = quote(c, d, 64)
      return b.fuelPrice >= a.fuelPrice && a.fuelPrice >= node.fuelPrice && a.bytePrice === node.bytePrice &&
        a.fuelPrice <= Math.max(c.fuelBase * Math.max(...c.curve), f.base * Math.max(...f.curve)) / PPM + 1
    }), { numRuns: 2_000, seed: 9 })
    // the highest base at the steepest curve is the highest unit price a receipt may state
    expect(quoteFor({ fuelBase: MAX_BASE_PRICE, byteBase: MAX_BASE_PRICE, curve: [0, 0, 0, 100 * PPM] }, { base: MAX_BASE_PRICE, curve: [0, 0, 0, 100 * PPM] }, 1, 1)).toEqual({ utilisationPpm: PPM, fuelPrice: MAX_UNIT_PRICE, bytePrice: MAX_UNIT_PRICE })
  })
})

/**
 * Prices from the bonding curve: what one fuel unit and one byte moved cost at the node's
 * current utilisation. Units: credits are counted in integer µcredits (1 credit = 10^6), fuel
 * prices are µcredits per million fuel units, byte prices µcredits per MiB, so every figure
 * that is signed or summed is an integer and two nodes always compute the same total.
 */
import { ShadwError } from '../errors.ts'
import { cubicBezier, utilisation, type ControlPoints } from './bezier.ts'

/** Curve heights are parts per million of the base price (as in the manifest's `price.curve`). */
export const PPM = 1_000_000
/** Fuel prices are per this many fuel units (the manifest's `price.base` is per million fuel). */
export const FUEL_UNIT = 1_000_000
/** Byte prices are per MiB moved (input + output). */
export const BYTE_UNIT = 1024 * 1024
/** Highest curve height: 100× the base price at full utilisation bounds a surge. */
export const MAX_CURVE_PPM = 100 * PPM
/** Highest base price, µcredits per unit: keeps every total a safe integer for 2^32 fuel. */
export const MAX_BASE_PRICE = 1_000_000_000
/** Highest fuel or byte price a quote can state: the highest base at the steepest curve height. */
export const MAX_UNIT_PRICE = MAX_BASE_PRICE * (MAX_CURVE_PPM / PPM)

/** A node's pricing, from its config: base prices and the curve's four control heights. */
export interface PricingConfig {
  /** µcredits per million fuel units at a curve height of 1 (10^6 ppm) */
  fuelBase: number
  /** µcredits per MiB moved at a curve height of 1 */
  byteBase: number
  /** P0..P3, ppm of the base price */
  curve: ControlPoints
}

/**
 * The default: at idle a call costs half the base, at full load four times it, with the
 * surge held back until the middle (a flat start, a steep end).
 */
export const DEFAULT_PRICING: PricingConfig = {
  fuelBase: 1_000,
  byteBase: 100,
  curve: [500_000, 600_000, 1_200_000, 4_000_000]
}

/**
 * A function's own price, from its signed manifest (`price`): `base` µcredits per million
 * fuel and its curve over the executor's utilisation, ppm of `base`. It is a floor under the
 * executor's fuel price ({@link quoteFor}); `base` 0 leaves pricing to the executor.
 */
export interface FunctionPrice {
  base: number
  curve: ControlPoints
}

/** What a node charges now; part of its capacity advert and of every receipt it signs. */
export interface PriceQuote {
  /** utilisation at quote time, ppm (t × 10^6, rounded) */
  utilisationPpm: number
  /** µcredits per million fuel */
  fuelPrice: number
  /** µcredits per MiB */
  bytePrice: number
}

/**
 * Checks a config from a file or a peer.
 *
 * @throws ShadwError `INVALID_ARGUMENT`
 */
export function checkPricing (cfg: PricingConfig): PricingConfig {
  const int = (v: unknown, max: number, what: string): void => {
    if (!Number.isSafeInteger(v) || (v as number) < 0 || (v as number) > max) throw ShadwError.INVALID_ARGUMENT(`${what} must be an integer 0-${max}`)
  }
  if (typeof cfg !== 'object' || cfg === null) throw ShadwError.INVALID_ARGUMENT('pricing must be an object')
  int(cfg.fuelBase, MAX_BASE_PRICE, 'fuelBase')
  int(cfg.byteBase, MAX_BASE_PRICE, 'byteBase')
  if (!Array.isArray(cfg.curve) || cfg.curve.length !== 4) throw ShadwError.INVALID_ARGUMENT('curve must be four control heights')
  cfg.curve.forEach((p, i) => { int(p, MAX_CURVE_PPM, `curve[${i}]`) })
  return cfg
}

/** The curve's height at utilisation t, as a multiple of the base price (1 = base). */
export function curveFactor (cfg: PricingConfig, t: number): number {
  return cubicBezier(cfg.curve, t) / PPM
}

/**
 * The price at `demand` calls running or queued against `supply` slots.
 *
 * @example
 * ```ts
 * const q = quote(DEFAULT_PRICING, service.slots - service.free, service.slots)
 * const total = charge(q, receipt.fuel, inputBytes + outputBytes)
 * ```
 */
export function quote (cfg: PricingConfig, demand: number, supply: number): PriceQuote {
  const t = utilisation(demand, supply)
  const utilisationPpm = Math.round(t * PPM)
  // the signed figure is the quoted utilisation, so prices are computed from it, not from t
  const f = curveFactor(cfg, utilisationPpm / PPM)
  return { utilisationPpm, fuelPrice: Math.round(cfg.fuelBase * f), bytePrice: Math.round(cfg.byteBase * f) }
}

/**
 * The price a call to one function pays at `demand` / `supply`: the executor's curve and the
 * publisher's, both read at the executor's utilisation, and the higher of the two fuel prices
 * applies. The executor never runs below its own price (its costs and load steering); the
 * publisher's price is the least a call to its function costs anywhere (it rations an
 * expensive function, or prices it above the commons), rising with load as its curve says.
 * Bytes are the executor's alone: the publisher has no say over the network. The maximum of
 * two non-decreasing curves is non-decreasing, and stays within both configured ranges.
 *
 * @example
 * ```ts
 * const q = quoteFor(DEFAULT_PRICING, manifest.price, service.slots - service.free, service.slots)
 * ```
 */
export function quoteFor (cfg: PricingConfig, fn: FunctionPrice | undefined, demand: number, supply: number): PriceQuote {
  const q = quote(cfg, demand, supply)
  if (fn === undefined || fn.base === 0) return q
  const floor = Math.round(fn.base * cubicBezier(fn.curve, q.utilisationPpm / PPM) / PPM)
  return floor > q.fuelPrice ? { ...q, fuelPrice: floor } : q
}

/** The price a quote says for a utilisation in ppm (what a verifier recomputes). */
export function quoteAt (cfg: PricingConfig, utilisationPpm: number): PriceQuote {
  return quote(cfg, utilisationPpm, PPM)
}

/**
 * Total µcredits for `fuel` units and `bytes` moved at `q`, rounded up (an executor never
 * works for a fraction it cannot bill; a tenant is billed at most one µcredit over).
 */
export function charge (q: PriceQuote, fuel: number, bytes: number): number {
  // BigInt: fuel × price can pass 2^53 before the division
  const f = BigInt(fuel) * BigInt(q.fuelPrice)
  const b = BigInt(bytes) * BigInt(q.bytePrice)
  return Number(ceilDiv(f, BigInt(FUEL_UNIT)) + ceilDiv(b, BigInt(BYTE_UNIT)))
}

function ceilDiv (a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b
}

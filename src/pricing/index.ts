/** Pricing on the bonding curve, signed charges, credits and spending caps (isomorphic). See docs/pricing.md. */
export { cubicBezier, utilisation, type ControlPoints } from './bezier.ts'
export {
  PPM, FUEL_UNIT, BYTE_UNIT, MAX_CURVE_PPM, MAX_BASE_PRICE, DEFAULT_PRICING, checkPricing, curveFactor, quote, quoteAt, charge,
  type PricingConfig, type PriceQuote
} from './price-curve.ts'
export { CHARGE_TAG, CHARGE_DOMAIN, MAX_CHARGE_BYTES, signCharge, encodeCharge, decodeCharge, verifyCharge, receiptHash, type ChargeBody, type SignedCharge } from './charge.ts'
export { readLedgerEntry, readLedger, type LedgerEntry, type LedgerSource } from './ledger-entry.ts'
export { computeCredits, creditsFromLedgers, type Credits } from './credits.ts'
export { SpendingCap, worstCase, type SpendingLimits } from './spending-cap.ts'
export { PricedInvokeService, type PricedServiceOptions, type PricedResult } from './priced-service.ts'

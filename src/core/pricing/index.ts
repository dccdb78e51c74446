/** Pricing on the bonding curve, credits from receipts and spending caps (isomorphic). See docs/pricing.md. */
export { cubicBezier, utilisation, type ControlPoints } from './bezier.ts'
export {
  PPM, FUEL_UNIT, BYTE_UNIT, MAX_BASE_PRICE, MAX_UNIT_PRICE, DEFAULT_PRICING, checkPricing, curveFactor, quote,
  quoteFor, quoteAt, charge, type PricingConfig, type PriceQuote, type FunctionPrice
} from './price-curve.ts'
export { SpendingCap, worstCase, type SpendingLimits } from './spending-cap.ts'

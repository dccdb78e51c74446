/**
 * What an executor charges for a call, decided at admission: the bonding-curve quote of its
 * utilisation with the function's own price as a floor ({@link quoteFor}), and the tenant's
 * `maxCharge` held against the call's worst case before any work. The price applied and the
 * total go into the receipt itself, so the ledger of receipts is the one record credits are
 * computed from.
 */
import { ShadwError } from '../errors.ts'
import type { RequestMessage } from './protocol.ts'
import type { LoadedFunction } from '../registry/index.ts'
import { quoteFor, worstCase, type PriceQuote, type PricingConfig } from '../pricing/index.ts'
import { UNPRICED } from '../ledger/index.ts'

/**
 * Prices a call at admission (this call counted in `running`, the function's own price as a
 * floor) and refuses it, before anything runs, when its worst case exceeds the tenant's
 * `maxCharge`. An executor without `pricing` charges nothing: price 0, total 0, whatever
 * the cap.
 *
 * @throws ShadwError `SPENDING_CAP_EXCEEDED` (details: `cap` 'call', `worst`, `limit`, `quote`)
 */
export function priceCall (pricing: PricingConfig | null, fn: LoadedFunction, req: RequestMessage, running: number, slots: number): PriceQuote {
  if (pricing === null) return UNPRICED
  const price = quoteFor(pricing, fn.manifest.price, running, slots)
  if (req.maxCharge !== undefined) {
    const worst = worstCase(price, fn.manifest.limits, req.input.byteLength)
    if (worst > req.maxCharge) throw ShadwError.SPENDING_CAP_EXCEEDED(`this call may cost ${worst} µcredits here, over the tenant's cap of ${req.maxCharge}`, { cap: 'call', worst, limit: req.maxCharge, quote: price })
  }
  return price
}

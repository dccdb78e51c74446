/**
 * An executor service that prices: the same {@link InvokeService}, plus the bonding-curve
 * quote of its utilisation (sent in capacity adverts), the function's own price combined
 * with it at admission ({@link quoteFor}), and the tenant's `maxCharge` held against the
 * call's worst case before any work. The price applied and the total go into the receipt
 * itself, so the ledger of receipts is the one record credits are computed from.
 */
import { ShadwError } from '../errors.ts'
import { InvokeService, type InvokeServiceOptions } from './invoke-service.ts'
import type { RequestMessage } from './protocol.ts'
import type { LoadedFunction } from '../registry/index.ts'
import { checkPricing, quote, quoteFor, type PriceQuote, type PricingConfig } from '../pricing/index.ts'
import { worstCase } from '../pricing/index.ts'

/** Options of {@link PricedInvokeService}. */
export interface PricedServiceOptions extends InvokeServiceOptions {
  pricing: PricingConfig
}

/**
 * @example
 * ```ts
 * const service = new PricedInvokeService({ executor, functions, keyPair, ledger, pricing: DEFAULT_PRICING })
 * const endpoint = new InvokeEndpoint({ host: node, tier: 'super', service, quote: () => service.quote })
 * ```
 */
export class PricedInvokeService extends InvokeService {
  readonly pricing: PricingConfig

  constructor (opts: PricedServiceOptions) {
    super(opts)
    this.pricing = checkPricing(opts.pricing)
  }

  /** The price now, for adverts: the node's curve at utilisation = calls running / slots. */
  get quote (): PriceQuote {
    return quote(this.pricing, this.running, this.slots)
  }

  /**
   * Prices the call at admission (this call counted in the utilisation, the function's own
   * price as a floor) and refuses it, before anything runs, when its worst case exceeds the
   * tenant's `maxCharge`.
   *
   * @throws ShadwError `SPENDING_CAP_EXCEEDED` (details: `cap` 'call', `worst`, `limit`, `quote`)
   */
  protected override admit (fn: LoadedFunction, req: RequestMessage): PriceQuote {
    // the base service counts this call as running before it gets here
    const price = quoteFor(this.pricing, fn.manifest.price, this.running, this.slots)
    if (req.maxCharge !== undefined) {
      const worst = worstCase(price, fn.manifest.limits, req.input.byteLength)
      if (worst > req.maxCharge) throw ShadwError.SPENDING_CAP_EXCEEDED(`this call may cost ${worst} µcredits here, over the tenant's cap of ${req.maxCharge}`, { cap: 'call', worst, limit: req.maxCharge, quote: price })
    }
    return price
  }
}

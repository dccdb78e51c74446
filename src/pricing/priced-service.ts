/**
 * An executor service that prices: the same {@link InvokeService}, plus the bonding-curve
 * quote of its utilisation (sent in capacity adverts), the tenant's `maxCharge` held against
 * the call's worst case before any work, and a signed charge for every receipt appended to a
 * companion `charges` log. The receipt ledger is untouched (one receipt per block, as the
 * caller's `ledgerIndex` says); credits read both logs.
 */
import { ShadwError } from '../core/errors.ts'
import { InvokeService, type InvokeServiceOptions, type Ledger, type ServiceResult } from '../invoke/invoke-service.ts'
import type { RequestMessage } from '../invoke/protocol.ts'
import { encodeCharge, signCharge, type SignedCharge } from './charge.ts'
import { checkPricing, quote, type PriceQuote, type PricingConfig } from './price-curve.ts'
import { worstCase } from './spending-cap.ts'

/** Options of {@link PricedInvokeService}. */
export interface PricedServiceOptions extends InvokeServiceOptions {
  pricing: PricingConfig
  /** where charges go (a log of the node's own, replicated like the ledger) */
  charges: Ledger
}

/** A result with the price applied to it. */
export interface PricedResult extends ServiceResult {
  charge: SignedCharge
}

/**
 * @example
 * ```ts
 * const service = new PricedInvokeService({ executor, functions, keyPair, ledger, charges, pricing: DEFAULT_PRICING })
 * const endpoint = new InvokeEndpoint({ host: node, tier: 'super', service, quote: () => service.quote })
 * ```
 */
export class PricedInvokeService extends InvokeService {
  readonly pricing: PricingConfig
  readonly chargesKey: Uint8Array
  readonly #charges: Ledger
  readonly #functions: InvokeServiceOptions['functions']
  readonly #secretKey: Uint8Array
  /** charges signed (tests and the dashboard read it) */
  charged = 0
  /** charges waiting for the append in flight (group commit, as the receipt ledger does) */
  #queued: Array<{ block: Uint8Array, resolve (): void, reject (err: unknown): void }> = []
  #appending = false

  constructor (opts: PricedServiceOptions) {
    super(opts)
    this.pricing = checkPricing(opts.pricing)
    this.#charges = opts.charges
    this.chargesKey = opts.charges.key
    this.#functions = opts.functions
    this.#secretKey = opts.keyPair.secretKey
  }

  /** The price now: the curve at utilisation = calls running / slots. */
  get quote (): PriceQuote {
    return quote(this.pricing, this.slots - this.free, this.slots)
  }

  /**
   * Prices at admission (this call counted in the utilisation), refuses a call whose worst
   * case exceeds the tenant's `maxCharge` before anything runs, then runs it and signs its charge.
   *
   * @throws ShadwError `SPENDING_CAP_EXCEEDED`, and everything {@link InvokeService.handle} throws.
   */
  override async handle (req: RequestMessage, caller: string, signal: AbortSignal): Promise<PricedResult> {
    const price = quote(this.pricing, Math.min(this.slots, this.slots - this.free + 1), this.slots)
    if (req.maxCharge !== undefined) {
      const fn = await this.#functions.load(req.ref, { signal })
      const worst = worstCase(price, fn.manifest.limits, req.input.byteLength)
      if (worst > req.maxCharge) throw ShadwError.SPENDING_CAP_EXCEEDED(`this call may cost ${worst} µcredits here, over the tenant's cap of ${req.maxCharge}`, { cap: 'call', worst, limit: req.maxCharge, quote: price })
    }
    const res = await super.handle(req, caller, signal)
    const charge = signCharge(res.receipt, price, req.input.byteLength + res.output.byteLength, this.#secretKey)
    await this.#record(encodeCharge(charge))
    this.charged++
    return { ...res, charge }
  }

  /** Appends a charge; while one append runs the next ones queue and go in together. */
  #record (block: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queued.push({ block, resolve, reject })
      if (!this.#appending) void this.#flush()
    })
  }

  async #flush (): Promise<void> {
    this.#appending = true
    while (this.#queued.length > 0) {
      const batch = this.#queued
      this.#queued = []
      try {
        await this.#charges.append(batch.map(b => b.block))
        for (const b of batch) b.resolve()
      } catch (err) {
        for (const b of batch) b.reject(err)
      }
    }
    this.#appending = false
  }
}

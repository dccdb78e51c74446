import { ShadwError } from '../core/errors.ts'
import { describeValue } from '../core/describe.ts'
import type { NodeTier } from '../core/node/index.ts'
import type { HeldDrive, InvokeEndpoint } from '../core/invoke/index.ts'
import type { ModuleStore } from '../core/registry/index.ts'
import type { ContributionStatus } from './bridge-protocol.ts'
import type { BrowserNode } from './browser-node.ts'
import { ContributionMeter } from './contribution-meter.ts'
import { creditsFromLedgers, LEDGER_LOG_NAME } from '../core/ledger/index.ts'
import { parseExecuteSettings, startInvokeHost, type ExecuteSettings, type ExecutorWrapper, type InvokeHost } from './invoke-host.ts'
import { startSigningHost, type SigningHost } from './signing-host.ts'

/** The tiers a browser contributor picks from: verify and co-sign, or compute. */
export type ContributorTier = Extract<NodeTier, 'light' | 'shadow'>

/** Checks a tier a page asked for. @throws ShadwError `INVALID_ARGUMENT` */
export function parseContributorTier (value: unknown): ContributorTier {
  if (value === 'light' || value === 'shadow') return value
  throw ShadwError.INVALID_ARGUMENT(`a browser node is light or shadow, got ${describeValue(value)}`)
}

/**
 * The node worker's invocation and signing side, switchable while the node runs: the
 * contributor's opt-in, tier (light or shadow), budget change, pause and stop each replace
 * the endpoint (a service's slots and pool are fixed at creation) and, for a light node, the
 * signing service. Stopping closes the executor pool at once, so work in flight ends with
 * `EXECUTOR_CLOSED` and the tenant's router retries it on another peer, and waits until the
 * receipts already signed are in the ledger, which the next service then appends after.
 */
export class ContributionHost {
  readonly meter = new ContributionMeter()
  readonly #host: BrowserNode
  readonly #domain: string
  readonly #modules: ModuleStore | undefined
  readonly #wrapExecutor: ExecutorWrapper | undefined
  #current: InvokeHost | null = null
  /** the drives this node holds (its holder's pins): every executing endpoint advertises them */
  #holdings: (() => Iterable<HeldDrive>) | null = null
  #signing: SigningHost | null = null
  #settings: ExecuteSettings | undefined
  #tier: NodeTier
  /** serialises switches: a budget slider dragged fast must not run two pools at once */
  #switching: Promise<void> = Promise.resolve()

  /**
   * `modules`: the verified-module cache every role's loader reads first; `wrapExecutor`
   * wraps the executor of every executor role started here (tests inject faults through it).
   */
  constructor (host: BrowserNode, opts: { domain: string, execute?: ExecuteSettings, modules?: ModuleStore, wrapExecutor?: ExecutorWrapper }) {
    this.#host = host
    this.#domain = opts.domain
    this.#modules = opts.modules
    this.#wrapExecutor = opts.wrapExecutor
    this.#settings = opts.execute
    this.#tier = host.node.tier
  }

  /** Starts the endpoint with the settings given at construction. */
  async start (): Promise<void> {
    // what this node earned before: summed once from its own signed records, in the background
    this.#countEarlierCredits().catch(() => {})
    await this.#switch(this.#settings, this.#tier)
  }

  async #countEarlierCredits (): Promise<void> {
    const logs = this.#host.node.status().logs
    const ledger = logs.find(l => l.name === LEDGER_LOG_NAME && l.writable)
    if (ledger === undefined || ledger.length === 0) return
    // length taken before the service starts: receipts appended from then on are counted as they are signed
    const length = ledger.length
    const session = this.#host.node.session(ledger.key)
    try {
      await session.ready()
      const credits = await creditsFromLedgers([{ length, get: async (index: number) => await session.get(index) as Uint8Array | null }])
      this.meter.earnedBefore(credits.earned.get(this.#host.node.publicKey) ?? 0)
    } finally {
      await session.close()
    }
  }

  /** The endpoint serving once any switch in progress is done; replaced on every switch. */
  async endpoint (): Promise<InvokeEndpoint> {
    await this.#switching
    if (this.#current === null) throw ShadwError.NODE_CLOSED('the invocation endpoint is stopped')
    return this.#current.endpoint
  }

  /**
   * Contributes with `execute` from now on (undefined: stop), as `tier` (default: the tier
   * now). Shadow executes for tenants in `execute.workers` Web Workers; light executes nothing
   * for tenants, co-signs receipts and re-runs audits in a pool of its own. Validated here:
   * both come from a page.
   */
  async set (execute: unknown, tier?: unknown): Promise<void> {
    await this.#switch(parseExecuteSettings(execute), tier === undefined ? this.#tier : parseContributorTier(tier))
  }

  async #switch (settings: ExecuteSettings | undefined, tier: NodeTier): Promise<void> {
    const next = this.#switching.then(async () => {
      const old = this.#current
      const oldSigning = this.#signing
      this.#current = null
      this.#signing = null
      await old?.stop()
      await oldSigning?.stop()
      // sets the node's tier only once its topics are right: on a failure both keep the old one
      await this.#host.node.setTier(tier)
      this.#tier = tier
      const light = tier === 'light'
      // a light node's endpoint only calls; its contribution is the signing service
      const cache = this.#modules === undefined ? {} : { cache: this.#modules }
      this.#current = await startInvokeHost(this.#host, {
        domain: this.#domain,
        meter: this.meter,
        audit: !(light && settings !== undefined),
        ...cache,
        ...(this.#wrapExecutor === undefined ? {} : { wrapExecutor: this.#wrapExecutor }),
        ...(settings === undefined || light ? {} : { execute: settings })
      })
      if (this.#holdings !== null && this.#current.mounts !== null) this.#current.endpoint.setHoldings(this.#holdings)
      if (light && settings !== undefined) this.#signing = await startSigningHost(this.#host, { workers: settings.workers, ...cache })
      this.#settings = settings
    })
    this.#switching = next.catch(() => {})
    await next
  }

  /**
   * Advertises what `source` says this node holds of drives (a holder's pins) from every
   * executing endpoint, the current one and each one a later switch starts, so calls that
   * mount those drives are routed to this tab as to a Node holder.
   */
  setHoldings (source: () => Iterable<HeldDrive>): void {
    this.#holdings = source
    if (this.#current !== null && this.#current.mounts !== null) this.#current.endpoint.setHoldings(source)
  }

  status (since = 0): ContributionStatus {
    const endpoint = this.#current?.endpoint
    return {
      tier: this.#tier,
      workers: this.#settings?.workers ?? 0,
      signing: this.#signing?.signing.stats() ?? null,
      cores: navigator.hardwareConcurrency ?? 1,
      totals: { ...this.meter.totals },
      recent: this.meter.recent.filter(c => c.at > since),
      mounts: this.#current?.mounts?.() ?? null,
      executors: (endpoint?.peers() ?? []).map(p => ({
        key: p.key,
        tier: p.capacity?.tier ?? null,
        free: p.capacity?.free ?? 0,
        total: p.capacity?.total ?? 0,
        rtt: p.rtt,
        dissents: p.dissents
      }))
    }
  }

  async stop (): Promise<void> {
    await this.#switching
    await this.#current?.stop()
    await this.#signing?.stop()
    this.#current = null
    this.#signing = null
  }
}

import { ShadwError } from '../core/errors.ts'
import type { InvokeEndpoint } from '../invoke/index.ts'
import type { BrowserNode } from './browser-node.ts'
import { ContributionMeter, type ContributedCall, type ContributionTotals } from './contribution-meter.ts'
import { creditsFromLedgers } from '../pricing/index.ts'
import { LEDGER_LOG, parseExecuteSettings, startInvokeHost, type ExecuteSettings } from './invoke-host.ts'

/** What the dashboard reads: the contributor's setting, its totals and recent calls. */
export interface ContributionStatus {
  /** executor workers now running; 0: not executing (never opted in, paused or stopped) */
  workers: number
  /** cores the browser reports (the budget's scale) */
  cores: number
  totals: ContributionTotals
  /** calls finished after `since` (the dashboard asks for what it has not seen) */
  recent: ContributedCall[]
  /** executors this node knows on the swarm: key, tier, free/total slots, rtt, dissents */
  executors: Array<{ key: string, tier: string | null, free: number, total: number, rtt: number | null, dissents: number }>
}

/**
 * The node worker's invocation side, switchable while the node runs: the contributor's
 * opt-in, budget change, pause and stop each replace the endpoint (a service's slots and
 * pool are fixed at creation). Stopping closes the executor pool at once, so work in flight
 * ends with `EXECUTOR_CLOSED` and the tenant's router retries it on another peer.
 */
export class ContributionHost {
  readonly meter = new ContributionMeter()
  readonly #host: BrowserNode
  readonly #domain: string
  #current: { endpoint: InvokeEndpoint, stop (): Promise<void> } | null = null
  #settings: ExecuteSettings | undefined
  /** serialises switches: a budget slider dragged fast must not run two pools at once */
  #switching: Promise<void> = Promise.resolve()

  constructor (host: BrowserNode, opts: { domain: string, execute?: ExecuteSettings }) {
    this.#host = host
    this.#domain = opts.domain
    this.#settings = opts.execute
  }

  /** Starts the endpoint with the settings given at construction. */
  async start (): Promise<void> {
    // what this node earned before: summed once from its own signed records, in the background
    this.#countEarlierCredits().catch(() => {})
    await this.set(this.#settings)
  }

  async #countEarlierCredits (): Promise<void> {
    const logs = this.#host.node.status().logs
    const ledger = logs.find(l => l.name === LEDGER_LOG && l.writable)
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

  /** Executes with `execute` from now on (undefined: stop executing). Validated here: it comes from a page. */
  async set (execute: unknown): Promise<void> {
    const settings = parseExecuteSettings(execute)
    const next = this.#switching.then(async () => {
      const old = this.#current
      this.#current = null
      await old?.stop()
      this.#current = await startInvokeHost(this.#host, { domain: this.#domain, meter: this.meter, ...(settings === undefined ? {} : { execute: settings }) })
      this.#settings = settings
    })
    this.#switching = next.catch(() => {})
    await next
  }

  status (since = 0): ContributionStatus {
    const endpoint = this.#current?.endpoint
    return {
      workers: this.#settings?.workers ?? 0,
      cores: navigator.hardwareConcurrency ?? 1,
      totals: { ...this.meter.totals },
      recent: this.meter.recent.filter(c => c.at > since),
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
    this.#current = null
  }
}

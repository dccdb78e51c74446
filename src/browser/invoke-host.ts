/**
 * The node worker's invocation endpoint: always a caller (pages invoke through it), and an
 * executor for the swarm when the contributor opted in (`execute`): Web Workers nested in the
 * node worker run the functions, receipts are signed with the node's swarm key and appended
 * to its `ledger` log in OPFS.
 */
import b4a from 'b4a'
import { AccessGate } from '../core/access/index.ts'
import { AuditChannels } from '../core/attest/index.ts'
import { LEDGER_LOG_NAME, LedgerAnnouncer } from '../core/ledger/index.ts'
import { ShadwError } from '../core/errors.ts'
import { InvokeEndpoint, InvokeService } from '../core/invoke/index.ts'
import { DEFAULT_PRICING } from '../core/pricing/index.ts'
import { FunctionLoader, type ModuleStore } from '../core/registry/index.ts'
import type { ExecuteCall, ExecuteOptions, ExecuteResult, Executor } from '../core/sandbox/index.ts'
import type { BrowserNode } from './browser-node.ts'
import { createBrowserExecutor } from './executor/index.ts'
import type { ContributionMeter } from './contribution-meter.ts'

/** The log beside the node's others that its signed receipts go to (its name is defined in the ledger). */
export const LEDGER_LOG = LEDGER_LOG_NAME

/** Most executor workers a tab may run: the contributor's budget is a few cores, never all. */
export const MAX_TAB_WORKERS = 16

/** What the contributor opted into. */
export interface ExecuteSettings {
  /** executor Web Workers (the CPU budget) */
  workers: number
  /**
   * TEST ONLY: a deliberately faulty executor, so tests can show that a quorum outvotes a
   * lying tab ('lie' flips every output byte) and that a call held by a tab that closes is
   * retried elsewhere ('hold' never answers until cancelled). Never set by the app itself.
   */
  fault?: 'lie' | 'hold'
}

/** Validates execute settings from the init message. */
export function parseExecuteSettings (value: unknown): ExecuteSettings | undefined {
  if (value === undefined) return undefined
  const v = value as Partial<ExecuteSettings> | null
  if (typeof v !== 'object' || v === null || !Number.isInteger(v.workers) || (v.workers as number) < 1 || (v.workers as number) > MAX_TAB_WORKERS) {
    throw ShadwError.INVALID_ARGUMENT(`execute.workers must be 1-${MAX_TAB_WORKERS}`)
  }
  if (v.fault !== undefined && v.fault !== 'lie' && v.fault !== 'hold') throw ShadwError.INVALID_ARGUMENT('unknown execute.fault')
  return { workers: v.workers as number, ...(v.fault === undefined ? {} : { fault: v.fault }) }
}

/**
 * Starts the node worker's endpoint; with `execute`, also its executor service, whose ledger
 * is announced to light nodes. Calls invoked with `audit` go to light nodes unless
 * `audit: false` (a light node's own signing service holds the audit channel).
 */
export async function startInvokeHost (host: BrowserNode, opts: { execute?: ExecuteSettings, domain: string, cache?: ModuleStore, meter?: ContributionMeter, audit?: boolean }): Promise<{ endpoint: InvokeEndpoint, stop (): Promise<void> }> {
  const audits = opts.audit === false ? null : new AuditChannels({ host: host.node })
  audits?.start()
  if (opts.execute === undefined) {
    const endpoint = new InvokeEndpoint({ host: host.node, tier: host.node.tier, ...(audits === null ? {} : { audit: audits }) })
    endpoint.start()
    return { endpoint, stop: async () => { endpoint.stop(); audits?.stop() } }
  }
  const ledger = await host.node.createLog(LEDGER_LOG)
  const pool = createBrowserExecutor({ size: opts.execute.workers })
  const metered = opts.meter?.wrap(pool) ?? pool
  const executor = opts.execute.fault === undefined ? metered : new FaultyExecutor(metered, opts.execute.fault)
  const loader = new FunctionLoader({ host: host.node, ...(opts.cache === undefined ? {} : { cache: opts.cache }) })
  // priced like a super node: every receipt carries the price applied and its total
  const service = new InvokeService({
    executor,
    functions: loader,
    keyPair: host.keyPair,
    gate: new AccessGate({ domain: opts.domain }),
    ledger: {
      key: b4a.from(ledger.key, 'hex'),
      append: async (blocks) => {
        const length = await host.node.append(ledger.key, blocks)
        opts.meter?.receipted(blocks)
        return length
      }
    },
    pricing: DEFAULT_PRICING
  })
  const endpoint = new InvokeEndpoint({ host: host.node, tier: host.node.tier, service, quote: () => service.quote, ...(audits === null ? {} : { audit: audits }) })
  endpoint.start()
  // a registry that grew (a yank, a new version) is asked again on the next call
  const offAppend = host.node.on('append', ({ key }) => { service.invalidate(key) })
  // light nodes replicate this ledger and co-sign its receipts (docs/pricing.md, "The signing swarm")
  const announcer = new LedgerAnnouncer({ host: host.node, ledgers: () => [ledger.key] })
  announcer.start()
  // on the signing topic while this tab executes, so light nodes dial executors only, never every visitor
  let leaveSigning: () => Promise<void> = async () => {}
  const stop = async (): Promise<void> => {
    const drained = service.close()
    offAppend()
    endpoint.stop()
    announcer.stop()
    audits?.stop()
    const left = leaveSigning()
    await pool.close()
    await loader.close()
    await drained
    await left
  }
  try {
    leaveSigning = await host.node.joinSigning('executor')
  } catch (err) {
    await stop()
    throw err
  }
  return {
    endpoint,
    // resolves once the receipts of the calls in flight are in the ledger: the next service
    // (a contributor's switch) learns the ledger's length from its first append
    stop
  }
}

/** TEST ONLY (see {@link ExecuteSettings.fault}). */
class FaultyExecutor implements Executor {
  readonly #inner: Executor
  readonly #fault: 'lie' | 'hold'
  constructor (inner: Executor, fault: 'lie' | 'hold') { this.#inner = inner; this.#fault = fault }
  get size (): number { return this.#inner.size }
  async execute (call: ExecuteCall, options?: ExecuteOptions): Promise<ExecuteResult> {
    if (this.#fault === 'hold') {
      return await new Promise<never>((_resolve, reject) => {
        options?.signal?.addEventListener('abort', () => { reject(ShadwError.ABORTED('held call cancelled')) }, { once: true })
      })
    }
    const result = await this.#inner.execute(call, options)
    return { ...result, output: result.output.map(b => b ^ 0xff) }
  }

  async close (): Promise<void> { await this.#inner.close() }
}

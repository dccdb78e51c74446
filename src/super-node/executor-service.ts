/**
 * The super node's executor service: a worker_threads pool, a function loader on the node,
 * the node's ledger log, and an {@link InvokeEndpoint} that serves every connection.
 */
import { availableParallelism } from 'node:os'
import b4a from 'b4a'
import { AccessGate } from '../core/access/index.ts'
import { ShadwError } from '../core/errors.ts'
import type { ShadwNode } from '../core/node/index.ts'
import { InvokeEndpoint, InvokeService } from '../core/invoke/index.ts'
import { DEFAULT_PRICING, type PricingConfig } from '../core/pricing/index.ts'
import { FunctionLoader } from '../core/registry/index.ts'
import { encodeMiss, LEDGER_LOG_NAME, MISSES_LOG_NAME, signMiss } from '../core/ledger/index.ts'
import { ReputationTracker } from '../core/reputation/index.ts'
import { AuditChannels } from '../core/attest/index.ts'
import { MAX_POOL_SIZE, type Executor } from '../core/sandbox/index.ts'
import { createNodeExecutor } from './executor/index.ts'
import { logWriteError } from './storage-error.ts'

export { LEDGER_LOG_NAME, MISSES_LOG_NAME }

/** One core is left to the node itself (networking, hashing, replication). */
export function defaultWorkers (): number {
  return Math.max(1, availableParallelism() - 1)
}

/** Options of {@link startExecutorService}. */
export interface ExecutorServiceOptions {
  /** worker threads (default: CPU count − 1) */
  workers?: number
  /** the app's domain that tenants' SIWE auth must name */
  domain: string
  /** default: a Node worker pool of `workers` threads */
  executor?: Executor
  /** the bonding curve (default {@link DEFAULT_PRICING}); `false`: no quotes, receipts at price 0 */
  pricing?: PricingConfig | false
  /**
   * how long a loaded function is reused without asking its registry again, ms (default
   * FUNCTION_CACHE_TTL_MS); a registry that grows (a yank, a new version) drops its functions at once
   */
  functionCacheMs?: number
}

/**
 * A running executor service; `stop()` is safe to call twice, and resolves once every
 * receipt it signed is in the ledger, so the node may be stopped right after.
 */
export interface ExecutorService {
  readonly endpoint: InvokeEndpoint
  readonly service: InvokeService
  readonly ledgerKey: string
  /** the log of miss records this node signed as a caller, hex */
  readonly missesKey: string
  stop (): Promise<void>
}

/** Starts executing for the swarm on `node`, signing receipts with its swarm key pair. */
export async function startExecutorService (node: ShadwNode, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }, opts: ExecutorServiceOptions): Promise<ExecutorService> {
  const workers = opts.workers ?? defaultWorkers()
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_POOL_SIZE) throw ShadwError.INVALID_ARGUMENT(`workers must be 1-${MAX_POOL_SIZE}`)
  const ledger = await node.createLog(LEDGER_LOG_NAME)
  const misses = await node.createLog(MISSES_LOG_NAME)
  // small calls run on the node's thread while the workers are idle: a trivial call then
  // costs no thread hops (src/sandbox/inline-runner.ts)
  const executor = opts.executor ?? createNodeExecutor({ size: workers, inline: true })
  const loader = new FunctionLoader({ host: node })
  const base = {
    executor,
    functions: loader,
    keyPair,
    gate: new AccessGate({ domain: opts.domain }),
    ...(opts.functionCacheMs === undefined ? {} : { functionCacheMs: opts.functionCacheMs }),
    ledger: {
      key: b4a.from(ledger.key, 'hex'),
      // a full disk is STORAGE_FULL in the service's refusals and the operator's log, not an errno
      append: async (blocks: Uint8Array[]) => await node.append(ledger.key, blocks).catch((err: unknown) => { throw logWriteError(`ledger ${ledger.key}`, err) })
    }
  }
  const pricing = opts.pricing ?? DEFAULT_PRICING
  const service = new InvokeService(pricing === false ? base : { ...base, pricing })
  // miss records being written: stop waits for them, as for the ledger's
  const missWrites = new Set<Promise<unknown>>()
  const endpoint = new InvokeEndpoint({
    host: node,
    tier: node.tier,
    service,
    quote: () => service.quote,
    // an executor that took one of our calls and never answered: signed into our misses log,
    // which we announce and peers replicate, so their reputation counts it too (weighed low,
    // capped per caller)
    onmiss: (miss) => {
      const write = node.append(misses.key, [encodeMiss(signMiss({ ...miss, time: Date.now() }, keyPair))]).catch(() => {})
      missWrites.add(write)
      void write.finally(() => { missWrites.delete(write) })
    }
  })
  endpoint.start()
  // a registry that grew (a yank, a new version) is asked again on the next call
  const offAppend = node.on('append', ({ key }) => { service.invalidate(key) })
  // light nodes learn this ledger from the announcement and co-sign its receipts; the tracker
  // follows the ledgers, miss and attestation logs others announce and feeds reputation to the router
  const tracker = new ReputationTracker({ host: node, announce: () => [ledger.key, misses.key] })
  tracker.start()
  endpoint.setReputation(key => tracker.score(key))
  // calls invoked here with `audit` (the gateway's `shadw-audit`) reveal their input to light nodes
  const audits = new AuditChannels({ host: node })
  audits.start()
  endpoint.setAudit(audits)
  // light nodes look executors up on the signing topic: on it while this service runs, not for the node's tier
  let leaveSigning: () => Promise<void> = async () => {}
  let stopping: Promise<void> | null = null
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // refuses new calls at once; resolves once the receipts of the calls in flight are in
      // the ledger, which the node's stop closes next (tenants hold those receipts and indexes)
      const drained = service.close()
      offAppend()
      endpoint.stop()
      tracker.stop()
      audits.stop()
      const left = leaveSigning()
      // ends the executions in flight, so the drain does not wait for them to run out
      await executor.close()
      await loader.close()
      await drained
      await Promise.all(missWrites)
      await left
    })()
    return stopping
  }
  try {
    leaveSigning = await node.joinSigning('executor')
  } catch (err) {
    await stop()
    throw err
  }
  return {
    endpoint,
    service,
    ledgerKey: ledger.key,
    missesKey: misses.key,
    stop
  }
}

/**
 * The super node's executor service: the executor role (src/core/roles) over a worker_threads
 * pool, with the super node's reading of storage failures.
 */
import { availableParallelism } from 'node:os'
import { ShadwError } from '../core/errors.ts'
import type { CallKeys } from '../core/invoke/index.ts'
import type { ShadwNode } from '../core/node/index.ts'
import type { PricingConfig } from '../core/pricing/index.ts'
import { startExecutorRole, type ExecutorRole } from '../core/roles/index.ts'
import { MAX_POOL_SIZE, type Executor } from '../core/sandbox/index.ts'
import { createNodeExecutor } from './executor/index.ts'
import { logWriteError } from './storage-error.ts'
import type { MemoryBudget } from './memory-budget.ts'

export { LEDGER_LOG_NAME, MISSES_LOG_NAME } from '../core/ledger/index.ts'

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
  /** JSON-RPC endpoints per chain for access conditions (`shadw start --rpc`) */
  rpc?: Record<string, string[]>
  /** default: a Node worker pool of `workers` threads */
  executor?: Executor
  /** the bonding curve (default DEFAULT_PRICING); `false`: no quotes, receipts at price 0 */
  pricing?: PricingConfig | false
  /**
   * how long a loaded function is reused without asking its registry again, ms (default
   * FUNCTION_CACHE_TTL_MS); a registry that grows (a yank, a new version) drops its functions at once
   */
  functionCacheMs?: number
  /** the node's memory budget (its HTTP bodies' and relay queues'), which peers' queued requests count against too */
  budget?: MemoryBudget
  /** fetches the gated keys calls need (function secrets, gated drive mounts) */
  keys?: CallKeys
}

/**
 * A running executor service; `stop()` is safe to call twice, and resolves once every
 * receipt it signed is in the ledger, so the node may be stopped right after.
 */
export type ExecutorService = ExecutorRole

/** Starts executing for the swarm on `node`, signing receipts with its swarm key pair. */
export async function startExecutorService (node: ShadwNode, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }, opts: ExecutorServiceOptions): Promise<ExecutorService> {
  const workers = opts.workers ?? defaultWorkers()
  if (!Number.isInteger(workers) || workers < 1 || workers > MAX_POOL_SIZE) throw ShadwError.INVALID_ARGUMENT(`workers must be 1-${MAX_POOL_SIZE}`)
  return await startExecutorRole(node, {
    // small calls run on the node's thread while the workers are idle: a trivial call then
    // costs no thread hops (src/core/sandbox/inline-runner.ts)
    executor: opts.executor ?? createNodeExecutor({ size: workers, inline: true, warmUp: true }),
    keyPair,
    domain: opts.domain,
    ...(opts.rpc === undefined ? {} : { rpc: opts.rpc }),
    // a full disk is STORAGE_FULL in the service's refusals and the operator's log, not an errno
    writeError: logWriteError,
    ...(opts.pricing === undefined ? {} : { pricing: opts.pricing }),
    ...(opts.functionCacheMs === undefined ? {} : { functionCacheMs: opts.functionCacheMs }),
    ...(opts.budget === undefined ? {} : { budget: opts.budget }),
    ...(opts.keys === undefined ? {} : { keys: opts.keys })
  })
}

/**
 * The node worker's invocation endpoint: always a caller (pages invoke through it), and an
 * executor for the swarm when the contributor opted in (`execute`): the executor role
 * (src/core/roles) over Web Workers nested in the node worker, its logs in OPFS.
 */
import { ShadwError } from '../core/errors.ts'
import type { InvokeEndpoint } from '../core/invoke/index.ts'
import type { ModuleStore } from '../core/registry/index.ts'
import { LEDGER_LOG_NAME } from '../core/ledger/index.ts'
import { startCallerRole, startExecutorRole } from '../core/roles/index.ts'
import type { Executor } from '../core/sandbox/index.ts'
import type { BrowserNode } from './browser-node.ts'
import { createBrowserExecutor } from './executor/index.ts'
import type { ContributionMeter } from './contribution-meter.ts'
import { logWriteError } from './storage-errors.ts'

/** The log beside the node's others that its signed receipts go to (its name is defined in the ledger). */
export const LEDGER_LOG = LEDGER_LOG_NAME

/** Most executor workers a tab may run: the contributor's budget is a few cores, never all. */
export const MAX_TAB_WORKERS = 16

/** What the contributor opted into. */
export interface ExecuteSettings {
  /** executor Web Workers (the CPU budget) */
  workers: number
}

/** Wraps the executor a role is given (tests inject faults through it; the app passes none). */
export type ExecutorWrapper = (executor: Executor) => Executor

/** Validates execute settings from the init message. */
export function parseExecuteSettings (value: unknown): ExecuteSettings | undefined {
  if (value === undefined) return undefined
  const v = value as Partial<ExecuteSettings> | null
  if (typeof v !== 'object' || v === null || !Number.isInteger(v.workers) || (v.workers as number) < 1 || (v.workers as number) > MAX_TAB_WORKERS) {
    throw ShadwError.INVALID_ARGUMENT(`execute.workers must be 1-${MAX_TAB_WORKERS}`)
  }
  return { workers: v.workers as number }
}

/** Options of {@link startInvokeHost}. */
export interface InvokeHostOptions {
  /** execute for the swarm with this budget; absent: call only */
  execute?: ExecuteSettings
  /** the app's domain that tenants' SIWE auth must name */
  domain: string
  /** the verified-module cache the loader reads first (the bridge's own, in OPFS) */
  cache?: ModuleStore
  meter?: ContributionMeter
  /** a caller's audit channel; `false`: none (a light node's own signing service holds it). An executor always has one */
  audit?: boolean
  wrapExecutor?: ExecutorWrapper
}

/** What the contributor's dashboard and tests read of how calls' drive mounts were read. */
export interface MountReads {
  /** whether the executor's workers read mounted files on demand (a cross-origin isolated page) or whole before each call */
  sharedMemory: boolean
  /** bytes of drive blocks fetched from peers for calls' mounts so far */
  bytesFetched: number
}

/** A started endpoint; `mounts` is null unless it executes. */
export interface InvokeHost {
  endpoint: InvokeEndpoint
  stop (): Promise<void>
  mounts: (() => MountReads) | null
}

/**
 * Starts the node worker's endpoint; with `execute`, the executor role, whose ledger is
 * announced to light nodes. Calls invoked with `audit` go to light nodes unless
 * `audit: false` (a light node's own signing service holds the audit channel).
 */
export async function startInvokeHost (host: BrowserNode, opts: InvokeHostOptions): Promise<InvokeHost> {
  if (opts.execute === undefined) {
    const caller = startCallerRole(host.node, { audit: opts.audit !== false })
    return { endpoint: caller.endpoint, stop: async () => { caller.stop() }, mounts: null }
  }
  const pool = createBrowserExecutor({ size: opts.execute.workers })
  const metered = opts.meter?.wrap(pool) ?? pool
  const meter = opts.meter
  const role = await startExecutorRole(host.node, {
    executor: opts.wrapExecutor?.(metered) ?? metered,
    keyPair: host.keyPair,
    domain: opts.domain,
    writeError: logWriteError,
    ...(opts.cache === undefined ? {} : { cache: opts.cache }),
    ...(meter === undefined ? {} : { onreceipts: (blocks: Uint8Array[]) => { meter.receipted(blocks) } })
  })
  // stop resolves once the receipts of the calls in flight are in the ledger: the next role
  // (a contributor's switch) learns the ledger's length from its first append
  const mounts = role.service.mounts
  return {
    endpoint: role.endpoint,
    stop: role.stop,
    mounts: mounts === null ? null : () => ({ sharedMemory: pool.sharedMemory, bytesFetched: mounts.bytesFetched })
  }
}

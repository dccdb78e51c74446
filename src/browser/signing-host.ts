/**
 * The node worker's light tier: the signing role (src/core/roles) on the browser node, its
 * `attestations` log in OPFS beside the node's other logs, and a small Web Worker pool of its
 * own to re-run the calls tenants send for audit.
 */
import type { ModuleStore } from '../core/registry/index.ts'
import { startSigningRole, type SigningRole } from '../core/roles/index.ts'
import type { BrowserNode } from './browser-node.ts'
import { createBrowserExecutor } from './executor/index.ts'

/**
 * Re-execution workers at most, whatever the budget: audits are a sample of calls, and the
 * contributor chose to verify rather than compute.
 */
export const MAX_REEXEC_WORKERS = 2

/** A running signing service; `stop()` is safe to call twice. */
export type SigningHost = SigningRole

/** Starts co-signing on the browser node, re-running audits in up to `workers` Web Workers. */
export async function startSigningHost (host: BrowserNode, opts: { workers: number, cache?: ModuleStore }): Promise<SigningHost> {
  const executor = createBrowserExecutor({ size: Math.max(1, Math.min(MAX_REEXEC_WORKERS, opts.workers)) })
  return await startSigningRole(host.node, { executor, keyPair: host.keyPair, ...(opts.cache === undefined ? {} : { cache: opts.cache }) })
}

/**
 * The node worker's light tier: the signing service on the browser node, its `attestations`
 * log in OPFS beside the node's other logs, and a small Web Worker pool of its own to re-run
 * the calls tenants send for audit. That pool never serves tenants: a light node verifies,
 * it does not compute for the swarm.
 */
import { LightSigningService } from '../core/attest/index.ts'
import { FunctionLoader, type ModuleStore } from '../core/registry/index.ts'
import type { BrowserNode } from './browser-node.ts'
import { createBrowserExecutor } from './executor/index.ts'

/**
 * Re-execution workers at most, whatever the budget: audits are a sample of calls, and the
 * contributor chose to verify rather than compute.
 */
export const MAX_REEXEC_WORKERS = 2

/** A running signing service; `stop()` is safe to call twice. */
export interface SigningHost {
  readonly signing: LightSigningService
  stop (): Promise<void>
}

/** Starts co-signing on the browser node, re-running audits in up to `workers` Web Workers. */
export async function startSigningHost (host: BrowserNode, opts: { workers: number, cache?: ModuleStore }): Promise<SigningHost> {
  const executor = createBrowserExecutor({ size: Math.max(1, Math.min(MAX_REEXEC_WORKERS, opts.workers)) })
  const functions = new FunctionLoader({ host: host.node, ...(opts.cache === undefined ? {} : { cache: opts.cache }) })
  const signing = new LightSigningService({ host: host.node, keyPair: host.keyPair, reexec: { executor, functions } })
  // on the signing topic as server and client only while co-signing: a paused light tab is off it
  let leaveSigning: () => Promise<void> = async () => {}
  let stopping: Promise<void> | null = null
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      signing.stop()
      await leaveSigning()
      await executor.close()
      await functions.close()
    })()
    return stopping
  }
  try {
    await signing.start()
    leaveSigning = await host.node.joinSigning('light')
  } catch (err) {
    await stop()
    throw err
  }
  return { signing, stop }
}

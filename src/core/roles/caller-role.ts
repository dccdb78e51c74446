/**
 * The caller role, for a node that calls but does not execute (a super node started with
 * `--workers 0` or as a light node, a tab that has not opted in): an {@link InvokeEndpoint}
 * without a service, so its `/fn/*` gateway or its pages' invocations go to executors elsewhere
 * in the swarm, and audit channels that send audited calls' inputs to light nodes.
 */
import { AuditChannels } from '../attest/index.ts'
import { InvokeEndpoint } from '../invoke/index.ts'
import type { ShadwNode } from '../node/index.ts'

/** A running caller role; `stop()` is safe to call twice. */
export interface CallerRole {
  readonly endpoint: InvokeEndpoint
  stop (): void
}

/**
 * Starts calling on `node`. With `audit: false` it opens no audit channels: a light node's own
 * signing service holds that protocol on every connection.
 *
 * @example
 * ```ts
 * const caller = startCallerRole(node, { audit: true })
 * const { output } = await caller.endpoint.invoke(`${publisher}/upper@^1`, input)
 * caller.stop()
 * ```
 */
export function startCallerRole (node: ShadwNode, opts: { audit: boolean }): CallerRole {
  const audits = opts.audit ? new AuditChannels({ host: node }) : null
  audits?.start()
  const endpoint = new InvokeEndpoint({ host: node, tier: node.tier, drives: node, ...(audits === null ? {} : { audit: audits }) })
  endpoint.start()
  return { endpoint, stop: () => { endpoint.stop(); audits?.stop() } }
}

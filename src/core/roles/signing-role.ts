/**
 * The light-signing role, assembled once for every host: the {@link LightSigningService} on
 * the node, its `attestations` log beside the node's other logs, and a sandbox of its own to
 * re-run the calls tenants send for audit. That sandbox never serves tenants: a light node
 * verifies, it does not compute for the swarm. A host passes only what differs: its
 * {@link Executor} (a small one: audits are a sample of calls) and its module cache.
 */
import { LightSigningService } from '../attest/index.ts'
import type { ShadwNode } from '../node/index.ts'
import { FunctionLoader, type ModuleStore } from '../registry/index.ts'
import type { Executor } from '../sandbox/index.ts'

/** Options of {@link startSigningRole}. */
export interface SigningRoleOptions {
  /** the sandbox audited calls are re-run in; the role closes it when it stops */
  executor: Executor
  /** the node's swarm key pair: attestations are signed with it */
  keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }
  /** verified module bytes kept across loads and restarts (OPFS in the browser) */
  cache?: ModuleStore
}

/** A running signing role; `stop()` is safe to call twice. */
export interface SigningRole {
  readonly signing: LightSigningService
  stop (): Promise<void>
}

/**
 * Starts co-signing on `node`. On failure everything started is stopped again, the executor
 * closed included, and the error is rethrown.
 *
 * @example
 * ```ts
 * const role = await startSigningRole(node, { executor: createNodeExecutor({ size: 1 }), keyPair })
 * role.signing.stats().attestations
 * await role.stop()
 * ```
 */
export async function startSigningRole (node: ShadwNode, opts: SigningRoleOptions): Promise<SigningRole> {
  const { executor } = opts
  const functions = new FunctionLoader({ host: node, ...(opts.cache === undefined ? {} : { cache: opts.cache }) })
  const signing = new LightSigningService({ host: node, keyPair: opts.keyPair, reexec: { executor, functions } })
  // on the signing topic as server and client only while co-signing, whatever the tier says:
  // a paused light tab is off it
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
    leaveSigning = await node.joinSigning('light')
  } catch (err) {
    await stop()
    throw err
  }
  return { signing, stop }
}

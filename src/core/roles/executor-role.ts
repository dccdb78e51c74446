/**
 * The executor role, assembled once for every host: an {@link InvokeService} over the host's
 * sandbox, a function loader on the node, receipts in the node's `ledger` log, miss records
 * in its `misses` log, an {@link InvokeEndpoint} that serves every connection and routes this
 * node's own calls by the reputation it reads from the swarm, audits sent to light nodes, and
 * a place on the signing topic so light nodes find it. A host passes only what differs: its
 * {@link Executor}, how its storage failures read, its module cache.
 */
import b4a from 'b4a'
import { AccessGate, ChainGate, ChainReader, type LitGate, type RpcEndpoints } from '../access/index.ts'
import { AuditChannels } from '../attest/index.ts'
import { InvokeEndpoint, InvokeService, type ByteBudget, type CallKeys } from '../invoke/index.ts'
import { encodeMiss, LEDGER_LOG_NAME, MISSES_LOG_NAME, signMiss } from '../ledger/index.ts'
import type { LogInfo, ShadwNode } from '../node/index.ts'
import { DEFAULT_PRICING, type PricingConfig } from '../pricing/index.ts'
import { FunctionLoader, type ModuleStore } from '../registry/index.ts'
import { ReputationTracker } from '../reputation/index.ts'
import type { Executor } from '../sandbox/index.ts'

/** Maps a failed write to one of the node's logs (`what` names the log) to the error to report. */
export type LogWriteError = (what: string, err: unknown) => unknown

/** Options of {@link startExecutorRole}. */
export interface ExecutorRoleOptions {
  /** the host's sandbox (its CPU budget); the role closes it when it stops */
  executor: Executor
  /** the node's swarm key pair: receipts and miss records are signed with it */
  keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }
  /** the app's domain that tenants' SIWE auth must name */
  domain: string
  /** JSON-RPC endpoints per chain (Lit chain names) this node reads conditions' chain state from */
  rpc?: RpcEndpoints
  /** the optional Lit adapter, for nodes without `rpc` that opt in to a Lit network */
  lit?: LitGate
  /** the bonding curve (default {@link DEFAULT_PRICING}); `false`: no quotes, receipts at price 0 */
  pricing?: PricingConfig | false
  /**
   * how long a loaded function is reused without asking its registry again, ms (default
   * FUNCTION_CACHE_TTL_MS); a registry that grows (a yank, a new version) drops its functions at once
   */
  functionCacheMs?: number
  /** verified module bytes kept across loads and restarts (OPFS in the browser) */
  cache?: ModuleStore
  /** the host's reading of a failed ledger append (a full disk is STORAGE_FULL, not an errno); default: as thrown */
  writeError?: LogWriteError
  /** told of the receipts once they are in the ledger (the browser's contribution meter) */
  onreceipts?: (blocks: Uint8Array[]) => void
  /** the host's memory budget peers' queued requests count against (a super node's); none: bounded per peer only */
  budget?: ByteBudget
  /** fetches the gated keys calls need from their holders (core/keys `callKeys`); none: calls needing keys are refused */
  keys?: CallKeys
}

/**
 * A running executor role; `stop()` is safe to call twice, and resolves once every receipt it
 * signed is in the ledger, so the node may be stopped right after.
 */
export interface ExecutorRole {
  /** serves calls, and makes this node's own (the `/fn/*` gateway, a page's invoke) */
  readonly endpoint: InvokeEndpoint
  readonly service: InvokeService
  /** the ledger log's key, hex */
  readonly ledgerKey: string
  /** the log of miss records this node signed as a caller, hex */
  readonly missesKey: string
  /** the reputation its endpoint routes by, recomputed from the logs peers announce */
  readonly reputation: ReputationTracker
  stop (): Promise<void>
}

/**
 * Starts executing for the swarm on `node`. On failure everything started is stopped again,
 * the executor closed included, and the error is rethrown.
 *
 * @example
 * ```ts
 * const role = await startExecutorRole(node, { executor: createNodeExecutor({ size: 3 }), keyPair, domain: 'example.org' })
 * const { output } = await role.endpoint.invoke(`${publisher}/upper@^1`, input)
 * await role.stop()
 * ```
 */
export async function startExecutorRole (node: ShadwNode, opts: ExecutorRoleOptions): Promise<ExecutorRole> {
  const { executor, keyPair } = opts
  let ledger: LogInfo
  let misses: LogInfo
  try {
    // at once: a new log waits for its announce to reach the DHT
    ;[ledger, misses] = await Promise.all([node.createLog(LEDGER_LOG_NAME), node.createLog(MISSES_LOG_NAME)])
  } catch (err) {
    await executor.close()
    throw err
  }
  const loader = new FunctionLoader({ host: node, ...(opts.cache === undefined ? {} : { cache: opts.cache }) })
  const pricing = opts.pricing ?? DEFAULT_PRICING
  const service = new InvokeService({
    executor,
    functions: loader,
    keyPair,
    gate: new AccessGate({
      domain: opts.domain,
      ...(opts.rpc === undefined || Object.keys(opts.rpc).length === 0 ? {} : { chain: new ChainGate({ reader: new ChainReader({ endpoints: opts.rpc }) }) }),
      ...(opts.lit === undefined ? {} : { lit: opts.lit })
    }),
    ...(opts.functionCacheMs === undefined ? {} : { functionCacheMs: opts.functionCacheMs }),
    ledger: {
      key: b4a.from(ledger.key, 'hex'),
      append: async (blocks: Uint8Array[]) => {
        const length = await node.append(ledger.key, blocks).catch((err: unknown) => { throw opts.writeError?.(`ledger ${ledger.key}`, err) ?? err })
        opts.onreceipts?.(blocks)
        return length
      }
    },
    ...(pricing === false ? {} : { pricing }),
    // drives mounted into calls are read from the swarm through this node
    drives: node,
    ...(opts.keys === undefined ? {} : { keys: opts.keys })
  })
  // calls invoked here with `audit` (the gateway's `shadw-audit`, a page's invoke) reveal their input to light nodes
  const audits = new AuditChannels({ host: node })
  audits.start()
  // miss records being written: stop waits for them, as for the ledger's
  const missWrites = new Set<Promise<unknown>>()
  const endpoint = new InvokeEndpoint({
    host: node,
    tier: node.tier,
    service,
    audit: audits,
    quote: () => service.quote,
    ...(opts.budget === undefined ? {} : { budget: opts.budget }),
    // its own calls (the gateway's, a page's) pin their function's "latest" mounts, checked here
    drives: node,
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
  const offAppend = node.on('append', ({ key, length }) => { service.invalidate(key, length) })
  // light nodes learn this ledger from the announcement and co-sign its receipts; the tracker
  // follows the ledgers, miss and attestation logs others announce and feeds reputation to the router
  const reputation = new ReputationTracker({ host: node, announce: () => [ledger.key, misses.key] })
  reputation.start()
  endpoint.setReputation(key => reputation.score(key))
  // light nodes look executors up on the signing topic: on it while this role runs, not for the node's tier
  let leaveSigning: () => Promise<void> = async () => {}
  let stopping: Promise<void> | null = null
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // refuses new calls at once; resolves once the receipts of the calls in flight are in
      // the ledger, which the node's stop closes next (tenants hold those receipts and indexes)
      const drained = service.close()
      offAppend()
      endpoint.stop()
      reputation.stop()
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
  return { endpoint, service, ledgerKey: ledger.key, missesKey: misses.key, reputation, stop }
}

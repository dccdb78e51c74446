/**
 * A node's invocation endpoint: an {@link InvokeChannel} on every connection of its
 * {@link ShadwNode} ({@link PeerTable}: capacity adverts and latency probes both ways), the
 * executor side when the node has an {@link InvokeService} ({@link InvokeServer}) and the
 * caller side ({@link InvokeCaller}), composed here.
 */
import { ShadwError } from '../errors.ts'
import type { NodeTier } from '../node/index.ts'
import type { PriceQuote } from '../pricing/index.ts'
import type { InvokeOptions, InvokeResult } from './invoke-call.ts'
import type { AuditSink } from './call-audits.ts'
import { InvokeCaller, type MissedCall } from './invoke-caller.ts'
import { InvokeServer, type ByteBudget } from './invoke-server.ts'
import type { InvokeService } from './invoke-service.ts'
import { PeerTable, type CallMessage, type InvokeHost, type Peer } from './peer-table.ts'
import type { PeerState } from './router.ts'
import type { HeldDrive } from './holdings.ts'
import type { DriveHost, PinnedMount } from '../drive/index.ts'

/**
 * How often an executor re-reads what it holds and, when it changed, advertises again, ms: a
 * new pin is worth routing to within seconds; reading a holder's pins costs a walk of a map.
 */
export const HOLDINGS_REFRESH_MS = 2_000

/** Options of {@link InvokeEndpoint}. */
export interface InvokeEndpointOptions {
  host: InvokeHost
  tier: NodeTier
  /** present when this node executes for others */
  service?: InvokeService
  now?: () => number
  /** this node's price now, sent in capacity adverts (a pricing service's `quote`) */
  quote?: () => PriceQuote | null
  /** how far a peer is trusted, (0, 1], from ledgers (src/reputation); default 1 for all */
  reputation?: (key: string) => number
  /** where calls invoked with `audit` send their receipts and input */
  audit?: AuditSink
  random?: () => number
  /**
   * called when an executor took one of this node's calls and never answered (silent past
   * the attempt's deadline, or its connection closed mid-call), so the node can sign a miss
   * record into its misses log (src/reputation/miss.ts)
   */
  onmiss?: (miss: MissedCall) => void
  /** the drives this node holds locally and the bytes of each (a holder's pins), advertised to callers */
  holdings?: () => Iterable<HeldDrive>
  /** the host's memory budget that peers' requests held here count against (a super node's); none: bounded per peer only */
  budget?: ByteBudget
  /**
   * where this node opens drives' logs: present, its calls pin their function's "latest"
   * mounts before they go out, checked against the drives' signed logs (manifest-pins.ts)
   */
  drives?: DriveHost
}

/**
 * @example
 * ```ts
 * const endpoint = new InvokeEndpoint({ host: node, tier: 'light' })
 * endpoint.start()
 * await endpoint.waitForExecutors(1, { timeoutMs: 10_000 })
 * const { output, receipts } = await endpoint.invoke(`${publisher}/upper@^1`, input, { redundancy: 3 })
 * ```
 */
export class InvokeEndpoint {
  readonly tier: NodeTier
  readonly #service: InvokeService | undefined
  readonly #peers: PeerTable
  readonly #server: InvokeServer
  readonly #caller: InvokeCaller
  #started = false
  #stopped = false
  /** unsubscribes from the service's stop (closed, or its ledger failed) */
  #offServiceStop: (() => void) | null = null
  #holdingsTimer: ReturnType<typeof setInterval> | null = null
  #hasHoldings = false

  constructor (opts: InvokeEndpointOptions) {
    this.tier = opts.tier
    this.#service = opts.service
    const now = opts.now ?? Date.now
    this.#server = new InvokeServer({ tier: opts.tier, service: opts.service, quote: opts.quote, broadcast: () => { this.#peers.advertise() }, ...(opts.budget === undefined ? {} : { budget: opts.budget }) })
    this.#peers = new PeerTable({
      host: opts.host,
      now,
      capacity: (id) => this.#server.capacity(id),
      onmessage: (peer, msg) => { this.#onmessage(peer, msg) },
      onclose: (peer) => { this.#onclose(peer) },
      reputation: opts.reputation
    })
    this.#caller = new InvokeCaller({
      peers: this.#peers,
      own: this.#server.own,
      now,
      random: opts.random ?? Math.random,
      // batch roots verified here, shared with this node's service, which adds its own
      verifiedRoots: opts.service?.verifiedRoots,
      audit: opts.audit,
      onmiss: opts.onmiss,
      ...(opts.drives === undefined ? {} : { drives: opts.drives })
    })
    if (opts.holdings !== undefined) this.setHoldings(opts.holdings)
  }

  /** Opens the channel on every current and future connection. Safe to call twice. */
  start (): void {
    if (this.#started || this.#stopped) return
    this.#started = true
    // a service that stops taking calls says so at once: free 0, total 0 to every peer
    this.#offServiceStop = this.#service?.onstop(() => { this.#server.advertise(true) }) ?? null
    this.#peers.start()
    this.#watchHoldings()
  }

  /**
   * Advertises what `source` says this node holds (re-read every {@link HOLDINGS_REFRESH_MS};
   * peers hear of a change at once): callers' routers prefer this node for calls over those
   * drives. Only an executing node's holdings are sent.
   */
  setHoldings (source: () => Iterable<HeldDrive>): void {
    this.#hasHoldings = true
    this.#server.setHoldings(source)
    this.#watchHoldings()
  }

  #watchHoldings (): void {
    if (!this.#started || this.#stopped || !this.#hasHoldings || this.#holdingsTimer !== null) return
    this.#holdingsTimer = setInterval(() => { this.#server.refreshHoldings() }, HOLDINGS_REFRESH_MS)
    // a process with nothing else to do must not be kept alive by it
    ;(this.#holdingsTimer as { unref?: () => void }).unref?.()
  }

  /** Closes every channel; pending calls fail with `NODE_CLOSED`. Safe to call twice. */
  stop (): void {
    if (this.#stopped) return
    this.#stopped = true
    this.#offServiceStop?.()
    if (this.#holdingsTimer !== null) clearInterval(this.#holdingsTimer)
    this.#caller.stop()
    this.#peers.stop()
  }

  /** What the router knows about each connected peer. */
  peers (): PeerState[] {
    return this.#peers.states()
  }

  /** Waits (bounded) until at least `n` executors have advertised capacity; resolves to their number. */
  async waitForExecutors (n: number, opts: { timeoutMs: number, signal?: AbortSignal }): Promise<number> {
    return await this.#peers.waitForExecutors(n, opts)
  }

  /**
   * Invokes a function on the swarm. See {@link runCall} for the errors.
   *
   * @throws ShadwError `NODE_CLOSED` after {@link stop}, and the codes of {@link runCall}.
   */
  async invoke (ref: string, input: Uint8Array, opts: InvokeOptions = {}): Promise<InvokeResult> {
    if (this.#stopped) throw ShadwError.NODE_CLOSED()
    return await this.#caller.invoke(ref, input, opts)
  }

  /**
   * The mounts a call of `ref` would send, for a caller that adds to them before calling
   * with `pinManifest: false` (the CLI adds its key store's keys): the function's "latest"
   * mounts, asked of executors and checked against the drives' signed logs within
   * `budgetMs`, then `requested`. Without `drives`, `requested` as it is.
   * @throws `MOUNT_INVALID` (too many mounts together)
   */
  async pinMounts (ref: string, requested: PinnedMount[] | undefined, opts: { budgetMs: number, signal?: AbortSignal }): Promise<PinnedMount[] | undefined> {
    return await this.#caller.pinMounts(ref, requested, opts.budgetMs, opts.signal)
  }

  /**
   * {@link pinMounts}, and with `blocks` (a redundant call that pins no block itself) one block
   * per chain of the function's conditions for all its executors, from the same answers
   * (manifest-pins.ts), for a caller that calls with `pinManifest: false`.
   * @throws `MOUNT_INVALID` (too many mounts together)
   */
  async pinCall (ref: string, requested: PinnedMount[] | undefined, opts: { budgetMs: number, blocks: boolean, signal?: AbortSignal }): Promise<{ mounts: PinnedMount[] | undefined, blocks?: Record<string, bigint> }> {
    return await this.#caller.pinCall(ref, requested, opts.blocks, opts.budgetMs, opts.signal)
  }

  /** Replaces where audited calls go (a host wires its light-node channels in after start). */
  setAudit (audit: AuditSink): void {
    this.#caller.setAudit(audit)
  }

  /** Replaces the reputation source the router weighs executors by (recomputed from ledgers as they grow). */
  setReputation (reputation: (key: string) => number): void {
    this.#peers.setReputation(reputation)
  }

  /** Sends a capacity query to every peer: refreshes round-trip times. */
  probe (): void {
    this.#peers.probeAll()
  }

  #onmessage (peer: Peer, msg: CallMessage): void {
    switch (msg.type) {
      case 'request': this.#server.serve(peer, msg); return
      case 'cancel': this.#server.cancel(peer, msg.id); return
      case 'mounts-query': this.#server.mounts(peer, msg); return
      default: this.#caller.answer(peer, msg)
    }
  }

  #onclose (peer: Peer): void {
    this.#server.disconnect(peer)
    this.#caller.disconnect(peer, this.#stopped ? ShadwError.NODE_CLOSED() : ShadwError.EXECUTOR_CLOSED(`executor ${peer.state.key.slice(0, 8)} disconnected mid-call`))
  }
}

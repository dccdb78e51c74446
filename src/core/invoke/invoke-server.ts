/**
 * The executor side of an endpoint: answers peers' requests with this node's
 * {@link InvokeService} (each peer within its share, a burst started a piece at a time),
 * tells peers this node's capacity, and runs this node's own calls on its own service with no
 * network hop. A node that does not execute answers every request `NO_EXECUTORS`.
 */
import { afterBurst } from '../after-burst.ts'
import { ShadwError } from '../errors.ts'
import { mark } from '../trace.ts'
import type { NodeTier } from '../node/index.ts'
import type { PriceQuote } from '../pricing/index.ts'
import type { OwnExecutor } from './invoke-caller.ts'
import type { InvokeService } from './invoke-service.ts'
import { boundHoldings, sameHoldings, type HeldDrive } from './holdings.ts'
import type { Peer } from './peer-table.ts'
import type { CapacityMessage, MountsQueryMessage, RequestMessage, ResultMessage } from './protocol.ts'
import type { PeerState } from './router.ts'

/** Most requests one peer may have running here at once, whatever our capacity: bounds its share. */
export const MAX_SERVING_PER_PEER = 256
/**
 * Requests this node starts in one turn of its event loop; the rest of a burst waits for the
 * next turn. A caller's burst then comes back in pieces — each piece's receipts signed and
 * sent while the next piece runs — so the caller checks one piece and sends more while this
 * node runs the next, instead of the two taking turns over the whole burst.
 */
export const SERVE_BURST = 32

/**
 * Bytes counted for a request beyond its input, ref and auth: its fixed fields and the
 * objects holding it. Small next to the inputs that make the budget matter.
 */
export const REQUEST_OVERHEAD_BYTES = 256

/**
 * The host's budget of memory that peers can make this node hold (a super node's
 * MemoryBudget, shared with its HTTP bodies and relay queues). The core defines only this
 * much of it so that it does not depend on any host.
 */
export interface ByteBudget {
  /** the most it holds, for the refusal's message */
  readonly limit: number
  /** reserves `bytes`; false (nothing reserved) when they do not fit */
  take: (bytes: number) => boolean
  /** returns bytes reserved with `take` */
  give: (bytes: number) => void
}

/** The bytes a request held here counts against a {@link ByteBudget}. */
export function requestBytes (req: RequestMessage): number {
  return req.input.byteLength + req.ref.length + (req.auth?.length ?? 0) + REQUEST_OVERHEAD_BYTES
}

/** Options of {@link InvokeServer}. */
export interface InvokeServerOptions {
  tier: NodeTier
  /** present when this node executes for others */
  service?: InvokeService
  /** this node's price now, sent in capacity adverts */
  quote?: () => PriceQuote | null
  /** sends this node's capacity advert ({@link InvokeServer.capacity}) to every peer */
  broadcast: () => void
  /** the host's memory budget each request counts against from arrival to answer; none: bounded per peer only */
  budget?: ByteBudget
}

/** Serves one endpoint's peers. */
export class InvokeServer {
  /** this node as a candidate for its own calls; null when it does not execute */
  readonly own: OwnExecutor | null
  readonly #tier: NodeTier
  readonly #service: InvokeService | undefined
  readonly #quote: (() => PriceQuote | null) | undefined
  readonly #broadcast: () => void
  readonly #budget: ByteBudget | undefined
  /** each peer's requests running here (or waiting for their turn), by request id */
  readonly #serving = new Map<Peer, Map<number, AbortController>>()
  #advertisedFull = false
  /** some advert or probe answer since the last broadcast said "no free slot" */
  #toldFull = false
  /** what this node holds of drives (a holder's pins), read by {@link refreshHoldings} */
  #holdings: () => Iterable<HeldDrive> = () => []
  /** the holdings last read, bounded: what every advert carries */
  #held: HeldDrive[] = []
  /** requests started in this turn of the event loop, and those waiting for a later one ({@link SERVE_BURST}) */
  #startedThisTurn = 0
  readonly #backlog: Array<() => void> = []
  #turnArmed = false

  constructor (opts: InvokeServerOptions) {
    this.#tier = opts.tier
    this.#service = opts.service
    this.#quote = opts.quote
    this.#broadcast = opts.broadcast
    this.#budget = opts.budget
    const service = opts.service
    if (service === undefined) {
      this.own = null
    } else {
      const state: PeerState = { key: service.publicKey, capacity: null, rtt: 0, inflight: 0, dissents: 0, full: false }
      let ids = 1
      const calls = { inflight: 0 }
      this.own = {
        key: service.publicKey,
        candidate: () => {
          state.capacity = this.capacity(0)
          state.full = state.capacity.free === 0
          // a call of ours waiting on a function lookup holds no slot here: only those running
          // count, so calls stuck on registries nobody serves do not make this node look full
          state.inflight = Math.min(calls.inflight, service.running)
          return state
        },
        request: async (req, timeoutMs, signal, client) => await this.#runOwn(service, calls, ids++, req, timeoutMs, signal, client),
        mounts: async (ref, signal, client) => await service.mountVersions(ref, client === undefined ? service.publicKey : `client:${client}`, signal)
      }
    }
  }

  /** This node's capacity advert, answering query `id` (0: unasked). */
  capacity (id: number): CapacityMessage {
    const s = this.#service
    const q = this.#quote?.() ?? null
    // only an executor's holdings help a caller choose where to run
    const held = s === undefined || this.#held.length === 0 ? {} : { holdings: this.#held }
    const free = s?.free ?? 0
    if (free === 0) this.#toldFull = true
    return { type: 'capacity', id, free, total: s?.total ?? 0, cpuBudget: s?.cpuBudget ?? 100, tier: this.#tier, ...(q === null ? {} : { quote: q }), ...held }
  }

  /** Replaces where this node's holdings are read from, and reads them now. */
  setHoldings (source: () => Iterable<HeldDrive>): void {
    this.#holdings = source
    this.refreshHoldings()
  }

  /** Reads this node's holdings again; tells every peer when they changed. */
  refreshHoldings (): void {
    let held: HeldDrive[]
    try {
      held = boundHoldings(this.#holdings())
    } catch {
      // a source that fails (its holder stopping) advertises nothing rather than stale data
      held = []
    }
    if (sameHoldings(held, this.#held)) return
    this.#held = held
    if (this.#service !== undefined) this.#broadcast()
  }

  /** Tells every peer when this node fills up or has room again (not on every call), or, `always`, now. */
  advertise (always = false): void {
    const full = (this.#service?.free ?? 0) === 0
    // a peer may have heard "full" in answer to a probe, not from a broadcast: a call that
    // filled the last slot after its lookup flips nothing here, and without this that peer
    // would skip this node until it next probed, which it does only with calls in flight here
    const stale = !full && this.#toldFull
    if (full === this.#advertisedFull && !stale && !always) return
    this.#advertisedFull = full
    this.#toldFull = false
    this.#broadcast()
  }

  /** Takes a request from `peer`: refused at once when this node does not execute or the peer is past its share. */
  serve (peer: Peer, req: RequestMessage): void {
    const service = this.#service
    if (service === undefined) { peer.channel.sendError(req.id, ShadwError.NO_EXECUTORS('this node does not execute functions')); return }
    let serving = this.#serving.get(peer)
    if (serving === undefined) this.#serving.set(peer, serving = new Map())
    if (serving.has(req.id)) { peer.channel.close(ShadwError.INVOKE_PROTOCOL(`request id ${req.id} is already running`)); return }
    if (serving.size >= MAX_SERVING_PER_PEER) { peer.channel.sendError(req.id, ShadwError.BUSY(serving.size)); return }
    // the per-peer bound times many peers is unbounded: the node's budget bounds their sum
    const bytes = this.#budget === undefined ? 0 : requestBytes(req)
    if (this.#budget !== undefined && !this.#budget.take(bytes)) {
      peer.channel.sendError(req.id, ShadwError.MEMORY_BUDGET_EXCEEDED('queued invocation requests', this.#budget.limit))
      return
    }
    const ac = new AbortController()
    // counted against the peer's share from arrival, whether it starts now or next turn
    serving.set(req.id, ac)
    const share = serving
    this.#admit(() => { this.#run(peer, share, req, ac, service, bytes) })
  }

  /**
   * Tells `peer` which drives the function it names mounts and the versions this node knows
   * (it pins them before calling). Counted against the peer's share like a request, and
   * cancelled like one; it holds no execution slot.
   */
  mounts (peer: Peer, msg: MountsQueryMessage): void {
    const service = this.#service
    if (service === undefined) { peer.channel.sendError(msg.id, ShadwError.NO_EXECUTORS('this node does not execute functions')); return }
    let serving = this.#serving.get(peer)
    if (serving === undefined) this.#serving.set(peer, serving = new Map())
    if (serving.has(msg.id)) { peer.channel.close(ShadwError.INVOKE_PROTOCOL(`request id ${msg.id} is already running`)); return }
    if (serving.size >= MAX_SERVING_PER_PEER) { peer.channel.sendError(msg.id, ShadwError.BUSY(serving.size)); return }
    const ac = new AbortController()
    serving.set(msg.id, ac)
    const share = serving
    mark('exec.mounts-query')
    service.mountVersions(msg.ref, peer.state.key, ac.signal).then(answer => {
      peer.channel.send({ type: 'mounts', id: msg.id, ...answer })
      mark('exec.mounts-answered')
    }, err => {
      peer.channel.sendError(msg.id, err)
    }).finally(() => { share.delete(msg.id) }).catch(() => {})
  }

  /** The caller cancelled request `id`. */
  cancel (peer: Peer, id: number): void {
    this.#serving.get(peer)?.get(id)?.abort(ShadwError.ABORTED('cancelled by the caller'))
  }

  /** `peer` is gone: what it asked for stops. */
  disconnect (peer: Peer): void {
    const serving = this.#serving.get(peer)
    if (serving === undefined) return
    this.#serving.delete(peer)
    for (const ac of serving.values()) ac.abort(ShadwError.ABORTED('caller disconnected'))
  }

  /** Starts `start` in this turn if fewer than {@link SERVE_BURST} started in it, else in a later one. */
  #admit (start: () => void): void {
    this.#armTurn()
    if (this.#startedThisTurn < SERVE_BURST) {
      this.#startedThisTurn++
      start()
    } else {
      this.#backlog.push(start)
    }
  }

  #armTurn (): void {
    if (this.#turnArmed) return
    this.#turnArmed = true
    // two hops: the group commit of this turn's calls is queued behind the first, and the
    // next piece must start after it, so this turn's results leave first
    afterBurst(() => {
      afterBurst(() => {
        this.#turnArmed = false
        this.#startedThisTurn = 0
        const next = this.#backlog.splice(0, SERVE_BURST)
        if (next.length > 0) this.#armTurn()
        for (const start of next) { this.#startedThisTurn++; start() }
      })
    })
  }

  #run (peer: Peer, serving: Map<number, AbortController>, req: RequestMessage, ac: AbortController, service: InvokeService, bytes: number): void {
    // cancelled, or its peer gone, while it waited for its turn
    // the request's own controller: the service aborts it at the deadline, no second one
    mark('exec.request')
    const run = ac.signal.aborted ? Promise.reject(ac.signal.reason) : service.handle(req, peer.state.key, ac)
    this.advertise()
    // one reaction per call, not a then/finally/catch chain of three
    const done = (): void => {
      serving.delete(req.id)
      // answered, failed, cancelled or its peer gone: the request's bytes are no longer held
      this.#budget?.give(bytes)
      this.advertise()
    }
    run.then(res => {
      try {
        peer.channel.send({ type: 'result', id: req.id, output: res.output, receipt: res.encodedReceipt, ledgerKey: service.ledgerKey, ledgerIndex: res.ledgerIndex })
        mark('exec.replied')
      } finally { done() }
    }, err => {
      try { peer.channel.sendError(req.id, err) } finally { done() }
    }).catch(() => {})
  }

  /** Runs a call of this node's own on its own service (a super node's HTTP gateway). */
  async #runOwn (service: InvokeService, self: { inflight: number }, id: number, req: Omit<RequestMessage, 'type' | 'id'>, timeoutMs: number, signal: AbortSignal | undefined, client?: string): Promise<ResultMessage> {
    // the same attempt bound as a remote call: the caller's abort or the attempt's timeout
    const ac = new AbortController()
    const onAbort = (): void => { ac.abort(signal?.reason) }
    signal?.addEventListener('abort', onAbort, { once: true })
    const timer = setTimeout(() => { ac.abort(ShadwError.TIMEOUT('this node\'s own executor', timeoutMs)) }, timeoutMs)
    self.inflight++
    try {
      const run = service.handle({ type: 'request', id, ...req }, service.publicKey, ac.signal, client === undefined ? service.publicKey : `client:${client}`)
      this.advertise()
      const res = await Promise.race([run, new Promise<never>((_resolve, reject) => {
        ac.signal.addEventListener('abort', () => { reject(ac.signal.reason instanceof ShadwError ? ac.signal.reason : ShadwError.ABORTED()) }, { once: true })
      })])
      return { type: 'result', id, output: res.output, receipt: res.encodedReceipt, ledgerKey: service.ledgerKey, ledgerIndex: res.ledgerIndex }
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      self.inflight--
      this.advertise()
    }
  }
}

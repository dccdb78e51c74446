/**
 * A node's invocation endpoint: an {@link InvokeChannel} on every connection of its
 * {@link ShadwNode}, capacity adverts and latency probes both ways, the executor side
 * (when the node has an {@link InvokeService}) and the caller side ({@link invoke}).
 */
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import Protomux from 'protomux'
import type { SwarmConnection } from 'hyperswarm'
import { ShadwError } from '../errors.ts'
import { log } from '../log.ts'
import type { NodeTier, PeerStatus } from '../node/index.ts'
import { afterBurst } from './after-burst.ts'
import { InvokeChannel } from './invoke-channel.ts'
import { runCall, type CallTransport, type InvokeOptions, type InvokeResult } from './invoke-call.ts'
import type { InvokeService } from './invoke-service.ts'
import { VerifiedRoots, type SignedReceipt } from '../ledger/index.ts'
import type { PriceQuote } from '../pricing/index.ts'
import { INVOKE_PROTOCOL, type CapacityMessage, type InvokeMessage, type RequestMessage, type ResultMessage } from './protocol.ts'
import { hasRoom, isExecutor, pickPeer, type PeerState } from './router.ts'

const debug = log('invoke')

/** Most requests one peer may have running here at once, whatever our capacity: bounds its share. */
export const MAX_SERVING_PER_PEER = 256
/**
 * Requests this node starts in one turn of its event loop; the rest of a burst waits for the
 * next turn. A caller's burst then comes back in pieces — each piece's receipts signed and
 * sent while the next piece runs — so the caller checks one piece and sends more while this
 * node runs the next, instead of the two taking turns over the whole burst.
 */
export const SERVE_BURST = 32

/** Most calls this node keeps in flight on one channel. */
const MAX_PENDING_PER_CHANNEL = 4096

/**
 * While calls are in flight on a channel and the peer has said nothing for this long, it is
 * asked for its capacity: any answer proves its node alive (its event loop runs; the call
 * itself runs in a worker).
 */
export const LIVENESS_PROBE_MS = 500
/**
 * A peer with calls in flight that has said nothing at all for this long is taken for gone:
 * its calls fail with EXECUTOR_CLOSED and go elsewhere. A killed process closes nothing over
 * UDP, so without this a call would wait for its attempt deadline (half the caller's time).
 * Four probes' worth: a relayed round trip plus a long GC pause stay well inside it.
 */
export const SILENCE_MS = 2_000
/**
 * Slowest link a large request is assumed to cross, bytes per ms (128 KiB/s): while our own
 * request is still on its way the peer cannot answer a probe queued behind it, so a request
 * of n bytes gives the peer n / this ms of grace. Incoming bytes of any kind count as
 * hearing from the peer, so a large result arriving slowly never looks like silence.
 */
const SLOWEST_LINK_BYTES_PER_MS = 128

/**
 * Random bytes are fetched this many at a time: libsodium asks the kernel on every call, and a
 * nonce per invocation made that system call a visible cost. Same generator, fewer calls.
 */
const RANDOM_POOL_BYTES = 4096
let randomPool: Uint8Array = new Uint8Array(0)
let randomUsed = 0

/** `n` fresh random bytes (a copy: no two callers share memory). */
function pooledRandomBytes (n: number): Uint8Array {
  if (n > RANDOM_POOL_BYTES) return crypto.randomBytes(n)
  if (randomUsed + n > randomPool.byteLength) {
    randomPool = crypto.randomBytes(RANDOM_POOL_BYTES)
    randomUsed = 0
  }
  // a copy (Buffer#slice would be a view)
  const out = new Uint8Array(randomPool.subarray(randomUsed, randomUsed + n))
  // used bytes are wiped: a nonce handed out is never in memory twice
  randomPool.fill(0, randomUsed, randomUsed + n)
  randomUsed += n
  return out
}

/** The parts of a node the endpoint uses (ShadwNode implements them). */
export interface InvokeHost {
  on (event: 'connection', listener: (conn: SwarmConnection, peer: PeerStatus) => void): () => void
  connections (): Array<[SwarmConnection, PeerStatus]>
}

/** Where audited calls go: light nodes that re-execute them (src/attest: AuditChannels implements it). */
export interface AuditSink {
  /** hands (receipt, input) to some light nodes; returns their keys (none connected: empty) */
  submit (audit: { receipt: SignedReceipt, input: Uint8Array }): string[]
}

/** Options of {@link InvokeEndpoint}. */
export interface InvokeEndpointOptions {
  host: InvokeHost
  tier: NodeTier
  /** present when this node executes for others */
  service?: InvokeService
  now?: () => number
  /** this node's price now, sent in capacity adverts (src/pricing: PricedService.quote) */
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
}

/** A call an executor took and never answered, as {@link InvokeEndpointOptions.onmiss} reports it. */
export interface MissedCall {
  executor: string
  /** the call's nonce, hex */
  nonce: string
  /** the attempt's deadline the request carried, ms since the epoch */
  deadline: number
  reason: 'timeout' | 'closed'
}

interface Pending {
  resolve (res: ResultMessage): void
  reject (err: ShadwError): void
}

interface Link {
  channel: InvokeChannel
  state: PeerState
  pending: Map<number, Pending>
  serving: Map<number, AbortController>
  probes: Map<number, number>
  nextId: number
  /** when the peer last sent anything on this connection (this.#now()) */
  heardAt: number
  /** when the last liveness probe went out */
  probedAt: number
  /** until when silence is expected: our large request is still crossing the link */
  graceUntil: number
  /** stops listening to the connection's raw bytes */
  unlisten: () => void
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
  readonly #host: InvokeHost
  readonly #service: InvokeService | undefined
  readonly #now: () => number
  readonly #links = new Map<InvokeChannel, Link>()
  readonly #waiters = new Set<() => void>()
  /** connections on which a peer's late open creates our channel (see #attach) */
  readonly #paired = new Set<SwarmConnection>()
  #off: (() => void) | null = null
  #stopped = false
  #advertisedFull = false
  /** unsubscribes from the service's stop (closed, or its ledger failed) */
  #offServiceStop: (() => void) | null = null
  /** this node as a candidate for its own calls (when it executes): no network hop */
  readonly #self: PeerState | null
  #selfIds = 1
  #quote: (() => PriceQuote | null) | undefined
  #reputation: ((key: string) => number) | undefined
  readonly #onmiss: ((miss: MissedCall) => void) | undefined
  #audit: AuditSink | undefined
  readonly #random: () => number
  /** what every call of this endpoint runs on (one object, not one per call) */
  readonly #transport: CallTransport
  /** requests started in this turn of the event loop, and those waiting for a later one ({@link SERVE_BURST}) */
  #startedThisTurn = 0
  readonly #backlog: Array<() => void> = []
  #turnArmed = false
  /** runs while some channel has calls in flight ({@link #watch}) */
  #watchdog: ReturnType<typeof setInterval> | null = null

  constructor (opts: InvokeEndpointOptions) {
    this.tier = opts.tier
    this.#host = opts.host
    this.#service = opts.service
    this.#now = opts.now ?? Date.now
    this.#quote = opts.quote
    this.#reputation = opts.reputation
    this.#onmiss = opts.onmiss
    this.#audit = opts.audit
    this.#random = opts.random ?? Math.random
    const s = opts.service
    this.#transport = {
      pick: (exclude) => pickPeer(this.#states(), exclude),
      hasAlternative: (exclude) => this.#states().some(s => !exclude.has(s.key) && hasRoom(s)),
      request: async (key, req, timeoutMs, signal) => await this.#request(key, req, timeoutMs, signal),
      randomBytes: pooledRandomBytes,
      now: this.#now,
      // batch roots verified here, shared with this node's service, which adds its own
      verifiedRoots: s?.verifiedRoots ?? new VerifiedRoots()
    }
    this.#self = s === undefined ? null : { key: s.publicKey, capacity: null, rtt: 0, inflight: 0, dissents: 0, full: false }
  }

  /** Opens the channel on every current and future connection. Safe to call twice. */
  start (): void {
    if (this.#off !== null || this.#stopped) return
    this.#off = this.#host.on('connection', (conn) => { this.#attach(conn) })
    // a service that stops taking calls says so at once: free 0, total 0 to every peer
    this.#offServiceStop = this.#service?.onstop(() => { this.#advertise(true) }) ?? null
    for (const [conn] of this.#host.connections()) this.#attach(conn)
  }

  /** Closes every channel; pending calls fail with `NODE_CLOSED`. Safe to call twice. */
  stop (): void {
    if (this.#stopped) return
    this.#stopped = true
    this.#off?.()
    this.#offServiceStop?.()
    for (const conn of this.#paired) Protomux.from(conn).unpair({ protocol: INVOKE_PROTOCOL })
    this.#paired.clear()
    for (const link of [...this.#links.values()]) link.channel.close()
    for (const wake of this.#waiters) wake()
    this.#unwatch()
  }

  /** What the router knows about each connected peer. */
  peers (): PeerState[] {
    return [...this.#links.values()].map(l => ({ ...l.state, capacity: l.state.capacity === null ? null : { ...l.state.capacity } }))
  }

  /** Waits (bounded) until at least `n` executors have advertised capacity; resolves to their number. */
  async waitForExecutors (n: number, opts: { timeoutMs: number, signal?: AbortSignal }): Promise<number> {
    const count = (): number => [...this.#links.values()].filter(l => isExecutor(l.state)).length
    const end = this.#now() + opts.timeoutMs
    while (count() < n) {
      if (this.#stopped) throw ShadwError.NODE_CLOSED()
      opts.signal?.throwIfAborted()
      const left = end - this.#now()
      if (left <= 0) throw ShadwError.TIMEOUT(`${n} executor(s) to connect`, opts.timeoutMs)
      await new Promise<void>(resolve => {
        const timer = setTimeout(done, left)
        function done (): void { clearTimeout(timer); waiters.delete(done); resolve() }
        const waiters = this.#waiters
        waiters.add(done)
      })
    }
    return count()
  }

  /**
   * Invokes a function on the swarm. See {@link runCall} for the errors.
   *
   * @throws ShadwError `NODE_CLOSED` after {@link stop}, and the codes of {@link runCall}.
   */
  async invoke (ref: string, input: Uint8Array, opts: InvokeOptions = {}): Promise<InvokeResult> {
    if (this.#stopped) throw ShadwError.NODE_CLOSED()
    const audited = this.#audited(opts.audit)
    const result = await runCall(this.#transport, ref, input, opts)
    for (const r of result.dissenters) for (const l of this.#links.values()) if (l.state.key === r.executor) l.state.dissents++
    if (audited) this.#submitAudits(result, input)
    return result
  }

  /** Replaces where audited calls go (a host wires its light-node channels in after start). */
  setAudit (audit: AuditSink): void {
    this.#audit = audit
  }

  #audited (audit: InvokeOptions['audit']): boolean {
    if (audit === undefined || audit === false || this.#audit === undefined) return false
    if (audit === true) return true
    if (typeof audit !== 'number' || !(audit >= 0 && audit <= 1)) throw ShadwError.INVALID_ARGUMENT('audit must be true, false or a share of calls in [0, 1]')
    return this.#random() < audit
  }

  /**
   * After the answer: an audit that reaches no light node costs the call nothing. One audit
   * per call, not per receipt: light nodes hold the input for the call (every receipt of it
   * has the same function, nonce and input hash) and re-run each receipt they read from its
   * executor's ledger, so sending the input once per receipt would only multiply its bytes.
   */
  #submitAudits (result: InvokeResult, input: Uint8Array): void {
    const receipt = result.receipts[0] ?? result.dissenters[0]
    if (receipt === undefined) return
    try {
      this.#audit?.submit({ receipt, input })
    } catch (err) {
      debug('audit not sent:', (err as Error).message)
    }
  }

  /** Replaces the reputation source the router weighs executors by (recomputed from ledgers as they grow). */
  setReputation (reputation: (key: string) => number): void {
    this.#reputation = reputation
  }

  /** Sends a capacity query to every peer: refreshes round-trip times. */
  probe (): void {
    for (const link of this.#links.values()) this.#probe(link)
  }

  #states (): PeerState[] {
    const peers = [...this.#links.values()].filter(l => l.channel.opened).map(l => l.state)
    const rep = this.#reputation
    if (rep !== undefined) for (const p of peers) p.reputation = rep(p.key)
    if (this.#self !== null) {
      this.#self.capacity = this.#capacity(0)
      this.#self.full = this.#self.capacity.free === 0
      peers.push(this.#self)
    }
    return peers
  }

  /** Runs a call of this node's own on its own service (a super node's HTTP gateway). */
  async #requestSelf (req: Omit<RequestMessage, 'type' | 'id'>, timeoutMs: number, signal: AbortSignal): Promise<ResultMessage> {
    const service = this.#service as InvokeService
    const self = this.#self as PeerState
    const id = this.#selfIds++
    // the same attempt bound as a remote call: the caller's abort or the attempt's timeout
    const ac = new AbortController()
    const onAbort = (): void => { ac.abort(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
    const timer = setTimeout(() => { ac.abort(ShadwError.TIMEOUT('this node\'s own executor', timeoutMs)) }, timeoutMs)
    self.inflight++
    try {
      const run = service.handle({ type: 'request', id, ...req }, service.publicKey, ac.signal)
      this.#advertise()
      const res = await Promise.race([run, new Promise<never>((_resolve, reject) => {
        ac.signal.addEventListener('abort', () => { reject(ac.signal.reason instanceof ShadwError ? ac.signal.reason : ShadwError.ABORTED()) }, { once: true })
      })])
      return { type: 'result', id, output: res.output, receipt: res.encodedReceipt, ledgerKey: service.ledgerKey, ledgerIndex: res.ledgerIndex }
    } finally {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      self.inflight--
      this.#advertise()
    }
  }

  #attach (conn: SwarmConnection): void {
    if (this.#stopped) return
    for (const l of this.#links.values()) if (l.channel.conn === conn) return
    // A peer whose endpoint started after the connection opened sends its open late; without
    // a pairing Protomux would reject it (no local channel yet) and the two would never talk.
    if (!this.#paired.has(conn)) {
      this.#paired.add(conn)
      Protomux.from(conn).pair({ protocol: INVOKE_PROTOCOL }, () => { this.#attach(conn) })
      conn.on('close', () => { this.#paired.delete(conn) })
    }
    const channel = new InvokeChannel(conn, {
      onopen: (ch) => {
        const link = this.#links.get(ch)
        if (link === undefined) return
        ch.send(this.#capacity(0))
        this.#probe(link)
      },
      onmessage: (msg, ch) => { const link = this.#links.get(ch); if (link !== undefined) this.#onmessage(link, msg) },
      onclose: (ch, err) => { this.#onclose(ch, err) }
    })
    if (channel.closed) return
    this.#links.set(channel, {
      channel,
      state: { key: channel.remoteKey, capacity: null, rtt: null, inflight: 0, dissents: 0, full: false },
      pending: new Map(),
      serving: new Map(),
      probes: new Map(),
      nextId: 1,
      heardAt: this.#now(),
      probedAt: 0,
      graceUntil: 0,
      unlisten: () => {}
    })
    // any bytes from the peer prove it alive, replication included, and arrive packet by
    // packet, while a message (a large result) is heard only once it is whole
    const link = this.#links.get(channel) as Link
    const raw = (conn as { rawStream?: { on (e: 'data', l: () => void): unknown, off (e: 'data', l: () => void): unknown } | null }).rawStream
    if (raw !== null && raw !== undefined) {
      const heard = (): void => { link.heardAt = this.#now() }
      raw.on('data', heard)
      link.unlisten = () => { raw.off('data', heard) }
    }
  }

  #capacity (id: number): CapacityMessage {
    const s = this.#service
    const q = this.#quote?.() ?? null
    return { type: 'capacity', id, free: s?.free ?? 0, total: s?.total ?? 0, cpuBudget: s?.cpuBudget ?? 100, tier: this.tier, ...(q === null ? {} : { quote: q }) }
  }

  #probe (link: Link): void {
    const id = link.nextId++
    link.probes.set(id, performance.now())
    link.channel.send({ type: 'capacity-query', id })
  }

  /** Tells every peer when this node fills up or has room again (not on every call), or, `always`, now. */
  #advertise (always = false): void {
    const full = (this.#service?.free ?? 0) === 0
    if (full === this.#advertisedFull && !always) return
    this.#advertisedFull = full
    for (const link of this.#links.values()) link.channel.send(this.#capacity(0))
  }

  #onmessage (link: Link, msg: InvokeMessage): void {
    link.heardAt = this.#now()
    switch (msg.type) {
      case 'capacity': {
        const t0 = link.probes.get(msg.id)
        if (t0 !== undefined) { link.probes.delete(msg.id); link.state.rtt = performance.now() - t0 }
        link.state.capacity = msg
        link.state.full = msg.free === 0
        for (const wake of [...this.#waiters]) wake()
        return
      }
      case 'capacity-query':
        link.channel.send(this.#capacity(msg.id))
        return
      case 'request':
        this.#serve(link, msg)
        return
      case 'cancel':
        link.serving.get(msg.id)?.abort(ShadwError.ABORTED('cancelled by the caller'))
        return
      case 'result':
      case 'error': {
        if (msg.type === 'error' && msg.id === 0) {
          // the peer is closing the channel on us: a protocol error on our side
          debug('peer reported a channel error', msg.code, msg.message)
          return
        }
        const p = link.pending.get(msg.id)
        if (p === undefined) return // answered after we gave up on it
        link.pending.delete(msg.id)
        if (msg.type === 'result') { p.resolve(msg); return }
        if (msg.code === 'BUSY') {
          // skipped until it says it has room; its adverts come only when its fullness flips,
          // and a refusal for its per-peer share flips nothing: ask, so the answer clears it
          link.state.full = true
          this.#probe(link)
        }
        // `remote`: the executor answered, with its own code (a TIMEOUT of its registry, an
        // EXECUTOR_CLOSED of its pool): an answer, never a miss
        p.reject(new ShadwError(msg.code, msg.message.startsWith(msg.code + ': ') ? msg.message.slice(msg.code.length + 2) : msg.message, { details: { executor: link.state.key, remote: true } }))
      }
    }
  }

  #serve (link: Link, req: RequestMessage): void {
    const service = this.#service
    if (service === undefined) { link.channel.sendError(req.id, ShadwError.NO_EXECUTORS('this node does not execute functions')); return }
    if (link.serving.has(req.id)) { link.channel.close(ShadwError.INVOKE_PROTOCOL(`request id ${req.id} is already running`)); return }
    if (link.serving.size >= MAX_SERVING_PER_PEER) { link.channel.sendError(req.id, ShadwError.BUSY(link.serving.size)); return }
    const ac = new AbortController()
    // counted against the peer's share from arrival, whether it starts now or next turn
    link.serving.set(req.id, ac)
    this.#admit(() => { this.#run(link, req, ac, service) })
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

  #run (link: Link, req: RequestMessage, ac: AbortController, service: InvokeService): void {
    // cancelled, or its peer gone, while it waited for its turn
    const run = ac.signal.aborted ? Promise.reject(ac.signal.reason) : service.handle(req, link.state.key, ac.signal)
    this.#advertise()
    run.then(res => {
      link.channel.send({ type: 'result', id: req.id, output: res.output, receipt: res.encodedReceipt, ledgerKey: service.ledgerKey, ledgerIndex: res.ledgerIndex })
    }, err => {
      link.channel.sendError(req.id, err)
    }).finally(() => {
      link.serving.delete(req.id)
      this.#advertise()
    }).catch(() => {})
  }

  async #request (key: string, req: Omit<RequestMessage, 'type' | 'id'>, timeoutMs: number, signal: AbortSignal): Promise<ResultMessage> {
    if (key === this.#self?.key) return await this.#requestSelf(req, timeoutMs, signal)
    const link = [...this.#links.values()].find(l => l.state.key === key && l.channel.opened)
    if (link === undefined) throw ShadwError.EXECUTOR_CLOSED(`executor ${key.slice(0, 8)} is not connected`)
    if (link.pending.size >= MAX_PENDING_PER_CHANNEL) throw ShadwError.BUSY(link.pending.size)
    signal.throwIfAborted()
    const id = link.nextId++
    link.state.inflight++
    // silence is measured from the first call in flight, not from the last message of an idle spell
    if (link.pending.size === 0) link.heardAt = Math.max(link.heardAt, this.#now() - LIVENESS_PROBE_MS)
    link.graceUntil = Math.max(link.graceUntil, this.#now() + req.input.byteLength / SLOWEST_LINK_BYTES_PER_MS)
    this.#watch()
    let timer: ReturnType<typeof setTimeout> | undefined
    let onAbort: (() => void) | undefined
    // the executor took the call once the request left; a failure before that is no miss
    let sent = false
    try {
      return await new Promise<ResultMessage>((resolve, reject) => {
        link.pending.set(id, { resolve, reject })
        const giveUp = (err: ShadwError): void => {
          if (!link.pending.delete(id)) return
          link.channel.send({ type: 'cancel', id })
          reject(err)
        }
        timer = setTimeout(() => { giveUp(ShadwError.TIMEOUT(`executor ${key.slice(0, 8)}`, timeoutMs)) }, timeoutMs)
        onAbort = () => { giveUp(signal.reason instanceof ShadwError ? signal.reason : ShadwError.ABORTED()) }
        signal.addEventListener('abort', onAbort, { once: true })
        if (!link.channel.send({ type: 'request', id, ...req })) {
          link.pending.delete(id)
          reject(ShadwError.EXECUTOR_CLOSED(`executor ${key.slice(0, 8)} closed the channel`))
        } else sent = true
      })
    } catch (err) {
      const code = (err as ShadwError).code
      const answered = (err as ShadwError).details?.['remote'] === true
      if (sent && !answered && (code === 'TIMEOUT' || code === 'EXECUTOR_CLOSED')) {
        // a miss record must never replace the call's own error
        try {
          this.#onmiss?.({ executor: key, nonce: b4a.toString(req.nonce, 'hex'), deadline: req.deadline, reason: code === 'TIMEOUT' ? 'timeout' : 'closed' })
        } catch (e) {
          debug('miss not recorded:', e)
        }
      }
      throw err
    } finally {
      clearTimeout(timer)
      if (onAbort !== undefined) signal.removeEventListener('abort', onAbort)
      link.state.inflight--
    }
  }

  /** Starts the liveness watchdog if it is not running; it stops itself when nothing is in flight. */
  #watch (): void {
    if (this.#watchdog !== null || this.#stopped) return
    this.#watchdog = setInterval(() => { this.#checkLiveness() }, LIVENESS_PROBE_MS / 2)
    // a process with nothing else to do must not be kept alive by the watchdog
    ;(this.#watchdog as { unref?: () => void }).unref?.()
  }

  #unwatch (): void {
    if (this.#watchdog !== null) clearInterval(this.#watchdog)
    this.#watchdog = null
  }

  /**
   * Probes peers that have calls of ours in flight and went quiet; fails the calls of one
   * silent for {@link SILENCE_MS} (retryable: the caller moves them) and marks it full, so
   * the router skips it until it advertises again — which a live peer does when it next
   * answers a probe.
   */
  #checkLiveness (): void {
    const now = this.#now()
    let inFlight = false
    for (const link of this.#links.values()) {
      if (link.pending.size === 0) continue
      const quiet = now - Math.max(link.heardAt, link.graceUntil)
      if (quiet >= SILENCE_MS) {
        debug('executor', link.state.key.slice(0, 8), 'silent for', quiet, 'ms; failing', link.pending.size, 'calls')
        const gone = ShadwError.EXECUTOR_CLOSED(`executor ${link.state.key.slice(0, 8)} went silent (nothing for ${quiet} ms)`)
        // a peer merely stalled must not go on running (and billing) what moves elsewhere
        for (const id of link.pending.keys()) link.channel.send({ type: 'cancel', id })
        for (const p of link.pending.values()) p.reject(gone)
        link.pending.clear()
        // skipped from now on; a peer only stalled answers this probe and its advert clears it
        link.state.full = true
        this.#probe(link)
        continue
      }
      inFlight = true
      if (quiet >= LIVENESS_PROBE_MS && now - link.probedAt >= LIVENESS_PROBE_MS) {
        link.probedAt = now
        this.#probe(link)
      }
    }
    if (!inFlight) this.#unwatch()
  }

  #onclose (channel: InvokeChannel, err: ShadwError | null): void {
    const link = this.#links.get(channel)
    if (link === undefined) return
    this.#links.delete(channel)
    link.unlisten()
    if (err !== null) debug('channel with', link.state.key.slice(0, 8), 'closed:', err.message)
    for (const ac of link.serving.values()) ac.abort(ShadwError.ABORTED('caller disconnected'))
    const gone = this.#stopped ? ShadwError.NODE_CLOSED() : ShadwError.EXECUTOR_CLOSED(`executor ${link.state.key.slice(0, 8)} disconnected mid-call`)
    for (const p of link.pending.values()) p.reject(gone)
    link.pending.clear()
  }
}

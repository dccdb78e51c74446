/**
 * The caller side of an endpoint: runs this node's calls ({@link runCall}: retries,
 * redundancy, quorum) over the peers of its {@link PeerTable} and its own executor, sends the
 * requests, cancels what it gives up on, watches the peers it waits for (liveness probes),
 * reports the calls an executor took and never answered (misses), and hands audited calls to
 * light nodes.
 */
import b4a from 'b4a'
import { ShadwError } from '../errors.ts'
import { mark, tracing } from '../trace.ts'
import { log, logs } from '../log.ts'
import { VerifiedRoots } from '../ledger/index.ts'
import { CallAudits, type AuditSink } from './call-audits.ts'
import { DEFAULT_INVOKE_DEADLINE_MS, runCall, type CallTransport, type InvokeOptions, type InvokeResult } from './invoke-call.ts'
import { REJOIN_MS, type Peer, type PeerTable } from './peer-table.ts'
import type { ErrorMessage, MountsMessage, RequestMessage, ResultMessage } from './protocol.ts'
import type { DriveHost, PinnedMount } from '../drive/index.ts'
import type { MountVersions } from './call-mounts.ts'
import { ManifestPins } from './manifest-pins.ts'
import { pooledRandomBytes } from './random-pool.ts'
import { hasRoom, isExecutor, pickPeer, type PeerState } from './router.ts'

const debug = log('invoke')

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

/** A call an executor took and never answered, as {@link InvokeCallerOptions.onmiss} reports it. */
export interface MissedCall {
  executor: string
  /** the call's nonce, hex */
  nonce: string
  /** the attempt's deadline the request carried, ms since the epoch */
  deadline: number
  reason: 'timeout' | 'closed'
}

/** This node's own executor, as a candidate for its own calls: no network hop. */
export interface OwnExecutor {
  /** its node key, hex */
  readonly key: string
  /** its router state, with its capacity brought up to date */
  candidate (): PeerState
  /** runs a call; rejects with a typed error, or TIMEOUT after `timeoutMs` */
  request (req: Omit<RequestMessage, 'type' | 'id'>, timeoutMs: number, signal: AbortSignal | undefined, client?: string): Promise<ResultMessage>
  /** what it knows of the mounts of `ref` (manifest-pins.ts); its lookup charged as {@link request}'s */
  mounts (ref: string, signal: AbortSignal, client?: string): Promise<MountVersions>
}

/** Options of {@link InvokeCaller}. */
export interface InvokeCallerOptions {
  peers: PeerTable
  /** present when this node executes: its own calls may run here */
  own?: OwnExecutor | null
  now: () => number
  /** draws which calls with a share `audit` are audited */
  random: () => number
  /** batch roots verified already (shared with this node's service, which adds its own) */
  verifiedRoots?: VerifiedRoots
  /** where calls invoked with `audit` send their receipts and input */
  audit?: AuditSink
  /**
   * called when an executor took one of this node's calls and never answered (silent past
   * the attempt's deadline, or its connection closed mid-call), so the node can sign a miss
   * record into its misses log (src/reputation/miss.ts)
   */
  onmiss?: (miss: MissedCall) => void
  /**
   * where this node opens drives' logs: present, calls pin their function's "latest" mounts
   * here before they go out (manifest-pins.ts); absent, each executor pins its own
   */
  drives?: DriveHost
}

interface Pending {
  resolve (res: ResultMessage | MountsMessage): void
  reject (err: ShadwError): void
}

/** This node's calls on one peer. */
interface Calls {
  /** requests waiting for their answer, by id */
  pending: Map<number, Pending>
  /** when the last liveness probe went out */
  probedAt: number
  /** until when silence is expected: our large request is still crossing the link */
  graceUntil: number
}

/** Runs one endpoint's calls. */
export class InvokeCaller {
  readonly #peers: PeerTable
  readonly #own: OwnExecutor | null
  readonly #now: () => number
  readonly #onmiss: ((miss: MissedCall) => void) | undefined
  readonly #audits: CallAudits
  readonly #calls = new Map<Peer, Calls>()
  /** what every call runs on (one object, not one per call) */
  readonly #transport: CallTransport
  /** runs while some peer has calls in flight ({@link #watch}) */
  #watchdog: ReturnType<typeof setInterval> | null = null
  /** when the watchdog last ran: a tick far later than its interval means this node itself stalled */
  #checkedAt = 0
  #stopped = false
  readonly #pins: ManifestPins
  /** whether this node checks drives: only then does it pin "latest" mounts */
  readonly #drives: boolean

  constructor (opts: InvokeCallerOptions) {
    this.#peers = opts.peers
    this.#own = opts.own ?? null
    this.#now = opts.now
    this.#onmiss = opts.onmiss
    this.#audits = new CallAudits(opts.audit, opts.random)
    this.#transport = {
      pick: (exclude, drives) => pickPeer(this.#candidates(), exclude, Math.random, drives),
      rejoin: async (exclude, timeoutMs, signal, arrivals) => await this.#peers.waitForRejoin(exclude, arrivals === true ? timeoutMs : Math.min(timeoutMs, REJOIN_MS), signal, arrivals),
      hasAlternative: (exclude, reserve = 0) => this.#candidates().filter(s => !exclude.has(s.key) && hasRoom(s)).length > reserve,
      request: async (key, req, timeoutMs, signal, client) => await this.#request(key, req, timeoutMs, signal, client),
      randomBytes: pooledRandomBytes,
      now: this.#now,
      verifiedRoots: opts.verifiedRoots ?? new VerifiedRoots()
    }
    this.#drives = opts.drives !== undefined
    this.#pins = new ManifestPins({
      ...(opts.drives === undefined ? {} : { drives: opts.drives }),
      now: this.#now,
      asker: {
        executors: n => this.#askable(n),
        ask: async (key, ref, timeoutMs, signal, client) => await this.#askMounts(key, ref, timeoutMs, signal, client)
      }
    })
  }

  /** Invokes a function on the swarm. See {@link runCall} for the errors. */
  async invoke (ref: string, input: Uint8Array, opts: InvokeOptions = {}): Promise<InvokeResult> {
    const audited = this.#audits.chosen(opts.audit)
    mark('call.start')
    if (logs('invoke')) debug('call of', ref, 'redundancy', opts.redundancy ?? 1, 'peers:', this.#peers.describe())
    const pinned = await this.#pinned(ref, opts)
    mark('call.pinned')
    const result = await runCall(this.#transport, ref, input, pinned)
    mark('call.verified')
    for (const r of result.dissenters) this.#peers.dissented(r.executor)
    if (audited) this.#audits.submit(result, input)
    return result
  }

  /**
   * The mounts a call of `ref` would send: the function's "latest" mounts pinned and
   * checked (none pinned when this node checks no drives), then `requested`.
   */
  async pinMounts (ref: string, requested: PinnedMount[] | undefined, budgetMs: number, signal?: AbortSignal): Promise<PinnedMount[] | undefined> {
    return (await this.pinCall(ref, requested, false, budgetMs, signal)).mounts
  }

  /** {@link pinMounts}, and with `blocks` one block per chain of the function's conditions (manifest-pins.ts). */
  async pinCall (ref: string, requested: PinnedMount[] | undefined, blocks: boolean, budgetMs: number, signal?: AbortSignal): Promise<{ mounts: PinnedMount[] | undefined, blocks?: Record<string, bigint> }> {
    return await this.#pins.pinCall(ref, requested, { mounts: this.#drives, blocks }, budgetMs, signal)
  }

  /** Replaces where audited calls go. */
  setAudit (audit: AuditSink): void {
    this.#audits.set(audit)
  }

  /** An answer from `peer`: the result or the error of one of our requests. */
  answer (peer: Peer, msg: ResultMessage | ErrorMessage | MountsMessage | { type: 'mounts-query' }): void {
    if (msg.type === 'mounts-query') return
    if (msg.type === 'error' && msg.id === 0) {
      // the peer is closing the channel on us: a protocol error on our side
      debug('peer reported a channel error', msg.code, msg.message)
      return
    }
    const calls = this.#calls.get(peer)
    const p = calls?.pending.get(msg.id)
    if (calls === undefined || p === undefined) return // answered after we gave up on it
    calls.pending.delete(msg.id)
    if (tracing()) mark(`call.answered.${msg.type}`)
    if (msg.type === 'result' || msg.type === 'mounts') { p.resolve(msg); return }
    if (msg.code === 'BUSY') {
      // skipped until it says it has room; its adverts come only when its fullness flips,
      // and a refusal for its per-peer share flips nothing: ask, so the answer clears it
      peer.state.full = true
      this.#peers.probe(peer)
    }
    // `remote`: the executor answered, with its own code (a TIMEOUT of its registry, an
    // EXECUTOR_CLOSED of its pool): an answer, never a miss
    p.reject(new ShadwError(msg.code, msg.message.startsWith(msg.code + ': ') ? msg.message.slice(msg.code.length + 2) : msg.message, { details: { executor: peer.state.key, remote: true } }))
  }

  /** `peer` is gone: our calls there fail with `gone`. */
  disconnect (peer: Peer, gone: ShadwError): void {
    const calls = this.#calls.get(peer)
    if (calls === undefined) return
    this.#calls.delete(peer)
    for (const p of calls.pending.values()) p.reject(gone)
    calls.pending.clear()
  }

  /** Stops the liveness watchdog for good. */
  stop (): void {
    this.#stopped = true
    this.#unwatch()
  }

  #candidates (): PeerState[] {
    const peers = this.#peers.candidates()
    if (this.#own !== null) peers.push(this.#own.candidate())
    return peers
  }

  async #request (key: string, req: Omit<RequestMessage, 'type' | 'id'>, timeoutMs: number, signal: AbortSignal | undefined, client?: string): Promise<ResultMessage> {
    if (key === this.#own?.key) return await this.#own.request(req, timeoutMs, signal, client)
    const { peer, calls } = this.#channelTo(key)
    const pending = calls.pending
    signal?.throwIfAborted()
    const id = peer.nextId++
    peer.state.inflight++
    // silence is measured from the first call in flight, not from the last message of an idle spell
    if (pending.size === 0) peer.heardAt = Math.max(peer.heardAt, this.#now() - LIVENESS_PROBE_MS)
    calls.graceUntil = Math.max(calls.graceUntil, this.#now() + req.input.byteLength / SLOWEST_LINK_BYTES_PER_MS)
    this.#watch()
    let timer: ReturnType<typeof setTimeout> | undefined
    let onAbort: (() => void) | undefined
    // the executor took the call once the request left; a failure before that is no miss
    let sent = false
    try {
      return await new Promise<ResultMessage>((resolve, reject) => {
        pending.set(id, { resolve: r => { if (r.type === 'result') resolve(r); else reject(ShadwError.INVOKE_PROTOCOL(`executor ${key.slice(0, 8)} answered a request with mounts`)) }, reject })
        const giveUp = (err: ShadwError): void => {
          if (!pending.delete(id)) return
          peer.channel.send({ type: 'cancel', id })
          reject(err)
        }
        timer = setTimeout(() => { giveUp(ShadwError.TIMEOUT(`executor ${key.slice(0, 8)}`, timeoutMs)) }, timeoutMs)
        if (signal !== undefined) {
          onAbort = () => { giveUp(signal.reason instanceof ShadwError ? signal.reason : ShadwError.ABORTED()) }
          signal.addEventListener('abort', onAbort, { once: true })
        }
        if (!peer.channel.send({ type: 'request', id, ...req })) {
          pending.delete(id)
          reject(ShadwError.EXECUTOR_CLOSED(`executor ${key.slice(0, 8)} closed the channel`))
        } else {
          sent = true
          mark('call.sent')
        }
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
      if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
      peer.state.inflight--
    }
  }

  /**
   * `opts` with the function's "latest" mounts pinned (when this node checks drives, the
   * invocation did not turn it off, and there is any) and, for a redundant call that pins no
   * block itself, one block per chain of its conditions for every executor; the deadline less
   * the time it took.
   */
  async #pinned (ref: string, opts: InvokeOptions): Promise<InvokeOptions> {
    // executors deciding alone cannot disagree: such a call leaves the pin to its executor
    const blocks = opts.blocks === undefined && (opts.redundancy ?? 1) > 1
    // `pinManifest: false`: the caller pinned the mounts itself (pinCall), and the blocks with them
    if (opts.pinManifest === false || (!this.#drives && !blocks)) return opts
    const started = this.#now()
    const budget = opts.deadline ?? DEFAULT_INVOKE_DEADLINE_MS
    // at most half the call's time: the call itself needs the rest
    const pinned = await this.#pins.pinCall(ref, opts.mounts, { mounts: this.#drives, blocks }, Math.floor(budget / 2), opts.signal, opts.client)
    if (pinned.mounts === opts.mounts && pinned.blocks === undefined) return opts
    return {
      ...opts,
      deadline: Math.max(1, budget - (this.#now() - started)),
      ...(pinned.mounts === undefined ? {} : { mounts: pinned.mounts }),
      ...(pinned.blocks === undefined ? {} : { blocks: pinned.blocks })
    }
  }

  /** The connected executor `key` and its requests in flight, with room for one more. @throws `EXECUTOR_CLOSED`, `BUSY` */
  #channelTo (key: string): { peer: Peer, calls: Calls } {
    const peer = this.#peers.find(key)
    if (peer === undefined) throw ShadwError.EXECUTOR_CLOSED(`executor ${key.slice(0, 8)} is not connected`)
    let calls = this.#calls.get(peer)
    if (calls === undefined) this.#calls.set(peer, calls = { pending: new Map(), probedAt: 0, graceUntil: 0 })
    if (calls.pending.size >= MAX_PENDING_PER_CHANNEL) throw ShadwError.BUSY(calls.pending.size)
    return { peer, calls }
  }

  /** Up to `n` executors to ask about a call's mounts: this node's own first, then the best peers. */
  #askable (n: number): string[] {
    const out: string[] = this.#own === null ? [] : [this.#own.key]
    const peers = this.#peers.candidates().filter(isExecutor).sort((a, b) => (a.rtt ?? Infinity) - (b.rtt ?? Infinity))
    for (const p of peers) if (out.length < n) out.push(p.key)
    return out.slice(0, n)
  }

  /** Asks executor `key` what it knows of the mounts of `ref`. */
  async #askMounts (key: string, ref: string, timeoutMs: number, signal: AbortSignal | undefined, client?: string): Promise<MountVersions> {
    const ac = new AbortController()
    const onAbort = (): void => { ac.abort(signal?.reason) }
    signal?.addEventListener('abort', onAbort, { once: true })
    const timer = setTimeout(() => { ac.abort(ShadwError.TIMEOUT(`mounts query to ${key.slice(0, 8)}`, timeoutMs)) }, timeoutMs)
    try {
      if (key === this.#own?.key) {
        // as for a peer: the lookup goes on for the call that follows, whoever stops waiting
        // charged as the call is: to the gateway's HTTP client, whose share it counts in
        const own = this.#own.mounts(ref, new AbortController().signal, client)
        own.catch(() => {})
        return await Promise.race([own, new Promise<never>((_resolve, reject) => {
          ac.signal.addEventListener('abort', () => { reject(ac.signal.reason instanceof ShadwError ? ac.signal.reason : ShadwError.ABORTED()) }, { once: true })
        })])
      }
      const { peer, calls: { pending } } = this.#channelTo(key)
      const id = peer.nextId++
      return await new Promise<MountVersions>((resolve, reject) => {
        pending.set(id, { resolve: r => { if (r.type === 'mounts') resolve(r); else reject(ShadwError.INVOKE_PROTOCOL(`executor ${key.slice(0, 8)} answered a mounts query with a result`)) }, reject })
        // not cancelled at the executor: the call that follows joins the function lookup
        // the query started there, which a cancel would abandon
        ac.signal.addEventListener('abort', () => {
          if (!pending.delete(id)) return
          reject(ac.signal.reason instanceof ShadwError ? ac.signal.reason : ShadwError.ABORTED())
        }, { once: true })
        if (!peer.channel.send({ type: 'mounts-query', id, ref })) {
          pending.delete(id)
          reject(ShadwError.EXECUTOR_CLOSED(`executor ${key.slice(0, 8)} closed the channel`))
        }
      })
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
  }

  /** Starts the liveness watchdog if it is not running; it stops itself when nothing is in flight. */
  #watch (): void {
    if (this.#watchdog !== null || this.#stopped) return
    this.#checkedAt = this.#now()
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
    // a tick this late means this node's own event loop stalled (a long synchronous task, GC,
    // a starved CPU): timers run before the sockets are read, so what the peer sent meanwhile
    // is still unread. That time is no evidence of the peer's silence: it gets a window again
    const late = now - this.#checkedAt - LIVENESS_PROBE_MS / 2
    this.#checkedAt = now
    let inFlight = false
    for (const [peer, calls] of this.#calls) {
      const pending = calls.pending
      if (pending.size === 0) continue
      if (late >= LIVENESS_PROBE_MS) calls.graceUntil = Math.max(calls.graceUntil, now - LIVENESS_PROBE_MS)
      const quiet = now - Math.max(peer.heardAt, calls.graceUntil)
      if (quiet >= SILENCE_MS) {
        debug('executor', peer.state.key.slice(0, 8), 'silent for', quiet, 'ms (watchdog', late, 'ms late); failing', pending.size, 'calls')
        const gone = ShadwError.EXECUTOR_CLOSED(`executor ${peer.state.key.slice(0, 8)} went silent (nothing for ${quiet} ms)`)
        // a peer merely stalled must not go on running (and billing) what moves elsewhere
        for (const id of pending.keys()) peer.channel.send({ type: 'cancel', id })
        for (const p of pending.values()) p.reject(gone)
        pending.clear()
        // skipped from now on; a peer only stalled answers this probe and its advert clears it
        peer.state.full = true
        this.#peers.probe(peer)
        continue
      }
      inFlight = true
      if (quiet >= LIVENESS_PROBE_MS && now - calls.probedAt >= LIVENESS_PROBE_MS) {
        calls.probedAt = now
        this.#peers.probe(peer)
      }
    }
    if (!inFlight) this.#unwatch()
  }
}

import { ShadwError, deserializeError } from '../core/errors.ts'
import { log } from '../core/log.ts'
import type { NodeTier } from '../core/node/index.ts'
import { BRIDGE_CHANNEL, LEADER_LOCK, parseBridgeMessage, type BridgeEvent, type BridgeMethod, type BridgeMethods, type BridgeRequest, type BridgeStatus } from '../browser/bridge-protocol.ts'
import type { NodeWorkerInit, NodeWorkerReply } from '../browser/node-worker-protocol.ts'

const debug = log('client')

/** Default bound on one call to the node, hand-over included. */
export const DEFAULT_CALL_TIMEOUT_MS = 15_000
/** How often a waiting tab asks whether a node is up (status is idempotent, so asking again is safe). */
const READY_PROBE_MS = 500
/** A leader whose node failed to start (e.g. relay down) tries again after this long, doubling. */
const RESTART_BASE_MS = 1_000
const RESTART_MAX_MS = 15_000

export interface NodeClientOptions {
  relayUrl: string
  storageRoot?: string
  /** the tier the node starts as; a function is asked each time this tab starts a node (the contributor's saved choice) */
  tier?: NodeTier | (() => NodeTier)
  /**
   * execute functions for the swarm in this origin's node (the contributor's opt-in); a
   * function is asked each time this tab starts a node, so a tab that becomes leader later
   * starts with the choice made since (in any tab)
   */
  execute?: NodeWorkerInit['execute'] | (() => NodeWorkerInit['execute'])
  /** bytes of pinned drives the contributor offered to hold while the tab is open (capped by the quota) */
  diskBudget?: number
  /** makes the node worker; the app passes Vite's worker constructor */
  createWorker: () => Worker
  /**
   * Called with each node worker this tab starts (leader only); returns what undoes it when
   * the worker goes. The app wires the page side of direct WebRTC links here.
   */
  attachWorker?: (worker: Worker) => () => void
  channelName?: string
}

type Role = 'leader' | 'follower'

/**
 * A tab's handle on the origin's one node. Every tab contends for a Web Lock; the holder
 * hosts the node worker, and every tab talks to it over the bridge channel, so a hand-over
 * changes nothing for callers but a short wait. The holder itself, once its worker started,
 * calls it over a MessagePort of their own instead: no hop through the browser process, no
 * copy to every context, and no readiness probe before each call (its node is up as long as
 * the port is).
 */
export class NodeClient {
  readonly tabId = crypto.randomUUID()
  role: Role = 'follower'
  lastError: ShadwError | null = null
  readonly #opts: NodeClientOptions
  readonly #channel: BroadcastChannel
  readonly #pending = new Map<string, { resolve: (v: unknown) => void, reject: (e: unknown) => void }>()
  readonly #listeners = new Set<(event: BridgeEvent) => void>()
  #worker: Worker | null = null
  /** the leader's own port to its started worker's bridge */
  #direct: MessagePort | null = null
  #detachWorker: (() => void) | null = null
  #releaseLock: (() => void) | null = null
  #seq = 0
  /** when a node last answered this tab (ms): a call right after needs no readiness probe */
  #answeredAt = 0

  constructor (opts: NodeClientOptions) {
    this.#opts = opts
    this.#channel = new BroadcastChannel(opts.channelName ?? BRIDGE_CHANNEL)
    this.#channel.onmessage = (ev: MessageEvent) => { this.#onMessage(ev.data) }
  }

  /** Starts contending for leadership; resolves at once (the lock may come later). */
  start (): void {
    if (typeof navigator.locks?.request !== 'function') {
      this.lastError = ShadwError.STORAGE_UNAVAILABLE('Web Locks are not available: cannot elect a node host')
      return
    }
    navigator.locks.request(LEADER_LOCK, async () => {
      this.role = 'leader'
      debug('tab', this.tabId, 'is leader')
      // Held until the tab closes or stop() is called: releasing the lock hands the node over.
      await new Promise<void>(resolve => {
        this.#releaseLock = resolve
        this.#host().catch(err => { debug('hosting ended', err) })
      })
    }).catch(err => { debug('lock request failed', err) })
  }

  /** Stops hosting (if leader) and closes the channel. */
  stop (): void {
    this.#closeDirect()
    this.#detachWorker?.()
    this.#detachWorker = null
    this.#worker?.terminate()
    this.#worker = null
    this.#releaseLock?.()
    this.#releaseLock = null
    this.#channel.close()
    for (const p of this.#pending.values()) p.reject(ShadwError.NODE_CLOSED('client stopped'))
    this.#pending.clear()
  }

  /** Subscribes to node events (appends, peers, relay state); returns the unsubscribe. */
  onEvent (listener: (event: BridgeEvent) => void): () => void {
    this.#listeners.add(listener)
    return () => { this.#listeners.delete(listener) }
  }

  /** Waits until some tab's node answers; returns its status. */
  async ready (timeoutMs = DEFAULT_CALL_TIMEOUT_MS): Promise<BridgeStatus> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const left = deadline - Date.now()
      if (left <= 0) throw this.lastError ?? ShadwError.TIMEOUT('waiting for the node', timeoutMs)
      try {
        return await this.#send('status', {}, Math.min(READY_PROBE_MS, left))
      } catch (err) {
        if ((err as ShadwError).code !== 'TIMEOUT') throw err
      }
    }
  }

  /**
   * Calls the node, waiting for one to be up first. With `streaming`, the wait is skipped when
   * a node answered within the last probe interval, so a stream of calls (an upload's chunks)
   * costs one round trip each; a node lost meanwhile then fails the call with `TIMEOUT`
   * rather than waiting for the next leader.
   */
  async call<M extends BridgeMethod> (method: M, params: BridgeMethods[M]['params'], timeoutMs = DEFAULT_CALL_TIMEOUT_MS, opts: { streaming?: boolean } = {}): Promise<BridgeMethods[M]['result']> {
    const started = Date.now()
    if (this.#direct === null && (opts.streaming !== true || started - this.#answeredAt > READY_PROBE_MS)) await this.ready(timeoutMs)
    return await this.#send(method, params, Math.max(1, timeoutMs - (Date.now() - started)))
  }

  #send<M extends BridgeMethod> (method: M, params: BridgeMethods[M]['params'], timeoutMs: number): Promise<BridgeMethods[M]['result']> {
    const id = `${this.tabId}:${++this.#seq}`
    const request: BridgeRequest<M> = { type: 'request', id, method, params }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(ShadwError.TIMEOUT(`node call ${method}`, timeoutMs))
      }, timeoutMs)
      this.#pending.set(id, {
        resolve: v => { clearTimeout(timer); resolve(v as BridgeMethods[M]['result']) },
        reject: e => { clearTimeout(timer); reject(e) }
      })
      if (this.#direct !== null) this.#direct.postMessage(request)
      else this.#channel.postMessage(request)
    })
  }

  #closeDirect (): void {
    this.#direct?.close()
    this.#direct = null
  }

  #onMessage (data: unknown, direct = false): void {
    let msg
    try {
      msg = parseBridgeMessage(data)
    } catch {
      return
    }
    if (msg.type === 'response') {
      const pending = this.#pending.get(msg.id)
      if (pending === undefined) return
      this.#pending.delete(msg.id)
      this.#answeredAt = Date.now()
      if (msg.ok) pending.resolve(msg.result)
      else pending.reject(deserializeError(msg.error))
    } else if (msg.type === 'event') {
      // the leader takes its node's events from its port, in order with the answers there
      if (this.#direct !== null && !direct) return
      for (const listener of this.#listeners) listener(msg)
    }
  }

  /** Runs the node worker while this tab is leader, restarting it if it fails to start. */
  async #host (): Promise<void> {
    let delay = RESTART_BASE_MS
    while (this.#releaseLock !== null) {
      const worker = this.#opts.createWorker()
      this.#worker = worker
      const execute = typeof this.#opts.execute === 'function' ? this.#opts.execute() : this.#opts.execute
      const tier = typeof this.#opts.tier === 'function' ? this.#opts.tier() : this.#opts.tier
      const reply = await new Promise<NodeWorkerReply>(resolve => {
        worker.onmessage = (ev: MessageEvent) => { resolve(ev.data as NodeWorkerReply) }
        worker.onerror = (ev: ErrorEvent) => { resolve({ type: 'failed', error: { code: 'INTERNAL', message: `INTERNAL: node worker crashed: ${ev.message}` } }) }
        const init: NodeWorkerInit = {
          type: 'init',
          relayUrl: this.#opts.relayUrl,
          storageRoot: this.#opts.storageRoot ?? 'shadw',
          leader: this.tabId,
          tier: tier ?? 'shadow',
          debug: readDebugSetting(),
          ...(execute === undefined ? {} : { execute }),
          ...(this.#opts.diskBudget === undefined ? {} : { diskBudget: this.#opts.diskBudget })
        }
        worker.postMessage(init)
        this.#detachWorker = this.#opts.attachWorker?.(worker) ?? null
      })
      if (reply.type === 'started') {
        const { port1, port2 } = new MessageChannel()
        port1.onmessage = (ev: MessageEvent) => { this.#onMessage(ev.data, true) }
        worker.postMessage({ type: 'bridge', port: port2 }, [port2])
        this.#direct = port1
        // an uncaught error in the worker does not stop it: its port stays, and so do the
        // answers to calls already sent on it (closing it here would time them out, though
        // what they asked for may have been done)
        worker.onerror = (ev: ErrorEvent) => { debug('node worker error', ev.message) }
        this.lastError = null
        debug('node started', reply.status.publicKey)
        return
      }
      this.lastError = deserializeError(reply.error)
      debug('node failed to start', this.lastError.code)
      this.#detachWorker?.()
      this.#detachWorker = null
      worker.terminate()
      this.#worker = null
      for (const listener of this.#listeners) listener({ type: 'event', name: 'stopped', data: reply.error })
      await new Promise(resolve => setTimeout(resolve, delay))
      delay = Math.min(delay * 2, RESTART_MAX_MS)
    }
  }
}

function readDebugSetting (): string {
  try {
    return localStorage.getItem('shadwDebug') ?? ''
  } catch {
    return ''
  }
}

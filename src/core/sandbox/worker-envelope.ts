/**
 * The envelope around sandbox requests and replies between a {@link WorkerPool} and its
 * workers, shared by both hosts (worker_threads, Web Workers). Messages go over the port
 * directly (no RPC library): calls sent in one tick travel as one array, each reply as one
 * message, and only large outputs are moved rather than copied. A per-call RPC layer
 * (comlink, as the browser pool once used) costs a message, a proxy and a transfer list per
 * call, which held the browser pool to a third of the Node pool's trivial calls.
 */
import { deserializeError, serializeError, ShadwError, type SerializedError } from '../errors.ts'
import type { PoolWorker } from './worker-pool.ts'
import type { WorkerReply, WorkerRequest } from './protocol.ts'

/** Worker → pool, once, when the entry module has loaded and listens. */
export const READY_MESSAGE = 'shadw-executor-ready'

/** Pool → worker: one call; calls made in the same tick travel as an array of these. */
export interface CallMessage { id: number, req: WorkerRequest }

/** Worker → pool. */
export type ReplyMessage =
  | { id: number, ok: true, reply: unknown }
  | { id: number, ok: false, error: SerializedError }

/** Below 64 KiB a structured-clone copy is cheaper than detaching and moving the buffer. */
export const TRANSFER_THRESHOLD_BYTES = 64 * 1024

/** Validates a worker's envelope; the reply inside is validated by the pool. */
export function parseReplyMessage (v: unknown): { id: number, reply?: unknown, error?: ShadwError } {
  if (typeof v !== 'object' || v === null) throw ShadwError.INTERNAL('worker sent a non-object message')
  const m = v as Record<string, unknown>
  if (typeof m['id'] !== 'number') throw ShadwError.INTERNAL('worker message lacks an id')
  if (m['ok'] === true) return { id: m['id'], reply: m['reply'] }
  return { id: m['id'], error: deserializeError(m['error']) }
}

/** What the pool side needs of a worker: its host's message port and termination. */
export interface WorkerPort {
  postMessage (msg: unknown): void
  terminate (): void | Promise<void>
}

/**
 * The pool side of one worker, for either host: the host's adapter forwards the worker's
 * messages to {@link onmessage} and its crash or exit to {@link fail}.
 */
export class PortPoolWorker implements PoolWorker {
  dead = false
  readonly ready: Promise<void>
  #markReady: () => void = () => {}
  readonly #port: WorkerPort
  readonly #pending = new Map<number, { resolve (v: unknown): void, reject (e: unknown): void }>()
  #nextId = 0
  // calls sent in one tick (the pool pipelines several per worker) share one message
  #outbox: CallMessage[] = []

  constructor (port: WorkerPort) {
    this.#port = port
    this.ready = new Promise(resolve => { this.#markReady = resolve })
  }

  /** A message from the worker. */
  onmessage (msg: unknown): void {
    if (msg === READY_MESSAGE) return this.#markReady()
    let parsed
    try {
      parsed = parseReplyMessage(msg)
    } catch (err) {
      return this.fail(err)
    }
    const p = this.#pending.get(parsed.id)
    if (p === undefined) return
    this.#pending.delete(parsed.id)
    if (parsed.error !== undefined) p.reject(parsed.error)
    else p.resolve(parsed.reply)
  }

  /** The worker crashed, exited or sent garbage: its calls fail and the pool replaces it. */
  fail (err: unknown): void {
    this.dead = true
    for (const p of this.#pending.values()) p.reject(err)
    this.#pending.clear()
  }

  async call (req: WorkerRequest): Promise<unknown> {
    if (this.dead) throw ShadwError.INTERNAL('executor worker is dead')
    const id = this.#nextId++
    return await new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject })
      this.#outbox.push({ id, req })
      if (this.#outbox.length === 1) queueMicrotask(() => { this.#flush() })
    })
  }

  #flush (): void {
    const batch = this.#outbox
    this.#outbox = []
    if (!this.dead && batch.length > 0) this.#port.postMessage(batch)
  }

  async terminate (): Promise<void> {
    this.dead = true
    this.#pending.clear()
    await this.#port.terminate()
  }
}

/** What the worker side needs: the runtime's `execute`, and its host's `postMessage`. */
export interface CallServer {
  execute (req: unknown): Promise<WorkerReply>
  post (msg: ReplyMessage, transfer: ArrayBuffer[]): void
}

/**
 * Handles one message from the pool on the worker side: each call runs (the runtime keeps
 * them in order) and is answered on its own, so a slow call never holds back the replies of
 * the calls before it.
 */
export function serveCalls (server: CallServer, batch: unknown): void {
  if (!Array.isArray(batch)) return
  for (const msg of batch) {
    const id = typeof msg === 'object' && msg !== null ? (msg as { id?: unknown }).id : undefined
    if (typeof id !== 'number') continue
    server.execute((msg as { req?: unknown }).req).then(reply => {
      const out: ReplyMessage = { id, ok: true, reply: reply.kind === 'done' && reply.stderr.length === 0 ? { ...reply, stderr: undefined } : reply }
      // moving a buffer costs more than copying a small one: transfer only large outputs
      const transfer = reply.kind === 'done' && reply.output.byteLength >= TRANSFER_THRESHOLD_BYTES ? [reply.output.buffer as ArrayBuffer] : []
      server.post(out, transfer)
    }, (err: unknown) => {
      server.post({ id, ok: false, error: serializeError(err) }, [])
    })
  }
}

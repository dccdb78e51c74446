/**
 * The executor pool shared by the browser and Node adapters: a fixed number of workers, a
 * bounded FIFO queue, per-call deadlines and abort, and respawning.
 *
 * A worker runs one call at a time, so a deadline or abort can terminate it without taking
 * other calls down. A terminated worker's reply never arrives: each call's promise is settled
 * by whichever comes first (reply, deadline, abort, crash, close) and later events for it are
 * ignored, so nothing is left pending and the pool stays at its size.
 */
import { ShadwError } from '../core/errors.ts'
import type { ExecuteCall, ExecuteOptions, ExecuteResult, Executor, ExecutionLimits } from './executor.ts'
import { clearTimer, sha256Hex, startTimer } from './host.ts'
import { resolveLimits } from './limits.ts'
import { MAX_ARG_LENGTH, MAX_ARGS, parseWorkerReply, type WorkerRequest } from './protocol.ts'

/** One live worker, as an adapter exposes it. */
export interface PoolWorker {
  /**
   * Sends a request and resolves with the worker's raw reply (validated by the pool), or
   * rejects with a ShadwError. It may never settle if the worker is stuck.
   */
  call (req: WorkerRequest): Promise<unknown>
  /** True once the worker died on its own (crash, exit); the pool then replaces it. */
  readonly dead: boolean
  terminate (): void | Promise<void>
}

/** Options of a {@link WorkerPool}. */
export interface WorkerPoolOptions {
  /** Number of workers: the contributor's CPU budget. */
  size: number
  /** Calls allowed to wait for a worker before new ones are refused with BUSY. */
  maxQueue?: number
  /** Default limits for calls that set none. */
  limits?: Partial<ExecutionLimits>
  /** Starts one worker. */
  spawn (): PoolWorker
}

/** Queue length per worker by default: enough to hide round trips, short enough to shed load. */
export const DEFAULT_QUEUE_PER_WORKER = 64
/** Upper bound on pool size: more workers than this only thrash. */
export const MAX_POOL_SIZE = 256

interface Slot { worker: PoolWorker, busy: boolean, known: Set<string> }

interface Job {
  hash: string
  bytes: Uint8Array
  req: Omit<WorkerRequest, 'bytes'>
  signal: ExecuteOptions['signal']
  resolve (r: ExecuteResult): void
  reject (e: unknown): void
}

interface ModuleRef { hash: string, bytes: Uint8Array }

/** A pool of sandbox workers implementing {@link Executor}. */
export class WorkerPool implements Executor {
  readonly size: number
  readonly maxQueue: number
  private readonly defaults: ExecutionLimits
  private readonly spawn: () => PoolWorker
  private readonly slots: Slot[] = []
  private readonly queue: Job[] = []
  private readonly inflight = new Set<() => void>()
  // keyed by the caller's array: a module passed again by reference is not re-hashed
  private readonly modules = new WeakMap<Uint8Array, Promise<ModuleRef>>()
  private closed = false

  constructor (opts: WorkerPoolOptions) {
    if (!Number.isInteger(opts.size) || opts.size < 1 || opts.size > MAX_POOL_SIZE) {
      throw ShadwError.INVALID_ARGUMENT(`pool size must be 1..${MAX_POOL_SIZE}, got ${opts.size}`)
    }
    const maxQueue = opts.maxQueue ?? opts.size * DEFAULT_QUEUE_PER_WORKER
    if (!Number.isInteger(maxQueue) || maxQueue < 0) throw ShadwError.INVALID_ARGUMENT('maxQueue must be a non-negative integer')
    this.size = opts.size
    this.maxQueue = maxQueue
    this.defaults = resolveLimits(opts.limits)
    this.spawn = opts.spawn
    for (let i = 0; i < opts.size; i++) this.slots.push({ worker: this.spawn(), busy: false, known: new Set() })
  }

  /** Calls waiting for a worker. */
  get queued (): number {
    return this.queue.length
  }

  async execute (call: ExecuteCall, options: ExecuteOptions = {}): Promise<ExecuteResult> {
    if (this.closed) throw ShadwError.EXECUTOR_CLOSED()
    const req = this.validate(call)
    const ref = await this.moduleRef(call.module)
    const signal = options.signal
    if (signal?.aborted === true) throw ShadwError.ABORTED()
    if (this.closed) throw ShadwError.EXECUTOR_CLOSED()
    return await new Promise<ExecuteResult>((resolve, reject) => {
      const job: Job = { hash: ref.hash, bytes: ref.bytes, req: { ...req, hash: ref.hash }, signal, resolve, reject }
      const slot = this.slots.find(s => !s.busy)
      if (slot !== undefined) return this.run(slot, job)
      if (this.queue.length >= this.maxQueue) return reject(ShadwError.BUSY(this.queue.length))
      this.queue.push(job)
      if (signal !== undefined) {
        const onAbort = (): void => {
          const i = this.queue.indexOf(job)
          if (i >= 0) { this.queue.splice(i, 1); reject(ShadwError.ABORTED()) }
        }
        signal.addEventListener('abort', onAbort, { once: true })
      }
    })
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const job of this.queue.splice(0)) job.reject(ShadwError.EXECUTOR_CLOSED('executor closed before the call ran'))
    for (const cancel of [...this.inflight]) cancel()
    await Promise.all(this.slots.map(async s => { await s.worker.terminate() }))
  }

  private validate (call: ExecuteCall): Omit<WorkerRequest, 'hash' | 'bytes'> {
    if (typeof call !== 'object' || call === null) throw ShadwError.INVALID_ARGUMENT('call must be an object')
    if (!(call.module instanceof Uint8Array)) throw ShadwError.INVALID_ARGUMENT('module must be a Uint8Array')
    if (call.abi !== 'raw' && call.abi !== 'wasi') throw ShadwError.INVALID_ARGUMENT('abi must be "raw" or "wasi"')
    const input = call.input ?? new Uint8Array(0)
    if (!(input instanceof Uint8Array)) throw ShadwError.INVALID_ARGUMENT('input must be a Uint8Array')
    const limits = resolveLimits(call.limits, this.defaults)
    if (input.length > limits.maxInputBytes) throw ShadwError.INPUT_TOO_LARGE(input.length, limits.maxInputBytes)
    const list = (v: unknown, what: string): string[] => {
      if (v === undefined) return []
      if (!Array.isArray(v) || v.length > MAX_ARGS || v.some(s => typeof s !== 'string' || s.length > MAX_ARG_LENGTH)) {
        throw ShadwError.INVALID_ARGUMENT(`${what} must be at most ${MAX_ARGS} strings of at most ${MAX_ARG_LENGTH} characters`)
      }
      return v as string[]
    }
    const seed = call.seed ?? 0
    if (!Number.isSafeInteger(seed) || seed < 0) throw ShadwError.INVALID_ARGUMENT('seed must be a non-negative safe integer')
    return { abi: call.abi, input, args: list(call.args, 'args'), env: list(call.env, 'env'), seed, limits }
  }

  private async moduleRef (module: Uint8Array): Promise<ModuleRef> {
    let ref = this.modules.get(module)
    if (ref === undefined) {
      const bytes = module.slice()
      ref = sha256Hex(bytes).then(hash => ({ hash, bytes }))
      this.modules.set(module, ref)
    }
    return await ref
  }

  private replace (slot: Slot): void {
    void Promise.resolve(slot.worker.terminate()).catch(() => {})
    slot.known = new Set()
    if (!this.closed) slot.worker = this.spawn()
  }

  private run (slot: Slot, job: Job): void {
    slot.busy = true
    const worker = slot.worker
    const deadline = job.req.limits.deadlineMs
    let settled = false
    const finish = (err: unknown, result?: ExecuteResult): void => {
      if (settled) return
      settled = true
      clearTimer(timer)
      job.signal?.removeEventListener('abort', onAbort)
      this.inflight.delete(onClose)
      slot.busy = false
      if (err !== undefined) job.reject(err)
      else job.resolve(result as ExecuteResult)
      this.pump()
    }
    const kill = (err: ShadwError): void => {
      if (settled) return
      this.replace(slot)
      finish(err)
    }
    const onAbort = (): void => kill(ShadwError.ABORTED())
    const onClose = (): void => kill(ShadwError.EXECUTOR_CLOSED('executor closed during the call'))
    const timer = startTimer(() => kill(ShadwError.DEADLINE_EXCEEDED(deadline)), deadline)
    job.signal?.addEventListener('abort', onAbort, { once: true })
    this.inflight.add(onClose)
    const send = (withBytes: boolean): void => {
      const req: WorkerRequest = withBytes ? { ...job.req, bytes: job.bytes } : job.req as WorkerRequest
      worker.call(req).then(raw => {
        if (settled) return
        const reply = parseWorkerReply(raw)
        if (reply.kind === 'need-module') {
          slot.known.delete(job.hash)
          if (withBytes) throw ShadwError.INTERNAL('worker asked again for a module it was sent')
          send(true)
          return
        }
        slot.known.add(job.hash)
        finish(undefined, {
          output: reply.output,
          fuelUsed: reply.fuelUsed,
          exitCode: reply.exitCode,
          stderr: reply.stderr,
          moduleHash: job.hash,
          durationMs: reply.durationMs
        })
      }).catch((err: unknown) => {
        if (settled) return
        if (worker.dead && slot.worker === worker) this.replace(slot)
        finish(err instanceof ShadwError ? err : ShadwError.INTERNAL(String(err), err))
      })
    }
    send(!slot.known.has(job.hash))
  }

  private pump (): void {
    while (this.queue.length > 0) {
      const slot = this.slots.find(s => !s.busy)
      if (slot === undefined) return
      const job = this.queue.shift() as Job
      if (job.signal?.aborted === true) { job.reject(ShadwError.ABORTED()); continue }
      this.run(slot, job)
    }
  }
}

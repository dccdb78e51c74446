/**
 * The executor pool shared by the browser and Node adapters: a fixed number of workers, a
 * bounded FIFO queue, per-call deadlines and abort, and respawning.
 *
 * Each worker runs calls one at a time, in order, but the pool keeps up to
 * {@link PIPELINE_DEPTH} calls in flight per worker so a worker never idles waiting for the
 * next message: that round trip, not the call, dominates a trivial invocation. A call's
 * deadline is armed when it reaches the head of its worker's line (when the call before it
 * answered), so it measures the call's own run, and a call waiting behind a stuck one is
 * never blamed for it. At a deadline the worker is terminated and replaced, the call at the
 * head fails with DEADLINE_EXCEEDED, and the calls behind it go back to the front of the
 * queue: they never started. A terminated worker's replies never arrive, so every call's
 * promise is settled by whichever comes first (reply, deadline, abort, crash, close) and
 * later events for it are ignored: nothing is left pending and the pool stays at its size.
 */
import { ShadwError } from '../errors.ts'
import type { ExecuteCall, ExecuteOptions, ExecuteResult, Executor, ExecutionLimits } from './executor.ts'
import { log } from '../log.ts'
import { clearTimer, sha256Hex, startTimer } from './host.ts'
import { MAX_MODULE_BYTES, resolveLimits } from './limits.ts'
import { InlineRunner, type InlineOptions } from './inline-runner.ts'
import { MAX_ARG_LENGTH, MAX_ARGS, parseWorkerReply, type WorkerRequest } from './protocol.ts'
import { parsePreopens, parseScratchBytes } from './wasi-preopens.ts'
import { lazyFileCount, prefetchLazyFiles } from './call-files.ts'
import { canShareMemory, ChannelServer, createChannelBuffer, type FileSource } from './file-channel.ts'

/** One live worker, as an adapter exposes it. */
export interface PoolWorker {
  /**
   * Sends a request and resolves with the worker's raw reply (validated by the pool), or
   * rejects with a ShadwError. It may never settle if the worker is stuck.
   */
  call (req: WorkerRequest): Promise<unknown>
  /** True once the worker died on its own (crash, exit); the pool then replaces it. */
  readonly dead: boolean
  /**
   * Resolves when the worker has loaded and can run calls. Deadlines are armed only after
   * it, so a worker's start-up (loading its script, hundreds of ms under tsx) is never
   * charged to the call that happens to wait for it.
   */
  readonly ready: Promise<void>
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
  /** Starts one worker; `respawn` when it replaces one that died or was stopped (a deadline, a memory cap). */
  spawn (respawn: boolean): PoolWorker
  /**
   * Runs small raw-ABI calls on this thread while no worker has work ({@link InlineRunner});
   * for a node whose thread can spare a fraction of a millisecond per call. Default off.
   */
  inline?: InlineOptions | boolean
  /**
   * Whether the workers can block on memory shared with this thread, so that a call's lazy
   * files are fetched while it runs (file-channel.ts); otherwise they are fetched whole
   * before it. Default: whether this thread can share memory ({@link canShareMemory}).
   */
  sharedMemory?: boolean
}

/** Queue length per worker by default: enough to hide round trips, short enough to shed load. */
export const DEFAULT_QUEUE_PER_WORKER = 64
/** Upper bound on pool size: more workers than this only thrash. */
export const MAX_POOL_SIZE = 256

const debug = log('sandbox')

/**
 * Calls in flight per worker: enough that a worker never idles waiting for a message and
 * that trivial calls travel several to a message (each message costs a structured clone and
 * a thread wake-up); a deeper line only means more calls requeued when a worker is replaced.
 */
export const PIPELINE_DEPTH = 16
/**
 * A worker's line is topped up only once it is down to this many calls, and then filled to
 * {@link PIPELINE_DEPTH} in one go: the calls sent in one tick travel in one message, and
 * their results come back in a burst that the caller can commit together. Refilling after
 * every answer would send one call per message, each paying the whole message cost.
 */
export const PIPELINE_REFILL_AT = 4

interface Job {
  hash: string
  bytes: Uint8Array
  req: Omit<WorkerRequest, 'bytes'>
  signal: ExecuteOptions['signal']
  settled: boolean
  onAbort: (() => void) | undefined
  /** serves the call's lazy files while it is queued or running */
  files: ChannelServer | undefined
  resolve (r: ExecuteResult): void
  reject (e: unknown): void
}

/** A job in a worker's line; `timer` is its deadline, armed at the head of the line. */
interface Entry { job: Job, timer: unknown, armed: boolean, withBytes: boolean }

/** A worker seat; a `draining` one takes no new calls and goes away once its line is empty. */
interface Slot { worker: PoolWorker, ready: boolean, line: Entry[], known: Set<string>, draining: boolean }

interface ModuleRef { hash: string, bytes: Uint8Array }

/** A pool of sandbox workers implementing {@link Executor}. */
export class WorkerPool implements Executor {
  private target: number
  readonly maxQueue: number
  private readonly defaults: ExecutionLimits
  private readonly spawn: (respawn: boolean) => PoolWorker
  private readonly slots: Slot[] = []
  private readonly queue: Job[] = []
  // keyed by the caller's array: a module passed again by reference is not re-hashed
  private readonly modules = new WeakMap<Uint8Array, Promise<ModuleRef>>()
  /** the same once hashed: a warm call takes its module without an await */
  private readonly hashed = new WeakMap<Uint8Array, ModuleRef>()
  private closed = false
  /** set when calls may run on this thread */
  readonly inline: InlineRunner | undefined
  /** true when calls' lazy files are fetched while they run, not before */
  readonly sharedMemory: boolean

  constructor (opts: WorkerPoolOptions) {
    if (!Number.isInteger(opts.size) || opts.size < 1 || opts.size > MAX_POOL_SIZE) {
      throw ShadwError.INVALID_ARGUMENT(`pool size must be 1..${MAX_POOL_SIZE}, got ${opts.size}`)
    }
    const maxQueue = opts.maxQueue ?? opts.size * DEFAULT_QUEUE_PER_WORKER
    if (!Number.isInteger(maxQueue) || maxQueue < 0) throw ShadwError.INVALID_ARGUMENT('maxQueue must be a non-negative integer')
    this.target = opts.size
    this.maxQueue = maxQueue
    this.defaults = resolveLimits(opts.limits)
    this.spawn = opts.spawn
    this.sharedMemory = opts.sharedMemory ?? canShareMemory()
    this.inline = opts.inline === undefined || opts.inline === false ? undefined : new InlineRunner(opts.inline === true ? {} : opts.inline)
    for (let i = 0; i < opts.size; i++) this.addSlot()
  }

  /** Number of workers the pool keeps (workers being drained after a shrink excluded). */
  get size (): number {
    return this.target
  }

  /**
   * Changes the number of workers, e.g. when the contributor moves their CPU budget. New
   * workers start at once; removed ones take no new calls and stop when their calls are done.
   */
  resize (size: number): void {
    if (this.closed) throw ShadwError.EXECUTOR_CLOSED()
    if (!Number.isInteger(size) || size < 1 || size > MAX_POOL_SIZE) {
      throw ShadwError.INVALID_ARGUMENT(`pool size must be 1..${MAX_POOL_SIZE}, got ${size}`)
    }
    this.target = size
    const active = this.slots.filter(s => !s.draining)
    for (let i = active.length; i < size; i++) this.addSlot()
    // idle workers go first, then the least loaded
    const excess = active.sort((a, b) => a.line.length - b.line.length).slice(0, Math.max(0, active.length - size))
    for (const slot of excess) {
      slot.draining = true
      if (slot.line.length === 0) this.removeSlot(slot)
    }
    this.pump()
  }

  private addSlot (): void {
    const slot: Slot = { worker: this.spawn(false), ready: false, line: [], known: new Set(), draining: false }
    this.slots.push(slot)
    this.watchReady(slot)
  }

  private removeSlot (slot: Slot): void {
    const i = this.slots.indexOf(slot)
    if (i >= 0) this.slots.splice(i, 1)
    void Promise.resolve(slot.worker.terminate()).catch(() => {})
  }

  /** Calls accepted but not yet running: in the queue or behind another in a worker's line. */
  get queued (): number {
    let n = this.queue.length
    // an aborted call still in a line is settled: its worker will pass over it quickly
    for (const s of this.slots) n += s.line.slice(1).filter(e => !e.job.settled).length
    return n
  }

  async execute (call: ExecuteCall, options: ExecuteOptions = {}): Promise<ExecuteResult> {
    if (this.closed) throw ShadwError.EXECUTOR_CLOSED()
    const req = this.validate(call)
    const ref = this.hashed.get(call.module) ?? await this.moduleRef(call.module)
    const signal = options.signal
    if (signal?.aborted === true) throw ShadwError.ABORTED()
    if (this.closed) throw ShadwError.EXECUTOR_CLOSED()
    const lazy = lazyFileCount(req.preopens)
    let files: FileSource | undefined
    if (lazy > 0) {
      if (typeof call.files?.read !== 'function') throw ShadwError.INVALID_ARGUMENT('preopens with lazy files need a file source')
      if (this.sharedMemory) {
        files = call.files
        req.files = createChannelBuffer()
      } else {
        req.fileBytes = await prefetchLazyFiles(req.preopens ?? [], call.files, signal)
        // the fetch took time: the call may have been aborted meanwhile
        if ((signal as ExecuteOptions['signal'])?.aborted === true) throw ShadwError.ABORTED()
        if (this.closed) throw ShadwError.EXECUTOR_CLOSED()
      }
    }
    // only while no worker has work: under load the workers' cores do it, not this thread
    if (this.inline !== undefined && this.queue.length === 0 && this.slots.every(s => s.line.length === 0)) {
      const done = this.inline.tryRun({ ...req, hash: ref.hash }, ref.bytes)
      if (done !== null) return done
    }
    return await new Promise<ExecuteResult>((resolve, reject) => {
      const job: Job = { hash: ref.hash, bytes: ref.bytes, req: { ...req, hash: ref.hash }, signal, settled: false, onAbort: undefined, files: undefined, resolve, reject }
      // waiting calls count against maxQueue wherever they wait (pool queue or a worker's
      // line), so BUSY means every worker is occupied and maxQueue calls are waiting
      const idle = this.slots.find(s => !s.draining && s.line.length === 0)
      if (idle === undefined && this.queued >= this.maxQueue) return reject(ShadwError.BUSY(this.queued))
      // served from now until the call settles, however it ends
      if (files !== undefined && req.files !== undefined) job.files = new ChannelServer(req.files, async (id, offset, length) => await files.read(id, offset, length), lazy)
      if (signal !== undefined) {
        job.onAbort = () => this.abort(job)
        signal.addEventListener('abort', job.onAbort, { once: true })
      }
      if (idle !== undefined) this.send(idle, job, !idle.known.has(job.hash))
      else this.queue.push(job)
      this.pump()
    })
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    for (const job of this.queue.splice(0)) this.settle(job, ShadwError.EXECUTOR_CLOSED('executor closed before the call ran'))
    for (const slot of this.slots) {
      for (const e of slot.line.splice(0)) {
        clearTimer(e.timer)
        this.settle(e.job, ShadwError.EXECUTOR_CLOSED('executor closed during the call'))
      }
    }
    await Promise.all(this.slots.map(async s => { await s.worker.terminate() }))
  }

  private validate (call: ExecuteCall): Omit<WorkerRequest, 'hash' | 'bytes'> {
    if (typeof call !== 'object' || call === null) throw ShadwError.INVALID_ARGUMENT('call must be an object')
    if (!(call.module instanceof Uint8Array)) throw ShadwError.INVALID_ARGUMENT('module must be a Uint8Array')
    if (call.module.length > MAX_MODULE_BYTES) throw ShadwError.INVALID_MODULE(`module of ${call.module.length} bytes exceeds ${MAX_MODULE_BYTES}`)
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
    // a message to a worker copies the whole buffer under a view: an input sliced out of a
    // network frame would carry its 64 KiB receive buffer along on every call
    const own = input.byteOffset === 0 && input.byteLength === input.buffer.byteLength ? input : new Uint8Array(input)
    const req: Omit<WorkerRequest, 'hash' | 'bytes'> = { abi: call.abi, input: own, args: list(call.args, 'args'), env: list(call.env, 'env'), seed, limits }
    const preopens = parsePreopens(call.preopens)
    if (preopens.length > 0) req.preopens = preopens
    const scratch = parseScratchBytes(call.scratchBytes)
    if (scratch !== undefined) req.scratchBytes = scratch
    return req
  }

  private async moduleRef (module: Uint8Array): Promise<ModuleRef> {
    let ref = this.modules.get(module)
    if (ref === undefined) {
      // new Uint8Array copies; a Node Buffer's slice() would be a view of the caller's memory
      const bytes = new Uint8Array(module)
      ref = sha256Hex(bytes).then(hash => {
        const r = { hash, bytes }
        this.hashed.set(module, r)
        return r
      })
      this.modules.set(module, ref)
    }
    return await ref
  }

  private settle (job: Job, err: unknown, result?: ExecuteResult): void {
    if (job.settled) return
    job.settled = true
    job.files?.close()
    if (job.onAbort !== undefined) job.signal?.removeEventListener('abort', job.onAbort)
    if (err !== undefined) job.reject(err)
    else job.resolve(result as ExecuteResult)
  }

  private abort (job: Job): void {
    const q = this.queue.indexOf(job)
    if (q >= 0) this.queue.splice(q, 1)
    const slot = this.slots.find(s => s.line[0]?.job === job)
    // only the running call needs its worker killed; one still waiting in a worker's line
    // is settled now and its reply, when it comes, ignored
    if (slot !== undefined) this.kill(slot, ShadwError.ABORTED())
    else this.settle(job, ShadwError.ABORTED())
  }

  /** Terminates the slot's worker: the head fails with `err`, the rest are requeued. */
  private kill (slot: Slot, err: ShadwError): void {
    const line = slot.line.splice(0)
    for (const e of line) clearTimer(e.timer)
    const [head, ...rest] = line
    debug('replacing a worker: %s; requeueing %d calls', err.code, rest.length)
    if (head !== undefined) this.settle(head.job, err)
    slot.known = new Set()
    if (slot.draining) {
      this.removeSlot(slot)
    } else {
      void Promise.resolve(slot.worker.terminate()).catch(() => {})
    }
    if (this.closed) return
    this.queue.unshift(...rest.map(e => e.job).filter(j => !j.settled))
    if (slot.draining) {
      this.pump()
      return
    }
    slot.worker = this.spawn(true)
    slot.ready = false
    this.watchReady(slot)
    this.pump()
  }

  private watchReady (slot: Slot): void {
    const worker = slot.worker
    worker.ready.then(() => {
      if (slot.worker !== worker) return
      slot.ready = true
      this.arm(slot)
    }, () => {})
  }

  private arm (slot: Slot): void {
    const head = slot.line[0]
    if (head === undefined || head.armed || !slot.ready) return
    head.armed = true
    const ms = head.job.req.limits.deadlineMs
    head.timer = startTimer(() => { if (slot.line[0] === head) this.kill(slot, ShadwError.DEADLINE_EXCEEDED(ms)) }, ms)
  }

  /** Removes `entry` from its line once its worker answered; arms the new head. */
  private retire (slot: Slot, entry: Entry): void {
    const i = slot.line.indexOf(entry)
    if (i >= 0) slot.line.splice(i, 1)
    clearTimer(entry.timer)
    this.arm(slot)
    if (slot.draining && slot.line.length === 0) this.removeSlot(slot)
  }

  private send (slot: Slot, job: Job, withBytes: boolean): void {
    const entry: Entry = { job, timer: undefined, armed: false, withBytes }
    if (withBytes) slot.known.add(job.hash)
    slot.line.push(entry)
    this.arm(slot)
    const worker = slot.worker
    const req: WorkerRequest = withBytes ? { ...job.req, bytes: job.bytes } : job.req as WorkerRequest
    const current = (): boolean => slot.worker === worker && slot.line.includes(entry)
    worker.call(req).then(raw => {
      if (!current()) return
      this.retire(slot, entry)
      const reply = parseWorkerReply(raw)
      if (reply.kind === 'need-module') {
        slot.known.delete(job.hash)
        if (withBytes) throw ShadwError.INTERNAL('worker asked again for a module it was sent')
        if (job.settled) return
        // retire() may just have removed a draining slot and terminated its worker, which
        // would never answer: such a call goes back to the front of the queue instead
        if (slot.draining) this.queue.unshift(job)
        else this.send(slot, job, true)
        return
      }
      this.settle(job, undefined, {
        output: reply.output,
        fuelUsed: reply.fuelUsed,
        exitCode: reply.exitCode,
        stderr: reply.stderr,
        moduleHash: job.hash,
        durationMs: reply.durationMs
      })
    }).catch((err: unknown) => {
      const error = err instanceof ShadwError ? err : ShadwError.INTERNAL(String(err), err)
      if (!current()) {
        // a reply that failed validation after retire() still belongs to this job
        if (slot.worker === worker) this.settle(job, error)
        return
      }
      if (withBytes) slot.known.delete(job.hash)
      this.retire(slot, entry)
      this.settle(job, error)
      if (worker.dead) this.kill(slot, ShadwError.INTERNAL('executor worker died'))
    }).finally(() => this.pump())
  }

  private pump (): void {
    // slots low enough to be topped up now; they are then filled to the depth in one go
    let open: Slot[] | undefined
    while (this.queue.length > 0 && !this.closed) {
      open ??= this.slots.filter(s => !s.draining && s.line.length <= PIPELINE_REFILL_AT)
      // pipelining a call moves it from the queue into a line; it stays counted as waiting
      let best: Slot | undefined
      for (const s of open) {
        if (!s.draining && s.line.length < PIPELINE_DEPTH && (best === undefined || s.line.length < best.line.length)) best = s
      }
      if (best === undefined) return
      const job = this.queue.shift() as Job
      if (job.settled) continue
      this.send(best, job, !best.known.has(job.hash))
    }
  }
}

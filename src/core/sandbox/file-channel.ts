/**
 * How a worker reads file bytes its host fetches during the call. WASI host calls are
 * synchronous: a module's `fd_read` cannot await a network fetch. So the worker and its host
 * share one small block of memory (a SharedArrayBuffer) per call: the worker writes a request
 * (file, offset, length) into it, wakes the host and blocks in `Atomics.wait`; the host,
 * woken by `Atomics.waitAsync`, fetches the range (from a drive, verified by Hypercore as
 * every block is), copies it into the block and wakes the worker.
 *
 * Written here rather than taken from a library (e.g. synclink, comlink's sync variants):
 * those carry arbitrary messages through the shared memory and poll; this carries one kind of
 * request, needs no serialization, and must bound every wait by the call's deadline.
 *
 * A worker never waits past its call's deadline: a request not answered by then ends the call
 * with DEADLINE_EXCEEDED, as the pool's own timer would (the guest never runs on with an
 * answer it did not get), and the channel is broken. The host answers a failed or
 * timed-out fetch with EIO.
 *
 * Shared memory needs `SharedArrayBuffer` and `Atomics.waitAsync`: always there in Node
 * worker_threads; in browsers only on cross-origin isolated pages ({@link canShareMemory}).
 */
import { ShadwError } from '../errors.ts'
import { clearTimer, nowMs, startTimer } from './host.ts'
import { ERRNO } from './wasi-defs.ts'
import { FsError } from './wasi-fs-tree.ts'

/** Most bytes one request moves: the size of the shared block's data window. */
export const WINDOW_BYTES = 1024 * 1024
/** Header: state, request sequence, answer sequence, file, length, result, then the offset. */
const HEADER_BYTES = 64
/** Bytes of the shared block a call gets. */
export const CHANNEL_BYTES = HEADER_BYTES + WINDOW_BYTES
/** Longest a host spends on one fetch before answering EIO. */
export const FETCH_TIMEOUT_MS = 30_000
/**
 * Longest a worker sleeps in one `Atomics.wait` before it looks at the clock again: a
 * terminated worker then stops within this, whatever the engine does with a blocked wait.
 */
const WAIT_SLICE_MS = 250

const STATE = 0
const REQ_SEQ = 1
const ANS_SEQ = 2
const FILE = 3
const LENGTH = 4
const RESULT = 5
/** Float64 index of the offset (byte 48). */
const OFFSET = 6

const IDLE = 0
const REQUEST = 1
const DONE = 2
const FAILED = 3
const CLOSED = 4

/** Fetches `length` bytes (fewer only at the file's end) of file `id` from `offset`. */
export type FileRead = (id: number, offset: number, length: number) => Promise<Uint8Array>

/** Reads a range of an on-demand file synchronously, in the worker; fails with an FsError. */
export interface RangeReader {
  read (id: number, offset: number, length: number): Uint8Array
}

/** Where a call's on-demand file bytes come from, on the host's side of the worker. */
export interface FileSource {
  read: FileRead
}

type WaitAsync = (ta: Int32Array, index: number, value: number, timeout?: number) => { async: boolean, value: unknown }

function waitAsyncFn (): WaitAsync | undefined {
  const fn = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync
  return typeof fn === 'function' ? fn : undefined
}

/**
 * True when this thread can serve a channel: shared memory exists and may be sent to a
 * worker (in a browser: the page is cross-origin isolated), and `Atomics.waitAsync` exists.
 */
export function canShareMemory (): boolean {
  const g = globalThis as { crossOriginIsolated?: boolean, SharedArrayBuffer?: unknown }
  if (typeof g.SharedArrayBuffer !== 'function' || waitAsyncFn() === undefined) return false
  // Node has no such flag and always shares memory with its worker_threads
  return g.crossOriginIsolated !== false
}

/** A new shared block for one call. */
export function createChannelBuffer (): SharedArrayBuffer {
  return new SharedArrayBuffer(CHANNEL_BYTES)
}

/** True when `v` is a shared block of the right size (a worker checks what it is sent). */
export function isChannelBuffer (v: unknown): v is SharedArrayBuffer {
  return typeof SharedArrayBuffer === 'function' && v instanceof SharedArrayBuffer && v.byteLength === CHANNEL_BYTES
}

/**
 * The host's side: answers the worker's requests with `read` until {@link close}. Each
 * request is checked (a worker runs tenant code): a bad one is answered with EINVAL.
 */
export class ChannelServer {
  readonly #i32: Int32Array
  readonly #f64: Float64Array
  readonly #data: Uint8Array
  readonly #read: FileRead
  readonly #files: number
  #closed = false
  /** bytes answered (tests and benchmarks read it) */
  served = 0

  /** `files`: how many files the call has (ids are 0..files-1). */
  constructor (sab: SharedArrayBuffer, read: FileRead, files: number) {
    this.#i32 = new Int32Array(sab, 0, HEADER_BYTES / 4)
    this.#f64 = new Float64Array(sab, 0, HEADER_BYTES / 8)
    this.#data = new Uint8Array(sab, HEADER_BYTES, WINDOW_BYTES)
    this.#read = read
    this.#files = files
    void this.#loop()
  }

  /** Stops serving; a worker still waiting gets EIO. Safe to call twice. */
  close (): void {
    if (this.#closed) return
    this.#closed = true
    Atomics.store(this.#i32, STATE, CLOSED)
    Atomics.notify(this.#i32, STATE)
  }

  async #loop (): Promise<void> {
    const waitAsync = waitAsyncFn() as WaitAsync
    while (!this.#closed) {
      const state = Atomics.load(this.#i32, STATE)
      if (state === CLOSED) return
      if (state === REQUEST) {
        await this.#serve()
        continue
      }
      const w = waitAsync(this.#i32, STATE, state)
      if (w.async) await w.value
    }
  }

  async #serve (): Promise<void> {
    const seq = Atomics.load(this.#i32, REQ_SEQ)
    const id = this.#i32[FILE] as number
    const length = this.#i32[LENGTH] as number
    const offset = this.#f64[OFFSET] as number
    let errno: number = ERRNO.SUCCESS
    let bytes: Uint8Array = new Uint8Array(0)
    if (!Number.isInteger(id) || id < 0 || id >= this.#files || !Number.isSafeInteger(offset) || offset < 0 || !Number.isInteger(length) || length < 1 || length > WINDOW_BYTES) {
      errno = ERRNO.INVAL
    } else {
      let timer: unknown
      try {
        bytes = await Promise.race([
          this.#read(id, offset, length),
          new Promise<never>((_resolve, reject) => { timer = startTimer(() => { reject(new Error('fetch timed out')) }, FETCH_TIMEOUT_MS) })
        ])
        if (!(bytes instanceof Uint8Array) || bytes.length > length) throw new Error('bad fetch result')
      } catch {
        errno = ERRNO.IO
      } finally {
        clearTimer(timer)
      }
    }
    // the call may have ended (or the worker given up) while the fetch ran
    if (this.#closed || Atomics.load(this.#i32, STATE) !== REQUEST || Atomics.load(this.#i32, REQ_SEQ) !== seq) return
    if (errno === ERRNO.SUCCESS) {
      this.#data.set(bytes)
      this.#i32[RESULT] = bytes.length
      this.served += bytes.length
    } else {
      this.#i32[RESULT] = errno
    }
    Atomics.store(this.#i32, ANS_SEQ, seq)
    Atomics.store(this.#i32, STATE, errno === ERRNO.SUCCESS ? DONE : FAILED)
    Atomics.notify(this.#i32, STATE)
  }
}

/**
 * The worker's side: blocking reads through the shared block. Fails with an FsError (EIO, or
 * the host's errno), which the WASI function returns to the module.
 */
export class ChannelClient implements RangeReader {
  readonly #i32: Int32Array
  readonly #f64: Float64Array
  readonly #data: Uint8Array
  readonly #deadlineAt: number
  readonly #deadlineMs: number
  #seq = 0
  #broken = false

  /** `deadlineMs`: the call's deadline budget, from now on this thread's clock ({@link nowMs}). */
  constructor (sab: SharedArrayBuffer, deadlineMs: number) {
    this.#i32 = new Int32Array(sab, 0, HEADER_BYTES / 4)
    this.#f64 = new Float64Array(sab, 0, HEADER_BYTES / 8)
    this.#data = new Uint8Array(sab, HEADER_BYTES, WINDOW_BYTES)
    this.#deadlineMs = deadlineMs
    this.#deadlineAt = nowMs() + deadlineMs
  }

  /** Up to `length` (≤ {@link WINDOW_BYTES}) bytes of file `id` from `offset`; blocks. */
  read (id: number, offset: number, length: number): Uint8Array {
    if (this.#broken || Atomics.load(this.#i32, STATE) === CLOSED) throw new FsError(ERRNO.IO)
    const seq = this.#seq = (this.#seq + 1) | 0
    this.#i32[FILE] = id
    this.#i32[LENGTH] = length
    this.#f64[OFFSET] = offset
    Atomics.store(this.#i32, REQ_SEQ, seq)
    Atomics.store(this.#i32, STATE, REQUEST)
    Atomics.notify(this.#i32, STATE)
    for (;;) {
      const left = this.#deadlineAt - nowMs()
      if (left <= 0) {
        // the call is over: the guest must not run on past its deadline with an EIO (its
        // result would then depend on which side's clock fired first)
        this.#broken = true
        throw ShadwError.DEADLINE_EXCEEDED(this.#deadlineMs)
      }
      Atomics.wait(this.#i32, STATE, REQUEST, Math.min(left, WAIT_SLICE_MS))
      const state = Atomics.load(this.#i32, STATE)
      if (state === REQUEST) continue
      if (state === CLOSED || Atomics.load(this.#i32, ANS_SEQ) !== seq) {
        this.#broken = true
        throw new FsError(ERRNO.IO)
      }
      const result = this.#i32[RESULT] as number
      if (state === FAILED) {
        Atomics.store(this.#i32, STATE, IDLE)
        throw new FsError(result)
      }
      const out = this.#data.slice(0, Math.min(result, length))
      Atomics.store(this.#i32, STATE, IDLE)
      return out
    }
  }
}

/**
 * WASI preview1 for command modules: the same code in Node and browsers, so both executors
 * agree byte for byte.
 *
 * The filesystem is the call's own (wasi-fs.ts): preopened read-only trees under a per-call
 * copy-on-write overlay. Sockets do not exist. Clocks are virtual and random bytes come
 * from a seeded generator, so two executions of one call on different peers produce the
 * same output.
 */
import { ShadwError } from '../errors.ts'
import { utf8Encode, type WasmGlobal, type WasmMemory } from './host.ts'
import { CLOCKID_REALTIME, ERRNO, EVENT_SIZE, EVENTTYPE, SUBCLOCKFLAGS_ABSTIME, SUBSCRIPTION_SIZE } from './wasi-defs.ts'
import { DEFAULT_SCRATCH_BYTES, fdFunctions, WasiFs } from './wasi-fs.ts'
import type { Preopen } from './wasi-fs-tree.ts'
import type { RangeReader } from './file-channel.ts'
import { pathFunctions } from './wasi-path.ts'
/** The import module name of WASI preview1. */
export const WASI_MODULE = 'wasi_snapshot_preview1'

/** 2023-11-14T22:13:20Z in nanoseconds: the fixed realtime epoch of every call. */
const VIRTUAL_EPOCH_NS = 1_700_000_000_000_000_000n
/** Each clock read advances virtual time by 1 µs, so time moves forward deterministically. */
const CLOCK_TICK_NS = 1_000n
/** stderr is diagnostics, not a result: keep only its start. */
export const STDERR_LIMIT_BYTES = 64 * 1024

/** What a WASI call needs from the request. */
export interface WasiCallOptions {
  args: string[]
  env: string[]
  input: Uint8Array
  seed: number
  maxOutputBytes: number
  /** Directory trees the module sees, each at its guest path (none: no filesystem). */
  preopens?: Preopen[]
  /** Bytes the call may write into its overlay (default {@link DEFAULT_SCRATCH_BYTES}). */
  scratchBytes?: number
  /** Where the preopens' lazy files are fetched from during the call. */
  files?: RangeReader
}

/** The per-call WASI context: imports to link, then {@link WasiContext.start}. */
export interface WasiContext {
  imports: Record<string, unknown>
  /**
   * Runs `_start`; returns the exit code. Host work is charged to `fuel` (the instance's
   * fuel global), and a charge past `fuelLimit` fails the call with FUEL_EXHAUSTED.
   */
  start (memory: WasmMemory, entry: () => unknown, fuel?: WasmGlobal, fuelLimit?: number): number
  stdout (): Uint8Array
  stderr (): Uint8Array
}

/** `proc_exit`: unwinds the module to {@link WasiContext.start}. */
class ProcExit {
  constructor (readonly code: number) {}
}

function concat (chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total)
  let at = 0
  for (const c of chunks) { out.set(c, at); at += c.length }
  return out
}

/** SplitMix64: tiny, fast, and fully determined by its seed. */
function splitMix64 (seed: number): () => bigint {
  let state = BigInt.asUintN(64, BigInt(seed))
  return () => {
    state = BigInt.asUintN(64, state + 0x9e3779b97f4a7c15n)
    let z = state
    z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n)
    z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn)
    return z ^ (z >> 31n)
  }
}

type HostFunction = (...args: unknown[]) => unknown

/**
 * Wraps a WASI function so that what the module's arguments make it throw is a TRAP: a
 * pointer outside memory raises a RangeError in the DataView reads, which would otherwise
 * reach the host as an INTERNAL error, as if the executor were broken. Our own errors
 * (OUTPUT_TOO_LARGE, FUEL_EXHAUSTED, TRAP) and proc_exit pass through.
 */
function asTrapping (name: string, fn: HostFunction): HostFunction {
  return (...args) => {
    try {
      return fn(...args)
    } catch (err) {
      if (err instanceof ShadwError || err instanceof ProcExit) throw err
      throw ShadwError.TRAP(`${name}: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
}

/** Writes `strings` as NUL-terminated bytes with a pointer table (args_get, environ_get). */
function putStrings (fs: WasiFs, list: Uint8Array[], ptrs: number, buf: number): number {
  const v = fs.view
  let at = buf >>> 0
  list.forEach((s, i) => {
    v.setUint32((ptrs >>> 0) + i * 4, at, true)
    const dst = fs.bytes(at, s.length + 1)
    dst.set(s)
    dst[s.length] = 0
    at += s.length + 1
  })
  return ERRNO.SUCCESS
}

function putSizes (fs: WasiFs, list: Uint8Array[], countPtr: number, sizePtr: number): number {
  const v = fs.view
  v.setUint32(countPtr >>> 0, list.length, true)
  v.setUint32(sizePtr >>> 0, list.reduce((n, a) => n + a.length + 1, 0), true)
  return ERRNO.SUCCESS
}

/** Builds a WASI context for one call. */
export function createWasiContext (opts: WasiCallOptions): WasiContext {
  const out: Uint8Array[] = []
  let outBytes = 0
  const err: Uint8Array[] = []
  let errBytes = 0
  let elapsedNs = 0n
  const fs = new WasiFs({
    preopens: opts.preopens ?? [],
    scratchBytes: opts.scratchBytes ?? DEFAULT_SCRATCH_BYTES,
    ...(opts.files === undefined ? {} : { files: opts.files }),
    input: opts.input,
    stdout: data => {
      outBytes += data.length
      // thrown inside fd_write: unwinds the module at once, so a print loop cannot fill memory
      if (outBytes > opts.maxOutputBytes) throw ShadwError.OUTPUT_TOO_LARGE(outBytes, opts.maxOutputBytes)
      out.push(data)
    },
    stderr: data => {
      const room = STDERR_LIMIT_BYTES - errBytes
      if (room <= 0) return
      const part = data.subarray(0, room)
      err.push(part)
      errBytes += part.length
    },
    stdoutRoom: () => opts.maxOutputBytes - outBytes + 1,
    stderrRoom: () => STDERR_LIMIT_BYTES - errBytes,
    now: () => VIRTUAL_EPOCH_NS + elapsedNs,
    epoch: VIRTUAL_EPOCH_NS
  })
  const now = (clock: number): bigint => {
    elapsedNs += CLOCK_TICK_NS
    return (clock === CLOCKID_REALTIME ? VIRTUAL_EPOCH_NS : 0n) + elapsedNs
  }
  const random = splitMix64(opts.seed)
  const argBytes = ['main', ...opts.args].map(a => utf8Encode(a))
  const envBytes = opts.env.map(e => utf8Encode(e))
  const imports: Record<string, unknown> = {
    ...fdFunctions(fs),
    ...pathFunctions(fs),
    args_get: (ptrs: number, buf: number) => putStrings(fs, argBytes, ptrs, buf),
    args_sizes_get: (argc: number, size: number) => putSizes(fs, argBytes, argc, size),
    environ_get: (ptrs: number, buf: number) => putStrings(fs, envBytes, ptrs, buf),
    environ_sizes_get: (count: number, size: number) => putSizes(fs, envBytes, count, size),
    clock_res_get (_id: number, ptr: number) {
      fs.view.setBigUint64(ptr >>> 0, CLOCK_TICK_NS, true)
      return ERRNO.SUCCESS
    },
    clock_time_get (id: number, _precision: bigint, ptr: number) {
      fs.view.setBigUint64(ptr, now(id), true)
      return ERRNO.SUCCESS
    },
    random_get (ptr: number, len: number) {
      const v = fs.view
      // i32 arguments arrive signed: a pointer past 2 GiB is negative here
      ptr >>>= 0
      len >>>= 0
      if (ptr + len > v.byteLength) return ERRNO.INVAL
      fs.chargeBytes(len)
      for (let i = 0; i < len; i += 8) {
        let word = random()
        for (let k = 0; k < 8 && i + k < len; k++) {
          v.setUint8(ptr + i + k, Number(word & 0xffn))
          word >>= 8n
        }
      }
      return ERRNO.SUCCESS
    },
    poll_oneoff: (inPtr: number, outPtr: number, count: number, eventsPtr: number) => pollOneoff(fs, inPtr >>> 0, outPtr >>> 0, count >>> 0, eventsPtr >>> 0, {
      now: (clock: number) => (clock === CLOCKID_REALTIME ? VIRTUAL_EPOCH_NS : 0n) + elapsedNs,
      advance: (ns: bigint) => { elapsedNs += ns }
    }),
    proc_exit (code: number) { throw new ProcExit(code) },
    sched_yield () { return ERRNO.SUCCESS },
    proc_raise (sig: number) { throw ShadwError.TRAP(`signal ${sig} raised`) },
    // no descriptor is a socket: a valid one answers ENOTSOCK, as with wasmtime
    sock_accept: (fd: number) => fs.fds.has(fd) ? ERRNO.NOTSOCK : ERRNO.BADF,
    sock_recv: (fd: number) => fs.fds.has(fd) ? ERRNO.NOTSOCK : ERRNO.BADF,
    sock_send: (fd: number) => fs.fds.has(fd) ? ERRNO.NOTSOCK : ERRNO.BADF,
    sock_shutdown: (fd: number) => fs.fds.has(fd) ? ERRNO.NOTSOCK : ERRNO.BADF
  }
  for (const [name, fn] of Object.entries(imports)) imports[name] = asTrapping(name, fn as HostFunction)
  return {
    imports,
    start (mem, entry, fuel, fuelLimit) {
      fs.memory = mem
      if (fuel !== undefined) {
        fs.charge = units => {
          const left = (fuel.value as bigint) - BigInt(units)
          fuel.value = left
          if (left < 0n) throw ShadwError.FUEL_EXHAUSTED(fuelLimit ?? 0)
        }
      }
      try {
        entry()
        return 0
      } catch (e) {
        if (e instanceof ProcExit) return e.code
        throw e
      }
    },
    stdout: () => concat(out, outBytes),
    stderr: () => concat(err, errBytes)
  }
}

/**
 * poll_oneoff: descriptors are always ready (files, stdin, stdout), so a poll with any fd
 * subscription returns those at once; one with only clocks advances virtual time to the
 * earliest timeout instead of waiting, and reports every clock due then.
 */
function pollOneoff (fs: WasiFs, inPtr: number, outPtr: number, count: number, eventsPtr: number,
  clock: { now: (id: number) => bigint, advance: (ns: bigint) => void }): number {
  if (count === 0) return ERRNO.INVAL
  const v = fs.view
  fs.bytes(inPtr, count * SUBSCRIPTION_SIZE)
  fs.bytes(outPtr, count * EVENT_SIZE)
  const ready: Array<{ userdata: bigint, type: number, error: number, nbytes: bigint }> = []
  const clocks: Array<{ userdata: bigint, wait: bigint }> = []
  for (let i = 0; i < count; i++) {
    const p = inPtr + i * SUBSCRIPTION_SIZE
    const userdata = v.getBigUint64(p, true)
    const type = v.getUint8(p + 8)
    if (type === EVENTTYPE.CLOCK) {
      const id = v.getUint32(p + 16, true)
      const timeout = v.getBigUint64(p + 24, true)
      const abs = (v.getUint16(p + 40, true) & SUBCLOCKFLAGS_ABSTIME) !== 0
      const wait = abs ? timeout - clock.now(id) : timeout
      clocks.push({ userdata, wait: wait < 0n ? 0n : wait })
    } else if (type === EVENTTYPE.FD_READ || type === EVENTTYPE.FD_WRITE) {
      const e = fs.fds.get(v.getUint32(p + 16, true))
      let nbytes = 0n
      if (e !== undefined && type === EVENTTYPE.FD_READ && e.kind === 'file' && e.node !== null) nbytes = BigInt(Math.max(0, e.node.size - e.pos))
      ready.push({ userdata, type, error: e === undefined ? ERRNO.BADF : e.kind === 'dir' ? ERRNO.BADF : ERRNO.SUCCESS, nbytes })
    } else {
      return ERRNO.INVAL
    }
  }
  if (ready.length === 0) {
    const first = clocks.reduce((m, c) => c.wait < m ? c.wait : m, clocks[0]!.wait)
    clock.advance(first)
    for (const c of clocks) if (c.wait === first) ready.push({ userdata: c.userdata, type: EVENTTYPE.CLOCK, error: ERRNO.SUCCESS, nbytes: 0n })
  }
  new Uint8Array(v.buffer, outPtr, ready.length * EVENT_SIZE).fill(0)
  ready.forEach((ev, i) => {
    const p = outPtr + i * EVENT_SIZE
    v.setBigUint64(p, ev.userdata, true)
    v.setUint16(p + 8, ev.error, true)
    v.setUint8(p + 10, ev.type)
    v.setBigUint64(p + 16, ev.nbytes, true)
  })
  v.setUint32(eventsPtr, ready.length, true)
  return ERRNO.SUCCESS
}

/** Names of every WASI function a module may import. */
export const WASI_FUNCTIONS: ReadonlySet<string> = new Set(Object.keys(
  createWasiContext({ args: [], env: [], input: new Uint8Array(0), seed: 0, maxOutputBytes: 0 }).imports
))

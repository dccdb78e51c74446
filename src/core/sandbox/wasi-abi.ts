/**
 * WASI preview1 for command modules, on @bjorn3/browser_wasi_shim (the same shim in Node
 * and browsers, so both executors agree byte for byte).
 *
 * Only stdin, stdout and stderr exist: no preopened directories, so no filesystem; sockets
 * are refused. Clocks are virtual and random bytes come from a seeded generator, so two
 * executions of one call on different peers produce the same output.
 */
import { WASI, WASIProcExit, OpenFile, File, ConsoleStdout, wasi as defs } from '@bjorn3/browser_wasi_shim'
import { ShadwError } from '../errors.ts'
import { utf8Encode, type WasmMemory } from './host.ts'

/** The import module name of WASI preview1. */
export const WASI_MODULE = 'wasi_snapshot_preview1'

/** 2023-11-14T22:13:20Z in nanoseconds: the fixed realtime epoch of every call. */
const VIRTUAL_EPOCH_NS = 1_700_000_000_000_000_000n
/** Each clock read advances virtual time by 1 µs, so time moves forward deterministically. */
const CLOCK_TICK_NS = 1_000n
/** stderr is diagnostics, not a result: keep only its start. */
export const STDERR_LIMIT_BYTES = 64 * 1024

/**
 * Inode numbers of stdin, stdout and stderr. The shim numbers inodes from one counter per
 * worker, so `fstat` would otherwise tell a module how many calls its worker ran before,
 * and redundant executions on different peers would disagree.
 */
const STDIO_INODES = [1n, 2n, 3n] as const

const ERRNO_SUCCESS = 0
const ERRNO_INVAL = 28
const ERRNO_NOTSUP = 58

/** What a WASI call needs from the request. */
export interface WasiCallOptions {
  args: string[]
  env: string[]
  input: Uint8Array
  seed: number
  maxOutputBytes: number
}

/** The per-call WASI context: imports to link, then {@link WasiContext.start}. */
export interface WasiContext {
  imports: Record<string, unknown>
  /** Runs `_start`; returns the exit code. */
  start (memory: WasmMemory, entry: () => unknown): number
  stdout (): Uint8Array
  stderr (): Uint8Array
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

/**
 * stdin. The shim's `OpenFile` refuses writes to a read-only file but still resizes it:
 * `fd_filestat_set_size` and `fd_allocate` take a 64-bit size from the module and allocate a
 * JS buffer that large, outside linear memory and its cap. A read-only fd refuses both.
 */
class ReadOnlyFd extends OpenFile {
  override fd_allocate (): number { return defs.ERRNO_BADF }
  override fd_filestat_set_size (): number { return defs.ERRNO_BADF }
}

type HostFunction = (...args: unknown[]) => unknown

/**
 * Wraps a WASI function so that what the module's arguments make it throw is a TRAP: a
 * pointer outside memory raises a RangeError in the shim's DataView reads, which would
 * otherwise reach the host as an INTERNAL error, as if the executor were broken. Our own
 * errors (OUTPUT_TOO_LARGE, TRAP) and the shim's proc_exit signal pass through.
 */
function asTrapping (name: string, fn: HostFunction): HostFunction {
  return (...args) => {
    try {
      return fn(...args)
    } catch (err) {
      if (err instanceof ShadwError || err instanceof WASIProcExit) throw err
      throw ShadwError.TRAP(`${name}: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
}

/** Builds a WASI context for one call. */
export function createWasiContext (opts: WasiCallOptions): WasiContext {
  const out: Uint8Array[] = []
  let outBytes = 0
  const err: Uint8Array[] = []
  let errBytes = 0
  const stdout = new ConsoleStdout(data => {
    outBytes += data.length
    // thrown inside fd_write: unwinds the module at once, so a print loop cannot fill memory
    if (outBytes > opts.maxOutputBytes) throw ShadwError.OUTPUT_TOO_LARGE(outBytes, opts.maxOutputBytes)
    out.push(data.slice())
  })
  const stderr = new ConsoleStdout(data => {
    const room = STDERR_LIMIT_BYTES - errBytes
    if (room <= 0) return
    const part = data.subarray(0, room).slice()
    err.push(part)
    errBytes += part.length
  })
  const input = new File(opts.input, { readonly: true })
  const stdin = new ReadOnlyFd(input)
  input.ino = STDIO_INODES[0]
  ;(stdout as unknown as { ino: bigint }).ino = STDIO_INODES[1]
  ;(stderr as unknown as { ino: bigint }).ino = STDIO_INODES[2]
  const wasi = new WASI(['main', ...opts.args], opts.env, [stdin, stdout, stderr], { debug: false })
  let memory: WasmMemory | undefined
  const view = (): DataView => {
    if (memory === undefined) throw ShadwError.INTERNAL('WASI memory used before start')
    return new DataView(memory.buffer)
  }
  let elapsedNs = 0n
  const now = (clock: number): bigint => {
    elapsedNs += CLOCK_TICK_NS
    return (clock === defs.CLOCKID_REALTIME ? VIRTUAL_EPOCH_NS : 0n) + elapsedNs
  }
  const random = splitMix64(opts.seed)
  const argBytes = ['main', ...opts.args].map(a => utf8Encode(a))
  const imports: Record<string, unknown> = {
    ...wasi.wasiImport,
    args_sizes_get (argc: number, bufSize: number) {
      const v = view()
      v.setUint32(argc, argBytes.length, true)
      v.setUint32(bufSize, argBytes.reduce((n, a) => n + a.length + 1, 0), true)
      return ERRNO_SUCCESS
    },
    clock_res_get (_id: number, ptr: number) {
      view().setBigUint64(ptr, CLOCK_TICK_NS, true)
      return ERRNO_SUCCESS
    },
    clock_time_get (id: number, _precision: bigint, ptr: number) {
      view().setBigUint64(ptr, now(id), true)
      return ERRNO_SUCCESS
    },
    random_get (ptr: number, len: number) {
      const v = view()
      // i32 arguments arrive signed: a pointer past 2 GiB is negative here
      ptr >>>= 0
      len >>>= 0
      if (ptr + len > v.byteLength) return ERRNO_INVAL
      for (let i = 0; i < len; i += 8) {
        let word = random()
        for (let k = 0; k < 8 && i + k < len; k++) {
          v.setUint8(ptr + i + k, Number(word & 0xffn))
          word >>= 8n
        }
      }
      return ERRNO_SUCCESS
    },
    poll_oneoff (inPtr: number, outPtr: number, count: number, eventsPtr: number) {
      // only a single clock subscription (sleep): advance virtual time instead of waiting
      if (count !== 1) return ERRNO_NOTSUP
      const v = view()
      const s = defs.Subscription.read_bytes(v, inPtr)
      if (s.eventtype !== defs.EVENTTYPE_CLOCK) return ERRNO_NOTSUP
      // relative timeouts only: an absolute one would need the caller's clock semantics
      if ((s.flags & defs.SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME) !== 0) return ERRNO_NOTSUP
      elapsedNs += s.timeout
      new defs.Event(s.userdata, ERRNO_SUCCESS, s.eventtype).write_bytes(v, outPtr)
      v.setUint32(eventsPtr, 1, true)
      return ERRNO_SUCCESS
    },
    sched_yield () { return ERRNO_SUCCESS },
    proc_raise (sig: number) { throw ShadwError.TRAP(`signal ${sig} raised`) },
    sock_accept () { return ERRNO_NOTSUP },
    sock_recv () { return ERRNO_NOTSUP },
    sock_send () { return ERRNO_NOTSUP },
    sock_shutdown () { return ERRNO_NOTSUP }
  }
  for (const [name, fn] of Object.entries(imports)) imports[name] = asTrapping(name, fn as HostFunction)
  return {
    imports,
    start (mem, entry) {
      memory = mem
      ;(wasi as unknown as { inst: unknown }).inst = { exports: { memory: mem } }
      try {
        entry()
        return 0
      } catch (e) {
        if (e instanceof WASIProcExit) return e.code
        throw e
      }
    },
    stdout: () => concat(out, out.reduce((n, c) => n + c.length, 0)),
    stderr: () => concat(err, errBytes)
  }
}

/** Names of every WASI function a module may import. */
export const WASI_FUNCTIONS: ReadonlySet<string> = new Set(Object.keys(
  createWasiContext({ args: [], env: [], input: new Uint8Array(0), seed: 0, maxOutputBytes: 0 }).imports
))

/**
 * The descriptor table of one WASI call and the `fd_*` host functions over it: stdio, the
 * preopened directories and whatever the module opens under them (see wasi-fs-tree.ts for
 * the overlay they live in, wasi-path.ts for the `path_*` functions).
 *
 * Errnos follow wasmtime's (docs/abi.md has the table). Host work is paid in fuel: every
 * call on a file or directory costs {@link FS_CALL_FUEL} and every byte moved between the
 * module and a file a sixteenth of a unit, the rate of a bulk memory copy, so a loop of large
 * reads cannot buy unbounded host time for a fixed price. Stdio is free where its work is
 * bounded anyway (stdout by the output limit, stderr by its cap, each stdin byte's first
 * read by the input size), so a program that never touches a file uses the same fuel as it
 * always did; re-reading stdin after a seek is paid like a file read.
 */
import { ERRNO, FDFLAGS, FILETYPE, FILESTAT_SIZE, DIRENT_HEAD_SIZE, RIGHTS, FILE_RIGHTS, DIR_RIGHTS, FSTFLAGS, WHENCE } from './wasi-defs.ts'
import { DirNode, FileNode, FsError, fail, fromSource, Scratch, treeSource, type FsContext, type Node, type Preopen } from './wasi-fs-tree.ts'
import { utf8Decode, utf8Encode, type WasmMemory } from './host.ts'
import type { RangeReader } from './file-channel.ts'
import { LazyFiles } from './lazy-files.ts'

/** Fuel every filesystem call costs before the bytes it moves. */
export const FS_CALL_FUEL = 16
/** Bytes moved per fuel unit (a bulk memory copy's rate). */
export const FS_BYTES_PER_FUEL = 16
/** Open descriptors a call may hold (stdio and preopens included); past it, EMFILE. */
export const MAX_OPEN_FDS = 1024
/** Default bytes a call may write into its overlay. */
export const DEFAULT_SCRATCH_BYTES = 16 * 1024 * 1024

/** A descriptor. Stdin is a read-only file; stdout and stderr are sinks. */
export interface FdEntry {
  kind: 'file' | 'dir' | 'sink'
  node: Node | null
  /** stdout/stderr */
  sink?: (data: Uint8Array) => void
  pos: number
  flags: number
  rights: bigint
  inheriting: bigint
  /** A preopen's guest path (fd_prestat_get). */
  preopen?: string
  /** stdin, stdout or stderr (see the fuel note above). */
  stdio?: true
  /** A sink's bytes still worth copying: past it a write is counted, not copied. */
  room?: () => number
}

/** What the filesystem needs from its call. */
export interface WasiFsOptions {
  preopens: Preopen[]
  scratchBytes: number
  input: Uint8Array
  stdout: (data: Uint8Array) => void
  stderr: (data: Uint8Array) => void
  /** Bytes stdout and stderr still accept (stdout: one past its limit, so overflow shows). */
  stdoutRoom: () => number
  stderrRoom: () => number
  /** The call's virtual realtime in ns (read without advancing it). */
  now: () => bigint
  epoch: bigint
  /** Where the preopens' lazy files are read from (none: reading one fails with EIO). */
  files?: RangeReader
}

type Fn = (...args: Array<number | bigint>) => number

/** The descriptor table and memory access shared by the fd and path functions. */
export class WasiFs {
  readonly fds = new Map<number, FdEntry>()
  readonly ctx: FsContext
  private readonly stdin: FileNode
  /** End of the stdin bytes read so far: reading below it again is paid for. */
  private stdinSeen = 0
  memory: WasmMemory | undefined
  /** The call's on-demand files, when it has a channel to fetch them through. */
  readonly lazy: LazyFiles | undefined
  /** Takes fuel for host work; set once the instance exists (throws FUEL_EXHAUSTED). */
  charge: (units: number) => void = () => {}

  constructor (opts: WasiFsOptions) {
    // stdin, stdout and stderr have inodes 1-3 in every call
    let ino = 3n
    this.ctx = { scratch: new Scratch(opts.scratchBytes), nextIno: () => ++ino, now: opts.now, epoch: opts.epoch, charge: units => { this.charge(units) } }
    const stdin = new FileNode(this.ctx, 1n, opts.epoch, null, opts.input)
    this.fds.set(0, { kind: 'file', node: stdin, pos: 0, flags: 0, rights: RIGHTS.FD_READ | RIGHTS.FD_SEEK | RIGHTS.FD_TELL | RIGHTS.FD_FILESTAT_GET | RIGHTS.POLL_FD_READWRITE, inheriting: 0n, stdio: true })
    this.fds.set(1, { kind: 'sink', node: null, sink: opts.stdout, room: opts.stdoutRoom, pos: 0, flags: 0, rights: RIGHTS.FD_WRITE, inheriting: 0n, stdio: true })
    this.fds.set(2, { kind: 'sink', node: null, sink: opts.stderr, room: opts.stderrRoom, pos: 0, flags: 0, rights: RIGHTS.FD_WRITE, inheriting: 0n, stdio: true })
    this.stdin = stdin
    this.lazy = opts.files === undefined ? undefined : new LazyFiles(opts.files, units => { this.charge(units) })
    const lazy = this.lazy
    const read = lazy === undefined ? undefined : (id: number, size: number, offset: number, length: number, page?: number) => lazy.read(id, size, offset, length, page)
    let fd = 3
    for (const p of opts.preopens) {
      const root = fromSource(this.ctx, treeSource(p.tree, read), null)
      if (root.kind !== 'dir') throw new TypeError(`preopen ${p.guest} is not a directory`)
      this.fds.set(fd++, { kind: 'dir', node: root, pos: 0, flags: 0, rights: DIR_RIGHTS, inheriting: DIR_RIGHTS | FILE_RIGHTS, preopen: p.guest })
    }
  }

  get u8 (): Uint8Array { return new Uint8Array((this.memory as WasmMemory).buffer) }
  get view (): DataView { return new DataView((this.memory as WasmMemory).buffer) }

  /** A range of guest memory; out of bounds raises a RangeError (the call becomes a TRAP). */
  bytes (ptr: number, len: number): Uint8Array {
    ptr >>>= 0
    len >>>= 0
    const u8 = this.u8
    if (ptr + len > u8.length) throw new RangeError(`[${ptr}, +${len}) is outside memory`)
    return u8.subarray(ptr, ptr + len)
  }

  string (ptr: number, len: number): string {
    // a path longer than PATH_MAX fails before it is copied
    if ((len >>> 0) > 4096) fail(ERRNO.NAMETOOLONG)
    try {
      return utf8Decode(this.bytes(ptr, len), true)
    } catch (err) {
      if (err instanceof RangeError) throw err
      return fail(ERRNO.ILSEQ)
    }
  }

  get (fd: number, right = 0n): FdEntry {
    const e = this.fds.get(fd)
    if (e === undefined) fail(ERRNO.BADF)
    if ((e.rights & right) !== right) fail(ERRNO.BADF)
    return e
  }

  /**
   * The directory `fd` names. Anything else is EBADF, except that `path_open` relative to a
   * file answers ENOTDIR (`forOpen`), as wasmtime's preview1 does.
   */
  dir (fd: number, forOpen = false): DirNode {
    const e = this.get(fd)
    if (e.kind !== 'dir') fail(forOpen && e.kind === 'file' && e.stdio !== true ? ERRNO.NOTDIR : ERRNO.BADF)
    return e.node as DirNode
  }

  file (fd: number, right: bigint): FileNode {
    const e = this.fds.get(fd)
    if (e === undefined || e.kind !== 'file') fail(ERRNO.BADF)
    if ((e.rights & right) !== right) fail(ERRNO.BADF)
    return e.node as FileNode
  }

  /** Lowest free descriptor, as POSIX and wasmtime hand out. */
  add (entry: FdEntry): number {
    if (this.fds.size >= MAX_OPEN_FDS) fail(ERRNO.MFILE)
    let fd = 3
    while (this.fds.has(fd)) fd++
    this.fds.set(fd, entry)
    if (entry.node instanceof FileNode) entry.node.opens++
    return fd
  }

  /** Drops descriptor `fd` (open). */
  close (fd: number): void {
    const node = this.fds.get(fd)?.node
    this.fds.delete(fd)
    if (node instanceof FileNode && node.opens > 0) {
      node.opens--
      node.releaseIfGone()
    }
  }

  chargeBytes (n: number): void {
    this.charge(Math.ceil(n / FS_BYTES_PER_FUEL))
  }

  writeFilestat (ptr: number, node: Node | null): void {
    const v = this.view
    ptr >>>= 0
    if (ptr + FILESTAT_SIZE > v.byteLength) throw new RangeError('filestat outside memory')
    new Uint8Array(v.buffer, ptr, FILESTAT_SIZE).fill(0)
    if (node === null) {
      v.setUint8(ptr + 16, FILETYPE.CHARACTER_DEVICE)
      return
    }
    v.setBigUint64(ptr, 0n, true)
    v.setBigUint64(ptr + 8, node.ino, true)
    v.setUint8(ptr + 16, filetype(node))
    v.setBigUint64(ptr + 24, node.nlink, true)
    v.setBigUint64(ptr + 32, BigInt(node.size), true)
    v.setBigUint64(ptr + 40, node.atim, true)
    v.setBigUint64(ptr + 48, node.mtim, true)
    v.setBigUint64(ptr + 56, node.ctim, true)
  }

  /** Applies fd/path_filestat_set_times flags to a node. */
  setTimes (node: Node, atim: bigint, mtim: bigint, flags: number): void {
    if ((flags & FSTFLAGS.ATIM) !== 0 && (flags & FSTFLAGS.ATIM_NOW) !== 0) fail(ERRNO.INVAL)
    if ((flags & FSTFLAGS.MTIM) !== 0 && (flags & FSTFLAGS.MTIM_NOW) !== 0) fail(ERRNO.INVAL)
    if ((flags & ~0xf) !== 0) fail(ERRNO.INVAL)
    const now = this.ctx.now()
    if ((flags & FSTFLAGS.ATIM) !== 0) node.atim = atim
    if ((flags & FSTFLAGS.ATIM_NOW) !== 0) node.atim = now
    if ((flags & FSTFLAGS.MTIM) !== 0) node.mtim = mtim
    if ((flags & FSTFLAGS.MTIM_NOW) !== 0) node.mtim = now
    node.ctim = now
  }

  /** Copies file bytes into the module's iovecs; returns the count. */
  readInto (file: FileNode, offset: number, iovs: number, iovsLen: number): number {
    const v = this.view
    const count = iovsLen >>> 0
    this.chargeIovecs(file === this.stdin, count)
    let done = 0
    for (let i = 0; i < count; i++) {
      const buf = v.getUint32((iovs >>> 0) + i * 8, true)
      const len = v.getUint32((iovs >>> 0) + i * 8 + 4, true)
      const dst = this.bytes(buf, len)
      const at = offset + done
      const chunk = file.read(at, len)
      if (file === this.stdin) {
        // each stdin byte's first read is part of the call; a re-read is host work
        this.chargeBytes(Math.max(0, Math.min(at + chunk.length, this.stdinSeen) - at))
        this.stdinSeen = Math.max(this.stdinSeen, at + chunk.length)
      } else {
        this.chargeBytes(chunk.length)
      }
      dst.set(chunk)
      done += chunk.length
      if (chunk.length < len) break
    }
    return done
  }

  /**
   * Gathers the module's ciovecs into one buffer, paying for the bytes first. At most
   * `room` bytes are copied (the rest of a write to a full sink is counted, not copied);
   * returns the bytes and the full length.
   */
  gather (iovs: number, iovsLen: number, stdio: boolean, room = Number.MAX_SAFE_INTEGER): { data: Uint8Array, length: number } {
    const v = this.view
    const count = iovsLen >>> 0
    this.chargeIovecs(stdio, count)
    const parts: Uint8Array[] = []
    let total = 0
    let copied = 0
    for (let i = 0; i < count; i++) {
      const buf = v.getUint32((iovs >>> 0) + i * 8, true)
      const len = v.getUint32((iovs >>> 0) + i * 8 + 4, true)
      const part = this.bytes(buf, len)
      total += len
      if (copied < room) {
        const take = part.subarray(0, room - copied)
        parts.push(take)
        copied += take.length
      }
    }
    if (!stdio) this.chargeBytes(total)
    const out = new Uint8Array(copied)
    let at = 0
    for (const p of parts) { out.set(p, at); at += p.length }
    return { data: out, length: total }
  }

  /** Iovecs cost a unit each, past the few a libc passes to stdio. */
  private chargeIovecs (stdio: boolean, count: number): void {
    this.charge(stdio ? Math.max(0, count - FREE_STDIO_IOVECS) : count)
  }
}

/** Iovecs per stdio call that cost nothing (libc passes one or two). */
const FREE_STDIO_IOVECS = 16

export function filetype (node: Node): number {
  return node.kind === 'dir' ? FILETYPE.DIRECTORY : node.kind === 'file' ? FILETYPE.REGULAR_FILE : FILETYPE.SYMBOLIC_LINK
}

/** Runs an operation, turning an FsError into its errno. */
export function errnoOf (op: () => void): number {
  try {
    op()
    return ERRNO.SUCCESS
  } catch (err) {
    if (err instanceof FsError) return err.errno
    throw err
  }
}

const MAX_OFFSET = 2 ** 53

/** The `fd_*` host functions over `fs`. */
export function fdFunctions (fs: WasiFs): Record<string, Fn> {
  // the first argument of every fd function is its descriptor: stdio calls are free
  const wrap = (fn: (...a: never[]) => void): Fn => (...a) => errnoOf(() => {
    if (fs.fds.get(a[0] as number)?.stdio !== true) fs.charge(FS_CALL_FUEL)
    ;(fn as (...x: unknown[]) => void)(...a)
  })
  const seekable = (fd: number): { e: FdEntry, file: FileNode } => {
    const e = fs.get(fd)
    if (e.kind === 'sink') fail(ERRNO.SPIPE)
    if (e.kind === 'dir') fail(ERRNO.BADF)
    return { e, file: e.node as FileNode }
  }
  return {
    fd_advise: wrap((fd: number, _o: bigint, _l: bigint, advice: number) => {
      const e = fs.get(fd)
      if (e.kind !== 'file' || e.stdio === true) fail(ERRNO.BADF)
      if (advice < 0 || advice > 5) fail(ERRNO.INVAL)
    }),
    fd_allocate: wrap((fd: number, offset: bigint, len: bigint) => {
      const file = fs.file(fd, RIGHTS.FD_WRITE)
      const end = offset + len
      if (end > BigInt(MAX_OFFSET)) fail(ERRNO.FBIG)
      fs.ctx.scratch.check(Number(end) - file.size)
      fs.chargeBytes(Math.max(0, Number(end) - file.size))
      if (Number(end) > file.size) { file.resize(Number(end)); file.touch() }
    }),
    fd_close: wrap((fd: number) => {
      fs.get(fd)
      fs.close(fd)
    }),
    fd_datasync: wrap((fd: number) => { if (fs.get(fd).stdio === true) fail(ERRNO.BADF) }),
    fd_sync: wrap((fd: number) => { if (fs.get(fd).stdio === true) fail(ERRNO.BADF) }),
    fd_fdstat_get: wrap((fd: number, ptr: number) => {
      const e = fs.get(fd)
      const v = fs.view
      ptr >>>= 0
      if (ptr + 24 > v.byteLength) throw new RangeError('fdstat outside memory')
      v.setUint8(ptr, e.node === null ? FILETYPE.CHARACTER_DEVICE : filetype(e.node))
      v.setUint8(ptr + 1, 0)
      v.setUint16(ptr + 2, e.flags, true)
      v.setUint32(ptr + 4, 0, true)
      v.setBigUint64(ptr + 8, e.rights, true)
      v.setBigUint64(ptr + 16, e.inheriting, true)
    }),
    fd_fdstat_set_flags: wrap((fd: number, flags: number) => {
      const e = fs.get(fd)
      if (e.kind !== 'file' || e.stdio === true) fail(ERRNO.BADF)
      // only APPEND and NONBLOCK may change after open, as with wasmtime
      if ((flags & ~(FDFLAGS.APPEND | FDFLAGS.NONBLOCK)) !== 0) fail(ERRNO.INVAL)
      e.flags = flags
    }),
    // wasmtime accepts and ignores it on any open descriptor (rights are gone from WASI since)
    fd_fdstat_set_rights: wrap((fd: number) => { fs.get(fd) }),
    fd_filestat_get: wrap((fd: number, ptr: number) => {
      const e = fs.get(fd)
      fs.writeFilestat(ptr, e.node)
      if (e.kind === 'sink') fs.view.setBigUint64((ptr >>> 0) + 8, fd === 1 ? 2n : 3n, true)
    }),
    fd_filestat_set_size: wrap((fd: number, size: bigint) => {
      const file = fs.file(fd, RIGHTS.FD_WRITE)
      if (size > BigInt(MAX_OFFSET)) fail(ERRNO.FBIG)
      fs.ctx.scratch.check(Number(size) - file.size)
      fs.chargeBytes(Math.max(0, Number(size) - file.size))
      file.resize(Number(size))
      file.touch()
    }),
    fd_filestat_set_times: wrap((fd: number, atim: bigint, mtim: bigint, flags: number) => {
      const e = fs.get(fd)
      if (e.node === null) return
      fs.setTimes(e.node, atim, mtim, flags)
    }),
    fd_pread: wrap((fd: number, iovs: number, iovsLen: number, offset: bigint, nread: number) => {
      seekable(fd)
      const file = fs.file(fd, RIGHTS.FD_READ)
      if (offset > BigInt(MAX_OFFSET)) fail(ERRNO.INVAL)
      fs.view.setUint32(nread >>> 0, fs.readInto(file, Number(offset), iovs, iovsLen), true)
    }),
    fd_pwrite: wrap((fd: number, iovs: number, iovsLen: number, offset: bigint, nwritten: number) => {
      const { e } = seekable(fd)
      const file = fs.file(fd, RIGHTS.FD_WRITE)
      if (offset > BigInt(MAX_OFFSET)) fail(ERRNO.INVAL)
      const { data } = fs.gather(iovs, iovsLen, false)
      // as on Linux, an append-mode descriptor writes at the end whatever the offset
      file.write((e.flags & FDFLAGS.APPEND) !== 0 ? file.size : Number(offset), data)
      fs.view.setUint32(nwritten >>> 0, data.length, true)
    }),
    fd_read: wrap((fd: number, iovs: number, iovsLen: number, nread: number) => {
      const e = fs.get(fd)
      if (e.kind !== 'file') fail(ERRNO.BADF)
      const file = fs.file(fd, RIGHTS.FD_READ)
      const n = fs.readInto(file, e.pos, iovs, iovsLen)
      e.pos += n
      fs.view.setUint32(nread >>> 0, n, true)
    }),
    fd_write: wrap((fd: number, iovs: number, iovsLen: number, nwritten: number) => {
      const e = fs.get(fd)
      if (e.kind === 'dir' || (e.rights & RIGHTS.FD_WRITE) === 0n) fail(ERRNO.BADF)
      const { data, length } = fs.gather(iovs, iovsLen, e.stdio === true, e.room?.())
      if (e.kind === 'sink') {
        (e.sink as (d: Uint8Array) => void)(data)
      } else {
        const file = e.node as FileNode
        if ((e.flags & FDFLAGS.APPEND) !== 0) e.pos = file.size
        file.write(e.pos, data)
        e.pos += data.length
      }
      fs.view.setUint32(nwritten >>> 0, length, true)
    }),
    fd_prestat_get: wrap((fd: number, ptr: number) => {
      const e = fs.get(fd)
      if (e.preopen === undefined) fail(ERRNO.BADF)
      const v = fs.view
      v.setUint32(ptr >>> 0, 0, true)
      v.setUint32((ptr >>> 0) + 4, utf8Encode(e.preopen).length, true)
    }),
    fd_prestat_dir_name: wrap((fd: number, ptr: number, len: number) => {
      const e = fs.get(fd)
      if (e.preopen === undefined) fail(ERRNO.BADF)
      const name = utf8Encode(e.preopen)
      if ((len >>> 0) < name.length) fail(ERRNO.NAMETOOLONG)
      fs.bytes(ptr, name.length).set(name)
    }),
    fd_readdir: wrap((fd: number, buf: number, bufLen: number, cookie: bigint, used: number) => {
      const e = fs.get(fd)
      if (e.kind !== 'dir') fail(ERRNO.NOTDIR)
      const dir = e.node as DirNode
      const out = fs.bytes(buf, bufLen)
      const listing = dir.listing(units => { fs.charge(units) })
      const total = listing.length + 2
      let at = 0
      const head = new DataView(new ArrayBuffer(DIRENT_HEAD_SIZE))
      for (let i = cookie > BigInt(total) ? total : Number(cookie); i < total && at < out.length; i++) {
        // `..` carries the directory's own inode, as in wasmtime
        const [name, node] = i === 0 ? ['.', dir] as const : i === 1 ? ['..', dir] as const : listing[i - 2] as readonly [string, Node]
        const nameBytes = utf8Encode(name)
        fs.charge(1)
        fs.chargeBytes(DIRENT_HEAD_SIZE + nameBytes.length)
        head.setBigUint64(0, BigInt(i + 1), true)
        head.setBigUint64(8, node.ino, true)
        head.setUint32(16, nameBytes.length, true)
        head.setUint8(20, filetype(node))
        const entry = new Uint8Array(DIRENT_HEAD_SIZE + nameBytes.length)
        entry.set(new Uint8Array(head.buffer))
        entry.set(nameBytes, DIRENT_HEAD_SIZE)
        // the last entry is cut at the buffer's end: a full buffer tells the caller to ask again
        const room = Math.min(entry.length, out.length - at)
        out.set(entry.subarray(0, room), at)
        at += room
      }
      fs.view.setUint32(used >>> 0, at, true)
    }),
    fd_renumber: wrap((from: number, to: number) => {
      const e = fs.get(from)
      fs.get(to)
      if (from === to) return
      fs.close(to)
      fs.fds.set(to, e)
      fs.fds.delete(from)
    }),
    fd_seek: wrap((fd: number, offset: bigint, whence: number, ptr: number) => {
      const { e, file } = seekable(fd)
      if ((e.rights & (RIGHTS.FD_SEEK | RIGHTS.FD_TELL)) === 0n) fail(ERRNO.BADF)
      const base = whence === WHENCE.SET ? 0n : whence === WHENCE.CUR ? BigInt(e.pos) : whence === WHENCE.END ? BigInt(file.size) : -1n
      if (base < 0n) fail(ERRNO.INVAL)
      const to = base + offset
      if (to < 0n || to > BigInt(MAX_OFFSET)) fail(ERRNO.INVAL)
      e.pos = Number(to)
      fs.view.setBigUint64(ptr >>> 0, to, true)
    }),
    fd_tell: wrap((fd: number, ptr: number) => {
      const { e } = seekable(fd)
      fs.view.setBigUint64(ptr >>> 0, BigInt(e.pos), true)
    })
  }
}

/**
 * The files a WASI call sees: read-only trees mounted as preopens, seen through a per-call
 * copy-on-write overlay.
 *
 * A preopen is backed by a {@link SourceNode} tree that is never written. Each call builds its
 * own overlay lazily, a directory's entries the first time a path passes through it and a
 * file's bytes only when the file is written (then copied up): so a call pays for what it
 * touches, not for the size of what is mounted, and whatever it writes vanishes with it.
 *
 * Determinism: redundant executions on different peers must agree byte for byte, so nothing
 * here comes from the host. Inode numbers are handed out from a per-call counter in the order
 * the call first reaches each node, and every mounted node carries the fixed virtual epoch as
 * its timestamps; a change stamps the call's virtual clock.
 */
import { ERRNO } from './wasi-defs.ts'

/**
 * One node of a read-only tree a preopen is backed by.
 *
 * Synchronous, because WASI host calls are: a module's `fd_read` cannot wait for a network
 * fetch. A source over asynchronous blocks (a drive fetched from peers) plugs in here as a
 * SourceNode whose bytes were fetched before the call starts, or whose `read` blocks while
 * the worker's host fetches them (lazy-files.ts, file-channel.ts).
 */
export interface SourceNode {
  readonly kind: 'file' | 'dir' | 'symlink'
  /** File size in bytes (0 for others). */
  readonly size: number
  /** Symlink target, as stored. */
  readonly target?: string
  /** A directory's children. */
  entries?: () => Iterable<readonly [string, SourceNode]>
  /** Up to `length` bytes of a file from `offset`. */
  read?: (offset: number, length: number) => Uint8Array
}

/**
 * A tree as plain data: what a host builds and sends to a worker (structured-cloneable). A
 * `lazy` file has only its size here: its bytes are fetched from the host when the module
 * reads them (`id` names it among the call's on-demand files, see file-channel.ts), in pages of
 * `page` bytes (lazy-files.ts; absent: 64 KiB).
 */
export type TreeEntry =
  | { kind: 'file', data: Uint8Array }
  | { kind: 'lazy', size: number, id: number, page?: number }
  | { kind: 'dir', entries: Record<string, TreeEntry> }
  | { kind: 'symlink', target: string }

/** A directory tree mounted at `guest` (an absolute guest path such as `/data`). */
export interface Preopen {
  guest: string
  tree: TreeEntry
}

/**
 * Reads a lazy file's bytes (`offset`..`offset + length`, clamped to `size`) in pages of
 * `page` bytes (the file's own; absent: 64 KiB); may fail with EIO.
 */
export type LazyRead = (id: number, size: number, offset: number, length: number, page?: number) => Uint8Array

/** Wraps a plain tree as a {@link SourceNode}; `lazy` reads its lazy files (none: EIO). */
export function treeSource (t: TreeEntry, lazy?: LazyRead): SourceNode {
  switch (t.kind) {
    case 'file':
      return { kind: 'file', size: t.data.length, read: (offset, length) => t.data.subarray(offset, offset + length) }
    case 'lazy':
      return { kind: 'file', size: t.size, read: (offset, length) => lazy === undefined ? fail(ERRNO.IO) : lazy(t.id, t.size, offset, length, t.page) }
    case 'symlink':
      return { kind: 'symlink', size: 0, target: t.target }
    case 'dir':
      return { kind: 'dir', size: 0, entries: () => Object.entries(t.entries).map(([n, e]) => [n, treeSource(e, lazy)] as const) }
  }
}

/** Signals a failed filesystem operation with its WASI errno; caught at the host function. */
export class FsError extends Error {
  constructor (readonly errno: number) { super(`errno ${errno}`) }
}

export function fail (errno: number): never {
  throw new FsError(errno)
}

/** Bytes a directory entry or an empty node costs against the scratch budget. */
export const NODE_COST = 64

/** The per-call budget of bytes the overlay may hold; exceeding it fails with ENOSPC. */
export class Scratch {
  used = 0
  constructor (readonly limit: number) {}
  take (n: number): void {
    if (n <= 0) return
    if (this.used + n > this.limit) fail(ERRNO.NOSPC)
    this.used += n
  }

  give (n: number): void { this.used = Math.max(0, this.used - n) }

  /** Fails with ENOSPC unless `n` more bytes fit (before paying for work that needs them). */
  check (n: number): void {
    if (n > 0 && this.used + n > this.limit) fail(ERRNO.NOSPC)
  }
}

/** What the overlay needs from its call. */
export interface FsContext {
  scratch: Scratch
  nextIno: () => bigint
  /** The call's virtual realtime, in ns. */
  now: () => bigint
  epoch: bigint
  /** Pays fuel for host work in proportion to it (copying a file up, listing a mounted directory). */
  charge: (units: number) => void
}

abstract class BaseNode {
  nlink = 1n
  atim: bigint
  mtim: bigint
  ctim: bigint
  constructor (readonly ctx: FsContext, readonly ino: bigint, stamp: bigint) {
    this.atim = stamp
    this.mtim = stamp
    this.ctim = stamp
  }

  touch (): void {
    const t = this.ctx.now()
    this.mtim = t
    this.ctim = t
  }
}

export class FileNode extends BaseNode {
  readonly kind = 'file'
  /** Descriptors open on this file: its bytes stay counted until the last one closes. */
  opens = 0
  /** Owned bytes once copied up (capacity may exceed size); null while still the source's. */
  private buf: Uint8Array | null
  size: number
  constructor (ctx: FsContext, ino: bigint, stamp: bigint, private readonly src: SourceNode | null, data?: Uint8Array) {
    super(ctx, ino, stamp)
    this.buf = src === null ? (data ?? new Uint8Array(0)) : null
    this.size = src === null ? this.buf!.length : src.size
  }

  read (offset: number, length: number): Uint8Array {
    const end = Math.min(this.size, offset + length)
    if (end <= offset) return new Uint8Array(0)
    if (this.buf !== null) return this.buf.subarray(offset, end)
    return (this.src as SourceNode).read!(offset, end - offset)
  }

  /** Makes the file `size` bytes long, copying it up first; charges the scratch for growth. */
  resize (size: number): void {
    if (size > Number.MAX_SAFE_INTEGER) fail(ERRNO.FBIG)
    const owned = this.buf !== null
    // a first write copies the mounted bytes up: they count as written bytes from then on
    this.ctx.scratch.take(owned ? size - this.size : size)
    if (!owned) {
      // the copy is paid like any other bytes moved (1 per 16)
      this.ctx.charge(Math.ceil(Math.min(size, this.size) / 16))
      const copy = new Uint8Array(size)
      copy.set(this.read(0, size))
      this.buf = copy
    } else if (size > this.buf!.length) {
      const grown = new Uint8Array(Math.max(size, Math.min(this.buf!.length * 2, size + (1 << 20))))
      grown.set(this.buf!.subarray(0, this.size))
      this.buf = grown
    } else if (size < this.size) {
      this.buf!.fill(0, size, this.size)
      this.ctx.scratch.give(this.size - size)
    }
    this.size = size
  }

  write (offset: number, data: Uint8Array): void {
    const end = offset + data.length
    this.resize(Math.max(this.size, end))
    this.buf!.set(data, offset)
    this.touch()
  }

  /** Gives the file's bytes back to the scratch budget once no name and no descriptor holds it. */
  releaseIfGone (): void {
    if (this.nlink > 0n || this.opens > 0 || this.buf === null) return
    this.ctx.scratch.give(this.size)
    this.buf = new Uint8Array(0)
    this.size = 0
  }
}

export class SymlinkNode extends BaseNode {
  readonly kind = 'symlink'
  constructor (ctx: FsContext, ino: bigint, stamp: bigint, readonly target: string) { super(ctx, ino, stamp) }
  get size (): number { return this.target.length }
}

export type Node = FileNode | DirNode | SymlinkNode

export class DirNode extends BaseNode {
  readonly kind = 'dir'
  readonly size = 0
  private map: Map<string, Node> | null
  constructor (ctx: FsContext, ino: bigint, stamp: bigint, public parent: DirNode | null, private readonly src: SourceNode | null) {
    super(ctx, ino, stamp)
    this.map = src === null ? new Map() : null
  }

  /** The entries, materialized from the source on first use (inodes in sorted order). */
  get entries (): Map<string, Node> {
    if (this.map === null) {
      const names = [...(this.src as SourceNode).entries!()].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
      this.ctx.charge(names.length)
      this.map = new Map()
      for (const [name, s] of names) this.map.set(name, fromSource(this.ctx, s, this))
    }
    return this.map
  }

  get (name: string): Node | undefined { return this.entries.get(name) }

  /**
   * The entries in byte order of their names, kept until the directory changes, so that
   * resuming a listing at a cookie costs what it returns, not the directory's size.
   * `charge` pays for a rebuild (one unit per entry).
   */
  listing (charge: (units: number) => void): ReadonlyArray<readonly [string, Node]> {
    if (this.listed === null) {
      charge(this.entries.size)
      this.listed = [...this.entries].sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
    }
    return this.listed
  }

  private listed: Array<readonly [string, Node]> | null = null

  /** Adds an entry; the name's bytes count against the scratch budget. */
  add (name: string, node: Node): void {
    this.ctx.scratch.take(NODE_COST + name.length)
    this.entries.set(name, node)
    this.listed = null
    if (node.kind === 'dir') node.parent = this
    this.touch()
  }

  remove (name: string): void {
    this.entries.delete(name)
    this.listed = null
    this.ctx.scratch.give(NODE_COST + name.length)
    this.touch()
  }

  /** True when `other` is this directory or below it; `charge` pays a unit per level climbed. */
  contains (other: DirNode, charge: (units: number) => void): boolean {
    let levels = 0
    let found = false
    for (let d: DirNode | null = other; d !== null && !found; d = d.parent) { found = d === this; levels++ }
    charge(levels)
    return found
  }
}

export function fromSource (ctx: FsContext, s: SourceNode, parent: DirNode | null): Node {
  const ino = ctx.nextIno()
  switch (s.kind) {
    case 'file': return new FileNode(ctx, ino, ctx.epoch, s)
    case 'symlink': return new SymlinkNode(ctx, ino, ctx.epoch, s.target ?? '')
    case 'dir': return new DirNode(ctx, ino, ctx.epoch, parent, s)
  }
}

/** Symlinks followed in one resolution before ELOOP (Linux's MAXSYMLINKS). */
export const MAX_SYMLINK_HOPS = 40
/** Longest path a call may pass (Linux's PATH_MAX). */
export const MAX_PATH_BYTES = 4096

/** Where a path led: the directory holding the last component, its name, and the node if any. */
export interface Resolved {
  parent: DirNode
  name: string
  node: Node | undefined
  /** The path ended in `/`: its target must be a directory. */
  dirOnly: boolean
}

/**
 * Resolves `path` relative to `base`, never leaving `base`: `..` above it, an absolute path
 * or an absolute symlink fails with EPERM, as with wasmtime (whose capability-based
 * resolution treats every directory descriptor as a root). The last component's symlink is
 * followed only when `follow` is set, or when the path ends in `/`.
 */
export function resolve (base: DirNode, path: string, follow: boolean, charge: (units: number) => void = () => {}): Resolved {
  if (path.length > MAX_PATH_BYTES) fail(ERRNO.NAMETOOLONG)
  if (path === '') fail(ERRNO.NOENT)
  if (path.includes('\0')) fail(ERRNO.INVAL)
  if (path.startsWith('/')) fail(ERRNO.PERM)
  const stack: DirNode[] = [base]
  let parts = path.split('/')
  let dirOnly = false
  while (parts.length > 1 && parts[parts.length - 1] === '') { parts.pop(); dirOnly = true }
  parts = parts.filter(p => p !== '')
  let hops = 0
  for (;;) {
    // a unit per component walked: symlinks can make a short path walk far
    charge(1)
    const part = parts.shift() as string
    const last = parts.length === 0
    const dir = stack[stack.length - 1] as DirNode
    if (part === '.' || part === '..') {
      if (part === '..') {
        if (stack.length === 1) fail(ERRNO.PERM)
        stack.pop()
      }
      const here = stack[stack.length - 1] as DirNode
      if (last) return { parent: here.parent ?? here, name: part, node: here, dirOnly: true }
      continue
    }
    if (part.length > 255) fail(ERRNO.NAMETOOLONG)
    const node = dir.get(part)
    if (node === undefined) {
      if (last) return { parent: dir, name: part, node: undefined, dirOnly }
      fail(ERRNO.NOENT)
    }
    if (node.kind === 'symlink' && (!last || follow || dirOnly)) {
      if (++hops > MAX_SYMLINK_HOPS) fail(ERRNO.LOOP)
      if (node.target.startsWith('/')) fail(ERRNO.PERM)
      if (node.target === '') fail(ERRNO.NOENT)
      const more = node.target.split('/')
      const trailing = more.length > 1 && more[more.length - 1] === ''
      if (last && trailing) dirOnly = true
      parts = [...more.filter(p => p !== ''), ...parts]
      if (parts.length === 0) parts = ['.']
      continue
    }
    if (last) return { parent: dir, name: part, node, dirOnly }
    if (node.kind !== 'dir') fail(ERRNO.NOTDIR)
    stack.push(node)
  }
}

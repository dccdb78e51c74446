/**
 * The `path_*` host functions of WASI preview1, over one call's overlay. Every path is
 * resolved by wasi-fs-tree.ts's `resolve`, which keeps it inside the directory descriptor it
 * is relative to; errnos follow wasmtime's on Linux (docs/abi.md).
 */
import { ERRNO, FDFLAGS, FILE_RIGHTS, DIR_RIGHTS, LOOKUP_SYMLINK_FOLLOW, OFLAGS, WRITE_RIGHTS } from './wasi-defs.ts'
import { DirNode, FileNode, SymlinkNode, fail, resolve, type Node, type Resolved } from './wasi-fs-tree.ts'
import { errnoOf, FS_CALL_FUEL, MAX_OPEN_FDS, type WasiFs } from './wasi-fs.ts'
import { utf8Encode } from './host.ts'

type Fn = (...args: Array<number | bigint>) => number

/** Resolution for an operation that creates `name`: the parent must exist, the name must be new. */
function creating (r: Resolved): void {
  if (r.node !== undefined) fail(ERRNO.EXIST)
}

/** Resolution for an operation that needs the node to exist. */
function existing (r: Resolved): Node {
  if (r.node === undefined) fail(ERRNO.NOENT)
  if (r.dirOnly && r.node.kind !== 'dir') fail(ERRNO.NOTDIR)
  return r.node
}

function isEmptyDir (d: DirNode): boolean {
  return d.entries.size === 0
}

/** The `path_*` host functions over `fs`. */
export function pathFunctions (fs: WasiFs): Record<string, Fn> {
  const wrap = (fn: (...a: never[]) => void): Fn => (...a) => errnoOf(() => { fs.charge(FS_CALL_FUEL); (fn as (...x: unknown[]) => void)(...a) })
  const at = (fd: number, ptr: number, len: number, follow: boolean, forOpen = false): Resolved => {
    const dir = fs.dir(fd, forOpen)
    const path = fs.string(ptr, len)
    fs.chargeBytes(path.length)
    return resolve(dir, path, follow, units => { fs.charge(units) })
  }
  return {
    path_open: wrap((fd: number, lookup: number, ptr: number, len: number, oflags: number, base: bigint, inheriting: bigint, fdflags: number, out: number) => {
      const parentEntry = fs.get(fd)
      // a full table fails before anything is created, as on Linux
      if (fs.fds.size >= MAX_OPEN_FDS) fail(ERRNO.MFILE)
      const r = at(fd, ptr, len, (lookup & LOOKUP_SYMLINK_FOLLOW) !== 0, true)
      const wantsWrite = (base & WRITE_RIGHTS) !== 0n || (fdflags & FDFLAGS.APPEND) !== 0
      let node = r.node
      if (node === undefined) {
        if ((oflags & OFLAGS.CREAT) === 0) fail(ERRNO.NOENT)
        // open("name/", O_CREAT) names a directory that does not exist
        if (r.dirOnly || (oflags & OFLAGS.DIRECTORY) !== 0) fail(ERRNO.ISDIR)
        node = new FileNode(fs.ctx, fs.ctx.nextIno(), fs.ctx.now(), null)
        r.parent.add(r.name, node)
      } else {
        if ((oflags & OFLAGS.CREAT) !== 0 && (oflags & OFLAGS.EXCL) !== 0) fail(ERRNO.EXIST)
        if (node.kind === 'symlink') fail(ERRNO.LOOP)
        if (((oflags & OFLAGS.DIRECTORY) !== 0 || r.dirOnly) && node.kind !== 'dir') fail(ERRNO.NOTDIR)
        if (node.kind === 'dir' && (wantsWrite || (oflags & OFLAGS.TRUNC) !== 0)) fail(ERRNO.ISDIR)
      }
      if (node.kind === 'file' && (oflags & OFLAGS.TRUNC) !== 0) {
        node.resize(0)
        node.touch()
      }
      const kind = node.kind === 'dir' ? 'dir' : 'file'
      // a descriptor gets what it asked for, within what its directory may hand down
      const allowed = parentEntry.inheriting & (kind === 'dir' ? DIR_RIGHTS | FILE_RIGHTS : FILE_RIGHTS)
      const rights = base & allowed
      const newFd = fs.add({ kind, node, pos: 0, flags: fdflags & (FDFLAGS.APPEND | FDFLAGS.NONBLOCK | FDFLAGS.DSYNC | FDFLAGS.RSYNC | FDFLAGS.SYNC), rights, inheriting: inheriting & allowed })
      fs.view.setUint32(out >>> 0, newFd, true)
    }),
    path_create_directory: wrap((fd: number, ptr: number, len: number) => {
      const r = at(fd, ptr, len, false)
      creating(r)
      r.parent.add(r.name, new DirNode(fs.ctx, fs.ctx.nextIno(), fs.ctx.now(), r.parent, null))
    }),
    path_remove_directory: wrap((fd: number, ptr: number, len: number) => {
      const r = at(fd, ptr, len, false)
      if (r.name === '.') fail(ERRNO.INVAL)
      if (r.name === '..') fail(ERRNO.NOTEMPTY)
      const node = r.node
      if (node === undefined) fail(ERRNO.NOENT)
      if (node.kind !== 'dir') fail(ERRNO.NOTDIR)
      if (!isEmptyDir(node)) fail(ERRNO.NOTEMPTY)
      r.parent.remove(r.name)
      node.nlink = 0n
    }),
    path_unlink_file: wrap((fd: number, ptr: number, len: number) => {
      const r = at(fd, ptr, len, false)
      const node = r.node
      if (node === undefined) fail(ERRNO.NOENT)
      if (node.kind === 'dir') fail(ERRNO.ISDIR)
      if (r.dirOnly) fail(ERRNO.NOTDIR)
      r.parent.remove(r.name)
      unlinked(node)
    }),
    path_rename: wrap((fd: number, ptr: number, len: number, newFd: number, newPtr: number, newLen: number) => {
      const from = at(fd, ptr, len, false)
      const to = at(newFd, newPtr, newLen, false)
      const node = from.node
      if (node === undefined) fail(ERRNO.NOENT)
      if (from.name === '.' || from.name === '..' || to.name === '.' || to.name === '..') fail(ERRNO.BUSY)
      if (node.kind !== 'dir' && (from.dirOnly || to.dirOnly)) fail(ERRNO.NOTDIR)
      const target = to.node
      if (target === node) return
      if (node.kind === 'dir' && node.contains(to.parent, units => { fs.charge(units) })) fail(ERRNO.INVAL)
      if (target !== undefined) {
        if (node.kind === 'dir' && target.kind !== 'dir') fail(ERRNO.NOTDIR)
        if (node.kind !== 'dir' && target.kind === 'dir') fail(ERRNO.ISDIR)
        if (target.kind === 'dir' && !isEmptyDir(target)) fail(ERRNO.NOTEMPTY)
        to.parent.remove(to.name)
        unlinked(target)
      }
      from.parent.remove(from.name)
      to.parent.add(to.name, node)
      node.ctim = fs.ctx.now()
    }),
    path_link: wrap((fd: number, lookup: number, ptr: number, len: number, newFd: number, newPtr: number, newLen: number) => {
      const from = at(fd, ptr, len, (lookup & LOOKUP_SYMLINK_FOLLOW) !== 0)
      const to = at(newFd, newPtr, newLen, false)
      const node = existing(from)
      if (node.kind === 'dir') fail(ERRNO.PERM)
      creating(to)
      if (to.dirOnly) fail(ERRNO.NOENT)
      to.parent.add(to.name, node)
      node.nlink++
      node.ctim = fs.ctx.now()
    }),
    path_symlink: wrap((ptr: number, len: number, fd: number, newPtr: number, newLen: number) => {
      const target = fs.string(ptr, len)
      const to = at(fd, newPtr, newLen, false)
      // wasmtime refuses links that would point outside the sandbox from the start
      if (target.startsWith('/')) fail(ERRNO.PERM)
      creating(to)
      if (to.dirOnly) fail(ERRNO.NOENT)
      to.parent.add(to.name, new SymlinkNode(fs.ctx, fs.ctx.nextIno(), fs.ctx.now(), target))
      fs.ctx.scratch.take(target.length)
    }),
    path_readlink: wrap((fd: number, ptr: number, len: number, buf: number, bufLen: number, used: number) => {
      const r = at(fd, ptr, len, false)
      const node = existing(r)
      if (node.kind !== 'symlink') fail(ERRNO.INVAL)
      const bytes = utf8Encode(node.target)
      const n = Math.min(bytes.length, bufLen >>> 0)
      fs.bytes(buf, n).set(bytes.subarray(0, n))
      fs.view.setUint32(used >>> 0, n, true)
    }),
    path_filestat_get: wrap((fd: number, lookup: number, ptr: number, len: number, out: number) => {
      const r = at(fd, ptr, len, (lookup & LOOKUP_SYMLINK_FOLLOW) !== 0)
      fs.writeFilestat(out, existing(r))
    }),
    path_filestat_set_times: wrap((fd: number, lookup: number, ptr: number, len: number, atim: bigint, mtim: bigint, flags: number) => {
      const r = at(fd, ptr, len, (lookup & LOOKUP_SYMLINK_FOLLOW) !== 0)
      fs.setTimes(existing(r), atim, mtim, flags)
    })
  }
}

function unlinked (node: Node): void {
  node.nlink--
  if (node instanceof FileNode) node.releaseIfGone()
}

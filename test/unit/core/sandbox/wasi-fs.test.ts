import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import { createWasiContext, DEFAULT_LIMITS, prepareModule, runModule, sha256Hex, type TreeEntry } from '../../../../src/core/sandbox/index.ts'
import { compileWat } from '../../../fixtures/wasm/fixtures.ts'

/**
 * Each WASI filesystem call, called directly with a memory of our own, against the errno
 * wasmtime returns for the same call on Linux (the table in docs/abi.md).
 */
const enc = new TextEncoder()
const file = (s: string): TreeEntry => ({ kind: 'file', data: enc.encode(s) })
const link = (target: string): TreeEntry => ({ kind: 'symlink', target })
const tree = (): TreeEntry => ({
  kind: 'dir',
  entries: {
    'a.txt': file('hello'),
    dir: { kind: 'dir', entries: { 'nested.txt': file('n'), sub: { kind: 'dir', entries: {} } } },
    empty: { kind: 'dir', entries: {} },
    'link-a': link('a.txt'),
    dlink: link('dir'),
    loop1: link('loop2'),
    loop2: link('loop1'),
    up: link('..'),
    abs: link('/etc/passwd')
  }
})

const E = { SUCCESS: 0, BADF: 8, EXIST: 20, INVAL: 28, ISDIR: 31, LOOP: 32, MFILE: 33, NAMETOOLONG: 37, NOENT: 44, NOSPC: 51, NOTDIR: 54, NOTEMPTY: 55, NOTSOCK: 57, PERM: 63, SPIPE: 70, NOTCAPABLE: 76 }
const READ = 1n << 1n
const WRITE = 1n << 6n
const SEEK = (1n << 2n) | (1n << 5n)
const ALL = (1n << 29n) - 1n
const O = { CREAT: 1, DIRECTORY: 2, EXCL: 4, TRUNC: 8 }
const FOLLOW = 1
const PREOPEN = 3

type Imports = Record<string, (...a: Array<number | bigint>) => number>

/** A WASI context over a fresh copy of {@link tree} mounted at /data, driven from JS. */
class Session {
  private bump = 1024
  readonly mem = new WebAssembly.Memory({ initial: 4 })
  constructor (readonly imports: Imports) {}
  get view (): DataView { return new DataView(this.mem.buffer) }
  call (name: string, ...args: Array<number | bigint>): number { return (this.imports[name] as (...a: Array<number | bigint>) => number)(...args) }
  alloc (n: number): number { const p = this.bump; this.bump += (n + 7) & ~7; return p }
  str (s: string): [number, number] {
    const b = enc.encode(s)
    const p = this.alloc(b.length)
    new Uint8Array(this.mem.buffer, p, b.length).set(b)
    return [p, b.length]
  }

  open (path: string, o: { oflags?: number, rights?: bigint, fdflags?: number, lookup?: number, dir?: number } = {}): { errno: number, fd: number } {
    const out = this.alloc(4)
    const errno = this.call('path_open', o.dir ?? PREOPEN, o.lookup ?? FOLLOW, ...this.str(path), o.oflags ?? 0, o.rights ?? (READ | SEEK), ALL, o.fdflags ?? 0, out)
    return { errno, fd: this.view.getUint32(out, true) }
  }

  fd (path: string, o: Parameters<Session['open']>[1] = {}): number {
    const r = this.open(path, o)
    expect(r.errno).toBe(0)
    return r.fd
  }

  write (fd: number, s: string): number {
    const [p, n] = this.str(s)
    const iov = this.alloc(8)
    this.view.setUint32(iov, p, true)
    this.view.setUint32(iov + 4, n, true)
    return this.call('fd_write', fd, iov, 1, this.alloc(4))
  }

  read (fd: number, n = 64, offset?: bigint): string {
    const buf = this.alloc(n)
    const iov = this.alloc(8)
    this.view.setUint32(iov, buf, true)
    this.view.setUint32(iov + 4, n, true)
    const used = this.alloc(4)
    const errno = offset === undefined ? this.call('fd_read', fd, iov, 1, used) : this.call('fd_pread', fd, iov, 1, offset, used)
    expect(errno).toBe(0)
    return new TextDecoder().decode(new Uint8Array(this.mem.buffer, buf, this.view.getUint32(used, true)))
  }

  /** filestat as [ino, filetype, nlink, size, mtim]. */
  stat (path: string, lookup = FOLLOW): bigint[] {
    const out = this.alloc(64)
    expect(this.call('path_filestat_get', PREOPEN, lookup, ...this.str(path), out)).toBe(0)
    const v = this.view
    return [v.getBigUint64(out + 8, true), BigInt(v.getUint8(out + 16)), v.getBigUint64(out + 24, true), v.getBigUint64(out + 32, true), v.getBigUint64(out + 48, true)]
  }

  /** fd_readdir from `cookie` into a `size`-byte buffer: [names, next cookies, bytes used]. */
  readdir (fd: number, cookie: bigint, size = 4096): { names: string[], cookies: bigint[], used: number } {
    const buf = this.alloc(size)
    const used = this.alloc(4)
    expect(this.call('fd_readdir', fd, buf, size, cookie, used)).toBe(0)
    const n = this.view.getUint32(used, true)
    const names: string[] = []
    const cookies: bigint[] = []
    for (let at = 0; at + 24 <= n;) {
      const len = this.view.getUint32(buf + at + 16, true)
      if (at + 24 + len > n) break
      cookies.push(this.view.getBigUint64(buf + at, true))
      names.push(new TextDecoder().decode(new Uint8Array(this.mem.buffer, buf + at + 24, len)))
      at += 24 + len
    }
    return { names, cookies, used: n }
  }
}

function session<T> (body: (s: Session) => T, opts: { scratchBytes?: number, input?: Uint8Array, root?: TreeEntry } = {}): T {
  const ctx = createWasiContext({ args: [], env: [], input: opts.input ?? new Uint8Array(0), seed: 0, maxOutputBytes: 1 << 20, preopens: [{ guest: '/data', tree: opts.root ?? tree() }], scratchBytes: opts.scratchBytes })
  let out: T | undefined
  const s = new Session(ctx.imports as Imports)
  ctx.start(s.mem, () => { out = body(s) })
  return out as T
}

/** [what, expected errno, the call]: the errno table of docs/abi.md. */
const ERRNO_CASES: Array<[string, number, (s: Session) => number]> = [
  ['path_open of a missing file', E.NOENT, s => s.open('missing').errno],
  ['path_open CREAT|EXCL of an existing file', E.EXIST, s => s.open('a.txt', { oflags: O.CREAT | O.EXCL, rights: WRITE }).errno],
  ['path_open DIRECTORY of a file', E.NOTDIR, s => s.open('a.txt', { oflags: O.DIRECTORY }).errno],
  ['path_open of a file with a trailing slash', E.NOTDIR, s => s.open('a.txt/').errno],
  ['path_open through a file', E.NOTDIR, s => s.open('a.txt/x').errno],
  ['path_open of a directory for writing', E.ISDIR, s => s.open('dir', { rights: READ | WRITE }).errno],
  ['path_open CREAT of a name with a trailing slash', E.ISDIR, s => s.open('new/', { oflags: O.CREAT, rights: WRITE }).errno],
  ['path_open CREAT in a missing directory', E.NOENT, s => s.open('missing/x', { oflags: O.CREAT, rights: WRITE }).errno],
  ['path_open of `..` above the preopen', E.PERM, s => s.open('../x').errno],
  ['path_open of an absolute path', E.PERM, s => s.open('/etc/passwd').errno],
  ['path_open climbing out through a subdirectory', E.PERM, s => s.open('dir/../../x').errno],
  ['path_open through a symlink to `..`', E.PERM, s => s.open('up/a.txt').errno],
  ['path_open of an absolute symlink', E.PERM, s => s.open('abs').errno],
  ['path_open of a symlink loop', E.LOOP, s => s.open('loop1').errno],
  ['path_open of a symlink without SYMLINK_FOLLOW', E.LOOP, s => s.open('link-a', { lookup: 0 }).errno],
  ['path_open of a symlink with SYMLINK_FOLLOW', E.SUCCESS, s => s.open('link-a').errno],
  ['path_open of a dir symlink with a trailing slash, no follow', E.SUCCESS, s => s.open('dlink/', { lookup: 0, oflags: O.DIRECTORY }).errno],
  ['path_open relative to a file descriptor', E.NOTDIR, s => s.open('x', { dir: s.fd('a.txt') }).errno],
  ['path_open relative to a closed descriptor', E.BADF, s => s.open('x', { dir: 77 }).errno],
  ['fd_read without the read right', E.BADF, s => s.call('fd_read', s.fd('a.txt', { rights: WRITE }), 0, 0, 0)],
  ['fd_write without the write right', E.BADF, s => s.write(s.fd('a.txt'), 'x')],
  ['fd_read of a directory', E.BADF, s => s.call('fd_read', PREOPEN, 0, 0, 0)],
  ['fd_write to stdin', E.BADF, s => s.write(0, 'x')],
  ['fd_seek on stdout', E.SPIPE, s => s.call('fd_seek', 1, 0n, 0, s.alloc(8))],
  ['fd_seek with a bad whence', E.INVAL, s => s.call('fd_seek', s.fd('a.txt'), 0n, 7, s.alloc(8))],
  ['fd_seek before the start', E.INVAL, s => s.call('fd_seek', s.fd('a.txt'), -1n, 0, s.alloc(8))],
  ['fd_tell on stdout', E.SPIPE, s => s.call('fd_tell', 2, s.alloc(8))],
  ['fd_pread on stdout', E.SPIPE, s => s.call('fd_pread', 1, 0, 0, 0n, s.alloc(4))],
  ['fd_close of a closed descriptor', E.BADF, s => s.call('fd_close', 99)],
  ['fd_readdir of a file', E.NOTDIR, s => s.call('fd_readdir', s.fd('a.txt'), 0, 0, 0n, s.alloc(4))],
  ['fd_prestat_get of stdin', E.BADF, s => s.call('fd_prestat_get', 0, s.alloc(8))],
  ['fd_prestat_dir_name into a short buffer', E.NAMETOOLONG, s => s.call('fd_prestat_dir_name', PREOPEN, s.alloc(8), 2)],
  ['fd_filestat_set_size of a read-only descriptor', E.BADF, s => s.call('fd_filestat_set_size', s.fd('a.txt'), 1n)],
  ['fd_filestat_set_size of stdin', E.BADF, s => s.call('fd_filestat_set_size', 0, 1n)],
  ['fd_allocate of stdin', E.BADF, s => s.call('fd_allocate', 0, 0n, 1n)],
  ['fd_fdstat_set_rights (accepted and ignored)', E.SUCCESS, s => s.call('fd_fdstat_set_rights', s.fd('a.txt', { rights: READ }), READ | WRITE, 0n)],
  ['fd_fdstat_set_rights of a closed descriptor', E.BADF, s => s.call('fd_fdstat_set_rights', 99, 0n, 0n)],
  ['fd_fdstat_set_flags with SYNC', E.INVAL, s => s.call('fd_fdstat_set_flags', s.fd('a.txt'), 16)],
  ['fd_fdstat_set_flags of stdout', E.BADF, s => s.call('fd_fdstat_set_flags', 1, 1)],
  ['fd_sync of stdout', E.BADF, s => s.call('fd_sync', 1)],
  ['fd_advise of stdout', E.BADF, s => s.call('fd_advise', 1, 0n, 0n, 0)],
  ['path_create_directory relative to a file', E.BADF, s => s.call('path_create_directory', s.fd('a.txt'), ...s.str('x'))],
  ['path_open relative to stdin', E.BADF, s => s.open('x', { dir: 0 }).errno],
  ['fd_renumber onto a closed descriptor', E.BADF, s => s.call('fd_renumber', PREOPEN, 50)],
  ['path_create_directory of an existing name', E.EXIST, s => s.call('path_create_directory', PREOPEN, ...s.str('dir'))],
  ['path_create_directory in a missing directory', E.NOENT, s => s.call('path_create_directory', PREOPEN, ...s.str('missing/x'))],
  ['path_remove_directory of a file', E.NOTDIR, s => s.call('path_remove_directory', PREOPEN, ...s.str('a.txt'))],
  ['path_remove_directory of a non-empty directory', E.NOTEMPTY, s => s.call('path_remove_directory', PREOPEN, ...s.str('dir'))],
  ['path_remove_directory of `.`', E.INVAL, s => s.call('path_remove_directory', PREOPEN, ...s.str('.'))],
  ['path_unlink_file of a directory', E.ISDIR, s => s.call('path_unlink_file', PREOPEN, ...s.str('dir'))],
  ['path_unlink_file of a missing file', E.NOENT, s => s.call('path_unlink_file', PREOPEN, ...s.str('missing'))],
  ['path_unlink_file of a file with a trailing slash', E.NOTDIR, s => s.call('path_unlink_file', PREOPEN, ...s.str('a.txt/'))],
  ['path_rename of a missing file', E.NOENT, s => s.call('path_rename', PREOPEN, ...s.str('missing'), PREOPEN, ...s.str('b'))],
  ['path_rename of a directory over a file', E.NOTDIR, s => s.call('path_rename', PREOPEN, ...s.str('empty'), PREOPEN, ...s.str('a.txt'))],
  ['path_rename of a file over a directory', E.ISDIR, s => s.call('path_rename', PREOPEN, ...s.str('a.txt'), PREOPEN, ...s.str('empty'))],
  ['path_rename of a directory into itself', E.INVAL, s => s.call('path_rename', PREOPEN, ...s.str('dir'), PREOPEN, ...s.str('dir/sub/x'))],
  ['path_rename over a non-empty directory', E.NOTEMPTY, s => s.call('path_rename', PREOPEN, ...s.str('empty'), PREOPEN, ...s.str('dir'))],
  ['path_rename out of the preopen', E.PERM, s => s.call('path_rename', PREOPEN, ...s.str('a.txt'), PREOPEN, ...s.str('../a.txt'))],
  ['path_link of a directory', E.PERM, s => s.call('path_link', PREOPEN, 0, ...s.str('dir'), PREOPEN, ...s.str('d2'))],
  ['path_link onto an existing name', E.EXIST, s => s.call('path_link', PREOPEN, 0, ...s.str('a.txt'), PREOPEN, ...s.str('empty'))],
  ['path_symlink to an absolute path', E.PERM, s => s.call('path_symlink', ...s.str('/etc'), PREOPEN, ...s.str('l'))],
  ['path_symlink onto an existing name', E.EXIST, s => s.call('path_symlink', ...s.str('a.txt'), PREOPEN, ...s.str('dir'))],
  ['path_readlink of a file', E.INVAL, s => s.call('path_readlink', PREOPEN, ...s.str('a.txt'), s.alloc(16), 16, s.alloc(4))],
  ['path_filestat_get of a symlink loop', E.LOOP, s => s.call('path_filestat_get', PREOPEN, FOLLOW, ...s.str('loop1'), s.alloc(64))],
  ['path_filestat_set_times with ATIM and ATIM_NOW', E.INVAL, s => s.call('path_filestat_set_times', PREOPEN, FOLLOW, ...s.str('a.txt'), 0n, 0n, 3)],
  ['sock_shutdown of stdout', E.NOTSOCK, s => s.call('sock_shutdown', 1, 3)],
  ['sock_shutdown of a closed descriptor', E.BADF, s => s.call('sock_shutdown', 99, 3)],
  ['sock_recv of stdin', E.NOTSOCK, s => s.call('sock_recv', 0, 0, 0, 0, 0, 0)],
  ['poll_oneoff with no subscriptions', E.INVAL, s => s.call('poll_oneoff', s.alloc(48), s.alloc(32), 0, s.alloc(4))]
]

describe('WASI filesystem errnos (as wasmtime)', () => {
  for (const [what, errno, call] of ERRNO_CASES) {
    it(`${what}: ${errno}`, () => { expect(session(call)).toBe(errno) })
  }
})

describe('WASI filesystem semantics', () => {
  it('reads, writes, appends, seeks, preads and pwrites, truncates and allocates', () => {
    session(s => {
      const fd = s.fd('a.txt', { rights: READ | WRITE | SEEK | (1n << 22n) | (1n << 8n) })
      expect(s.read(fd)).toBe('hello')
      expect(s.write(fd, ' world')).toBe(0)
      expect(s.read(fd, 64, 0n)).toBe('hello world')
      const app = s.fd('a.txt', { rights: WRITE | READ, fdflags: 1 })
      expect(s.write(app, '!')).toBe(0)
      expect(s.read(fd, 64, 0n)).toBe('hello world!')
      expect(s.call('fd_filestat_set_size', fd, 4n)).toBe(0)
      expect(s.read(fd, 64, 0n)).toBe('hell')
      expect(s.call('fd_allocate', fd, 0n, 6n)).toBe(0)
      expect(s.read(fd, 64, 0n)).toBe('hell\0\0')
      const pos = s.alloc(8)
      expect(s.call('fd_seek', fd, -2n, 2, pos)).toBe(0)
      expect(s.view.getBigUint64(pos, true)).toBe(4n)
    })
  })

  it('creates, truncates, renames, links and unlinks in the overlay', () => {
    session(s => {
      expect(s.write(s.fd('new.txt', { oflags: O.CREAT, rights: WRITE }), 'abc')).toBe(0)
      expect(s.stat('new.txt')[3]).toBe(3n)
      s.fd('new.txt', { oflags: O.TRUNC, rights: WRITE })
      expect(s.stat('new.txt')[3]).toBe(0n)
      expect(s.call('path_link', PREOPEN, 0, ...s.str('a.txt'), PREOPEN, ...s.str('dir/hard'))).toBe(0)
      expect(s.stat('a.txt')[2]).toBe(2n)
      expect(s.call('path_rename', PREOPEN, ...s.str('dir'), PREOPEN, ...s.str('empty/moved'))).toBe(0)
      expect(s.read(s.fd('empty/moved/hard'))).toBe('hello')
      expect(s.call('path_unlink_file', PREOPEN, ...s.str('empty/moved/hard'))).toBe(0)
      expect(s.stat('a.txt')[2]).toBe(1n)
      expect(s.call('path_symlink', ...s.str('../a.txt'), PREOPEN, ...s.str('empty/back'))).toBe(0)
      expect(s.read(s.fd('empty/back'))).toBe('hello')
      const buf = s.alloc(4)
      const used = s.alloc(4)
      // a short buffer truncates, as readlink(2) does
      expect(s.call('path_readlink', PREOPEN, ...s.str('empty/back'), buf, 4, used)).toBe(0)
      expect(s.view.getUint32(used, true)).toBe(4)
    })
  })

  it('lists a directory with cookies, resuming where a full buffer stopped', () => {
    session(s => {
      const all = s.readdir(PREOPEN, 0n)
      expect(all.names).toEqual(['.', '..', 'a.txt', 'abs', 'dir', 'dlink', 'empty', 'link-a', 'loop1', 'loop2', 'up'])
      expect(all.cookies).toEqual(all.names.map((_, i) => BigInt(i + 1)))
      const rest = s.readdir(PREOPEN, 4n)
      expect(rest.names).toEqual(all.names.slice(4))
      // a buffer that ends inside an entry is returned full: the caller asks again from the last whole one
      const part = s.readdir(PREOPEN, 0n, 60)
      expect(part.used).toBe(60)
      expect(part.names).toEqual(['.', '..'])
      expect(s.readdir(PREOPEN, 99n).names).toEqual([])
    })
  })

  it('gives the same inode numbers and timestamps in every call', () => {
    const observe = (s: Session): bigint[][] => {
      s.fd('made', { oflags: O.CREAT, rights: WRITE })
      return [s.stat('dir/nested.txt'), s.stat('made'), s.stat('a.txt')]
    }
    const first = session(observe)
    expect(session(observe)).toEqual(first)
    // mounted files carry the fixed epoch; a file made in the call, the call's virtual clock
    expect(first[0]?.[4]).toBe(1_700_000_000_000_000_000n)
  })

  it('never changes the mounted tree: writes vanish with the call', () => {
    const root = tree()
    session(s => {
      expect(s.write(s.fd('a.txt', { rights: WRITE }), 'HELLO')).toBe(0)
      expect(s.call('path_unlink_file', PREOPEN, ...s.str('link-a'))).toBe(0)
      expect(s.call('path_remove_directory', PREOPEN, ...s.str('empty'))).toBe(0)
    }, { root })
    expect(root).toEqual(tree())
    expect(session(s => s.read(s.fd('a.txt')), { root })).toBe('hello')
  })

  it('refuses writes past the scratch budget with ENOSPC', () => {
    session(s => {
      const fd = s.fd('big', { oflags: O.CREAT, rights: WRITE })
      expect(s.write(fd, 'x'.repeat(900))).toBe(0)
      expect(s.write(fd, 'x'.repeat(200))).toBe(E.NOSPC)
      expect(s.call('fd_filestat_set_size', fd, 1n << 40n)).toBe(E.NOSPC)
      // copying a mounted file up counts too
      expect(s.write(s.fd('a.txt', { rights: WRITE }), 'x')).toBe(0)
    }, { scratchBytes: 1024 })
  })

  it('keeps an unlinked file counted while a descriptor holds it', () => {
    session(s => {
      const f = s.fd('f', { oflags: O.CREAT, rights: WRITE })
      expect(s.write(f, 'x'.repeat(800))).toBe(0)
      expect(s.call('path_unlink_file', PREOPEN, ...s.str('f'))).toBe(0)
      const g = s.fd('g', { oflags: O.CREAT, rights: WRITE })
      expect(s.write(g, 'y'.repeat(200))).toBe(E.NOSPC)
      expect(s.call('fd_close', f)).toBe(0)
      expect(s.write(g, 'y'.repeat(200))).toBe(0)
    }, { scratchBytes: 1024 })
  })

  it('bounds the descriptor table with EMFILE', () => {
    session(s => {
      let n = 0
      for (; n < 5000; n++) if (s.open('a.txt').errno !== 0) break
      expect(s.open('a.txt').errno).toBe(E.MFILE)
      expect(n).toBe(1024 - 4)
      expect(s.call('fd_close', 10)).toBe(0)
      expect(s.open('a.txt').fd).toBe(10)
    })
  })

  it('answers poll_oneoff on stdio at once, with stdin\'s readable bytes', () => {
    session(s => {
      const subs = s.alloc(96)
      s.view.setBigUint64(subs, 7n, true)
      s.view.setUint8(subs + 8, 1) // FD_READ
      s.view.setUint32(subs + 16, 0, true)
      s.view.setBigUint64(subs + 48, 8n, true)
      s.view.setUint8(subs + 56, 2) // FD_WRITE
      s.view.setUint32(subs + 64, 1, true)
      const events = s.alloc(64)
      const n = s.alloc(4)
      expect(s.call('poll_oneoff', subs, events, 2, n)).toBe(0)
      expect(s.view.getUint32(n, true)).toBe(2)
      expect(s.view.getBigUint64(events, true)).toBe(7n)
      expect(s.view.getUint16(events + 8, true)).toBe(0)
      expect(s.view.getBigUint64(events + 16, true)).toBe(3n)
      expect(s.view.getBigUint64(events + 32, true)).toBe(8n)
    }, { input: Uint8Array.of(1, 2, 3) })
  })

  it('renumbers descriptors', () => {
    session(s => {
      const a = s.fd('a.txt')
      const b = s.fd('dir/nested.txt')
      expect(s.call('fd_renumber', a, b)).toBe(0)
      expect(s.read(b)).toBe('hello')
      expect(s.call('fd_close', a)).toBe(E.BADF)
    })
  })
})

describe('WASI filesystem fuel', () => {
  /** Reads a 1 MiB mounted file with fd_pread, `count` times (forever when count is 0). */
  const reader = (count: number): string => `(module
    (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
    (import "wasi_snapshot_preview1" "fd_pread" (func $pread (param i32 i32 i32 i64 i32) (result i32)))
    (memory (export "memory") 32)
    (data (i32.const 0) "blob")
    (func (export "_start") (local $n i32)
      (drop (call $open (i32.const 3) (i32.const 1) (i32.const 0) (i32.const 4) (i32.const 0) (i64.const 2) (i64.const 0) (i32.const 0) (i32.const 16)))
      (i32.store (i32.const 32) (i32.const 65536))
      (i32.store (i32.const 36) (i32.const 1048576))
      (loop $l
        (drop (call $pread (i32.load (i32.const 16)) (i32.const 32) (i32.const 1) (i64.const 0) (i32.const 40)))
        (local.set $n (i32.add (local.get $n) (i32.const 1)))
        (br_if $l (i32.ne (local.get $n) (i32.const ${count}))))))`
  const run = async (count: number, fuel: number): Promise<number> => {
    const bytes = await compileWat(reader(count))
    const prepared = await prepareModule(bytes, await sha256Hex(bytes), 'wasi', 32)
    const preopens = [{ guest: '/data', tree: { kind: 'dir', entries: { blob: { kind: 'file', data: new Uint8Array(1 << 20) } } } as TreeEntry }]
    return runModule(prepared, { abi: 'wasi', input: new Uint8Array(0), args: [], env: [], seed: 0, limits: { ...DEFAULT_LIMITS, memoryPages: 32, fuel }, preopens }).fuelUsed
  }

  it('charges reads in proportion to the bytes moved, exactly and the same every time', async () => {
    const one = await run(1, 1e9)
    const three = await run(3, 1e9)
    // each 1 MiB read costs the call's 16, its iovec's 1 and 65,536 for the bytes
    expect(three - one).toBeGreaterThanOrEqual(2 * (16 + 1 + 65_536))
    expect(three - one).toBeLessThan(2 * (16 + 1 + 65_536 + 64))
    expect(await run(3, 1e9)).toBe(three)
    expect(await run(3, three)).toBe(three)
    await expect(run(3, three - 1)).rejects.toMatchObject({ code: 'FUEL_EXHAUSTED' })
  })

  it('stops a loop of big reads when its fuel runs out, after about fuel / 65,536 MiB', async () => {
    const err = await run(0, 10_000_000).then(() => undefined, (e: unknown) => e)
    expect(err).toBeInstanceOf(ShadwError)
    expect((err as ShadwError).code).toBe('FUEL_EXHAUSTED')
  })
})

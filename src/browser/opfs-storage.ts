/**
 * Persistent Hypercore 10 storage in the browser: a random-access-storage over the Origin
 * Private File System, through `FileSystemSyncAccessHandle`.
 *
 * Sync access handles exist only in Dedicated Workers, so this runs in the node worker.
 * Opening a handle is async and takes an exclusive lock on the file for this context; after
 * that read/write/getSize/truncate/flush/close are synchronous, which is what makes the
 * adapter small and fast (no IndexedDB transactions, no Blob copies).
 *
 * Flush policy. Chromium's sync access handle has no user-space buffer: `write()` goes
 * straight to the file, so once it returns the bytes are in the operating system's page
 * cache and survive a reload, a tab crash or the worker being killed (the reload test writes
 * without closing and reads the data back). `flush()` is an fsync: it only adds protection
 * against an OS crash or power loss, at the price of a disk round trip per call. Hypercore 10
 * on Node (random-access-file) never fsyncs either, and its oplog is designed to recover a
 * torn tail. So we flush when a file is closed or suspended, and callers that want fsync per
 * write set `durableWrites`.
 *
 * Speed. In a profile on disk every handle call is a plain file operation in the worker; in an
 * incognito (off-the-record) profile, which is also what a default playwright context is,
 * Chromium forwards each call to the browser process, 10 to 30 times slower here. Hence one
 * handle call per read on the common path, and benchmarks should use a persistent profile.
 */
import RandomAccessStorage, { type RandomAccessRequest, type RandomAccessStat } from 'random-access-storage'
import { ShadwError } from '../core/errors.ts'
import { log } from '../core/log.ts'
import { isLockContention, partialReadError, storageError, type StorageOp } from './storage-errors.ts'

const debug = log('opfs')

/**
 * Retries after a first failed `createSyncAccessHandle()` because another context holds the
 * file. The case that matters is leader hand-over: a new leader tab opens the node's files
 * while the closing tab's worker is still being torn down, which in Chromium takes from a few
 * to a few hundred milliseconds. 10 retries with the backoff below wait about 2.6 s in all.
 */
export const LOCK_RETRIES = 10

/** First backoff delay between lock retries; doubles each time (20, 40, 80, ... ms). */
export const LOCK_RETRY_DELAY_MS = 20

/** Backoff ceiling, so the last retries still come a few times a second. */
export const LOCK_RETRY_MAX_DELAY_MS = 500

/** `del` zero-fills in chunks of this size so clearing a large range never allocates it all. */
const ZERO_CHUNK_BYTES = 64 * 1024

/** The part of `FileSystemSyncAccessHandle` the adapter uses. */
export interface OpfsSyncAccessHandle {
  read (buffer: Uint8Array, options: { at: number }): number
  write (buffer: Uint8Array, options: { at: number }): number
  getSize (): number
  truncate (size: number): void
  flush (): void
  close (): void
}

/** The part of `FileSystemFileHandle` the adapter uses; the method is missing outside Dedicated Workers. */
export interface OpfsFileHandle {
  createSyncAccessHandle?: () => Promise<OpfsSyncAccessHandle>
}

/** The part of `FileSystemDirectoryHandle` the adapter uses. */
export interface OpfsDirectoryHandle {
  getDirectoryHandle (name: string, options?: { create?: boolean }): Promise<OpfsDirectoryHandle>
  getFileHandle (name: string, options?: { create?: boolean }): Promise<OpfsFileHandle>
  removeEntry (name: string, options?: { recursive?: boolean }): Promise<void>
}

/** Options of {@link OpfsStorage} and {@link opfsStorage}. */
export interface OpfsStorageOptions {
  /** Retries when another context holds the file; default {@link LOCK_RETRIES}. */
  lockRetries?: number
  /** First retry delay in ms, doubling up to {@link LOCK_RETRY_MAX_DELAY_MS}; default {@link LOCK_RETRY_DELAY_MS}. */
  lockRetryDelayMs?: number
  /** fsync after every write, del and truncate (see the flush policy above); default false. */
  durableWrites?: boolean
  /**
   * Create the file when opened for reading too. Default false: like random-access-file, a
   * file is created by its first write, and reading a missing one fails with `ENOENT`, which
   * Hypercore and Corestore read as "nothing stored yet".
   */
  createAlways?: boolean
  /** Called before each lock retry, with the 1-based retry number (logging, tests). */
  onLockRetry?: (path: string, retry: number) => void
  /** Where the root directory comes from; default `navigator.storage.getDirectory()`. */
  getDirectory?: () => Promise<OpfsDirectoryHandle>
}

async function originRoot (): Promise<OpfsDirectoryHandle> {
  const g = globalThis as {
    navigator?: { storage?: { getDirectory?: () => Promise<OpfsDirectoryHandle> } }
    FileSystemFileHandle?: { prototype: object }
  }
  const storage = g.navigator?.storage
  if (storage === undefined || typeof storage.getDirectory !== 'function') {
    throw ShadwError.STORAGE_UNAVAILABLE('navigator.storage.getDirectory is missing: no origin private file system here')
  }
  // checked up front so a page never creates directories it then cannot use
  if (g.FileSystemFileHandle === undefined || !('createSyncAccessHandle' in g.FileSystemFileHandle.prototype)) {
    throw ShadwError.STORAGE_UNAVAILABLE('FileSystemSyncAccessHandle is missing: OPFS storage runs only in a Dedicated Worker')
  }
  try {
    return await storage.getDirectory()
  } catch (err) {
    throw storageError(err, '/', 'open')
  }
}

interface SharedHandle {
  handle: Promise<OpfsSyncAccessHandle>
  refs: number
}

/**
 * Open handles per root and path. A sync access handle is exclusive even within one worker,
 * yet Hypercore and Corestore may open the same file twice (Corestore's existence check opens
 * a core's oplog while the core may hold it), as random-access-file allows with two fds. So
 * instances on one path share one handle, closed when the last of them closes.
 */
const OPEN_HANDLES = new WeakMap<() => Promise<OpfsDirectoryHandle>, Map<string, SharedHandle>>()

function handlesOf (root: () => Promise<OpfsDirectoryHandle>): Map<string, SharedHandle> {
  let map = OPEN_HANDLES.get(root)
  if (map === undefined) OPEN_HANDLES.set(root, map = new Map())
  return map
}

async function acquire (handles: Map<string, SharedHandle>, path: string, open: () => Promise<OpfsSyncAccessHandle>): Promise<OpfsSyncAccessHandle> {
  let entry = handles.get(path)
  if (entry === undefined) {
    const created: SharedHandle = { handle: open(), refs: 0 }
    handles.set(path, entry = created)
    created.handle.catch(() => { if (handles.get(path) === created) handles.delete(path) })
  }
  entry.refs++
  try {
    return await entry.handle
  } catch (err) {
    entry.refs--
    throw err
  }
}

/** Drops one reference; true when it was the last, so the caller must flush and close the handle. */
function release (handles: Map<string, SharedHandle>, path: string): boolean {
  const entry = handles.get(path)
  if (entry === undefined || --entry.refs > 0) return false
  handles.delete(path)
  return true
}

function sleep (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}

function nonNegativeInteger (name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) throw ShadwError.INVALID_ARGUMENT(`${name} must be a non-negative integer`, { [name]: value })
  return value
}

/**
 * Splits a storage path into OPFS entry names. Empty segments are dropped (`a//b` is `a/b`,
 * as random-access-file's path.resolve has it); `.`/`..` and backslashes are refused
 * because OPFS names are literal entries, not a path language.
 */
export function pathSegments (path: string): string[] {
  const segments = path.split('/').filter(s => s !== '')
  for (const s of segments) {
    if (s === '.' || s === '..' || s.includes('\\') || s.includes('\0')) {
      throw ShadwError.INVALID_ARGUMENT(`storage path segment ${JSON.stringify(s)} is not allowed`, { path })
    }
  }
  return segments
}

/**
 * One file in the Origin Private File System, as a random-access-storage instance.
 *
 * @example
 * ```ts
 * const file = new OpfsStorage('shadw', 'cores/ab/cd/oplog')
 * file.write(0, bytes, err => { ... })
 * ```
 */
export class OpfsStorage extends RandomAccessStorage {
  /** `root/name`, normalised; the key errors carry in `details.path`. */
  readonly path: string
  private readonly rootSegments: string[]
  private readonly nameSegments: string[]
  private readonly lockRetries: number
  private readonly lockRetryDelayMs: number
  private readonly durableWrites: boolean
  private readonly createAlways: boolean
  private readonly onLockRetry: ((path: string, retry: number) => void) | undefined
  private readonly getRoot: () => Promise<OpfsDirectoryHandle>
  private handle: OpfsSyncAccessHandle | null = null

  /**
   * @param root directory under the OPFS root that holds everything (e.g. `shadw`).
   * @param name file path inside it; segments become nested directories.
   * @throws ShadwError `INVALID_ARGUMENT` for an empty name, a `.`/`..` segment or a negative retry option.
   */
  constructor (root: string, name: string, opts: OpfsStorageOptions = {}) {
    super()
    this.rootSegments = pathSegments(root)
    this.nameSegments = pathSegments(name)
    if (this.nameSegments.length === 0) throw ShadwError.INVALID_ARGUMENT('storage file name is empty', { name })
    this.path = [...this.rootSegments, ...this.nameSegments].join('/')
    this.lockRetries = nonNegativeInteger('lockRetries', opts.lockRetries ?? LOCK_RETRIES)
    this.lockRetryDelayMs = nonNegativeInteger('lockRetryDelayMs', opts.lockRetryDelayMs ?? LOCK_RETRY_DELAY_MS)
    this.durableWrites = opts.durableWrites ?? false
    this.createAlways = opts.createAlways ?? false
    this.onLockRetry = opts.onLockRetry
    this.getRoot = opts.getDirectory ?? originRoot
  }

  override _open (req: RandomAccessRequest): void {
    this.openHandle().then(() => req.callback(null), (err: unknown) => req.callback(storageError(err, this.path, 'open')))
  }

  private async openHandle (): Promise<void> {
    // `writing` is set by the base class once a write, del or truncate is queued
    const create = this.writing || this.createAlways
    const dirs = await this.directories(create)
    const parent = dirs[dirs.length - 1]
    if (parent === undefined) throw ShadwError.INTERNAL('no parent directory for ' + this.path)
    const file = await parent.getFileHandle(this.fileName(), { create })
    const createHandle = file.createSyncAccessHandle
    if (typeof createHandle !== 'function') {
      throw ShadwError.STORAGE_UNAVAILABLE('FileSystemSyncAccessHandle is missing: OPFS storage runs only in a Dedicated Worker')
    }
    this.handle = await acquire(handlesOf(this.getRoot), this.path, () => this.lockedOpen(() => createHandle.call(file)))
  }

  private async lockedOpen (open: () => Promise<OpfsSyncAccessHandle>): Promise<OpfsSyncAccessHandle> {
    for (let retry = 0; ; retry++) {
      try {
        return await open()
      } catch (err) {
        if (!isLockContention(err) || retry >= this.lockRetries) throw storageError(err, this.path, 'open')
        const delay = Math.min(this.lockRetryDelayMs * 2 ** retry, LOCK_RETRY_MAX_DELAY_MS)
        debug('%s is held by another context, retry %d in %d ms', this.path, retry + 1, delay)
        this.onLockRetry?.(this.path, retry + 1)
        await sleep(delay)
      }
    }
  }

  /** The OPFS root, then one handle per directory segment of `root/name`, outermost first. */
  private async directories (create: boolean): Promise<OpfsDirectoryHandle[]> {
    const dirs = [await this.getRoot()]
    for (const name of [...this.rootSegments, ...this.nameSegments.slice(0, -1)]) {
      dirs.push(await (dirs[dirs.length - 1] as OpfsDirectoryHandle).getDirectoryHandle(name, { create }))
    }
    return dirs
  }

  private fileName (): string {
    return this.nameSegments[this.nameSegments.length - 1] as string
  }

  private requireHandle (): OpfsSyncAccessHandle {
    // random-access-storage runs data operations only between a successful open and close
    if (this.handle === null) throw ShadwError.INTERNAL('OPFS storage used while not open: ' + this.path)
    return this.handle
  }

  override _read (req: RandomAccessRequest<Uint8Array>): void {
    let result: Uint8Array
    try {
      const handle = this.requireHandle()
      // random-access-file answers any empty read with an empty buffer, even past the end
      if (req.size === 0) return req.callback(null, new Uint8Array(0))
      result = new Uint8Array(req.size)
      // no getSize() first: a read past the end returns short, then 0, which is the signal
      let done = 0
      while (done < req.size) {
        const n = handle.read(result.subarray(done), { at: req.offset + done })
        if (n <= 0) return req.callback(partialReadError(this.path, req.offset, req.size))
        done += n
      }
    } catch (err) {
      return req.callback(storageError(err, this.path, 'read'))
    }
    req.callback(null, result)
  }

  override _write (req: RandomAccessRequest): void {
    const data = req.data ?? new Uint8Array(0)
    req.callback(this.attempt('write', handle => {
      const before = handle.getSize()
      try {
        let done = 0
        while (done < data.byteLength) {
          const n = handle.write(data.subarray(done), { at: req.offset + done })
          if (n <= 0) throw ShadwError.STORAGE_FULL(this.path)
          done += n
        }
      } catch (err) {
        // Chromium checks quota for the whole write before writing, so a failed write can only
        // have grown the file: cut it back so no half-written tail looks like stored data
        try {
          if (handle.getSize() > before) handle.truncate(before)
        } catch {
          // the original error is the one worth reporting
        }
        throw err
      }
    }))
  }

  override _del (req: RandomAccessRequest): void {
    req.callback(this.attempt('del', handle => {
      const size = handle.getSize()
      // nothing stored there; random-access-memory would grow the file to `offset` here
      if (req.offset >= size) return
      if (req.size === Infinity || req.offset + req.size >= size) return handle.truncate(req.offset)
      // reads of a deleted range give zeros, as with random-access-file's hole punching
      const zeros = new Uint8Array(Math.min(ZERO_CHUNK_BYTES, req.size))
      for (let at = req.offset; at < req.offset + req.size; at += zeros.byteLength) {
        const n = Math.min(zeros.byteLength, req.offset + req.size - at)
        handle.write(n === zeros.byteLength ? zeros : zeros.subarray(0, n), { at })
      }
    }))
  }

  override _truncate (req: RandomAccessRequest): void {
    req.callback(this.attempt('truncate', handle => handle.truncate(req.offset)))
  }

  override _stat (req: RandomAccessRequest<RandomAccessStat>): void {
    let size: number
    try {
      size = this.requireHandle().getSize()
    } catch (err) {
      return req.callback(storageError(err, this.path, 'stat'))
    }
    req.callback(null, { size })
  }

  override _close (req: RandomAccessRequest): void {
    const handle = this.handle
    this.handle = null
    let failure: Error | null = null
    if (handle !== null && release(handlesOf(this.getRoot), this.path)) {
      try {
        handle.flush()
      } catch (err) {
        failure = storageError(err, this.path, 'close')
      }
      // close even when flush failed, or the file stays locked until the worker dies
      try {
        handle.close()
      } catch (err) {
        failure ??= storageError(err, this.path, 'close')
      }
    }
    req.callback(failure)
  }

  override _unlink (req: RandomAccessRequest): void {
    this.removeFile().then(() => req.callback(null), (err: unknown) => req.callback(storageError(err, this.path, 'unlink')))
  }

  private async removeFile (): Promise<void> {
    let dirs: OpfsDirectoryHandle[]
    try {
      dirs = await this.directories(false)
    } catch (err) {
      // a missing directory means the file is already gone
      if (storageError(err, this.path, 'unlink').code === 'ENOENT') return
      throw err
    }
    try {
      await dirs[dirs.length - 1]?.removeEntry(this.fileName())
    } catch (err) {
      if (storageError(err, this.path, 'unlink').code !== 'ENOENT') throw err
    }
    // remove directories the name created once they are empty (as random-access-file's
    // `rmdir` does for Corestore), never the root; a non-empty one ends the walk
    const segments = [...this.rootSegments, ...this.nameSegments.slice(0, -1)]
    for (let i = segments.length; i > this.rootSegments.length; i--) {
      try {
        await (dirs[i - 1] as OpfsDirectoryHandle).removeEntry(segments[i - 1] as string)
      } catch {
        return
      }
    }
  }

  /** Runs a mutating operation; returns the typed error, or null after an optional fsync. */
  private attempt (op: StorageOp, fn: (handle: OpfsSyncAccessHandle) => void): Error | null {
    try {
      const handle = this.requireHandle()
      fn(handle)
      if (this.durableWrites) handle.flush()
      return null
    } catch (err) {
      return storageError(err, this.path, op)
    }
  }
}

/** A storage function as Hypercore 10 and Corestore 6 take it: one instance per file name. */
export type OpfsStorageFactory = (name: string) => OpfsStorage

/**
 * The storage function to hand to Corestore 6 or Hypercore 10 in a Dedicated Worker.
 *
 * Corestore calls it with `primary-key` and `cores/<ab>/<cd>/<discovery key>/<file>`; a bare
 * Hypercore with `oplog`, `tree`, `bitfield`, `data` and `header`. Every path segment becomes
 * a nested OPFS directory under `root`.
 *
 * @example
 * ```ts
 * const store = new Corestore(opfsStorage('shadw'))
 * const core = store.get({ name: 'receipts' })
 * await core.ready()
 * ```
 * @throws ShadwError `INVALID_ARGUMENT` when `root` is empty or has a `.`/`..` segment.
 */
export function opfsStorage (root: string, opts: OpfsStorageOptions = {}): OpfsStorageFactory {
  if (pathSegments(root).length === 0) throw ShadwError.INVALID_ARGUMENT('OPFS storage root is empty', { root })
  // an arrow function has no prototype, so Hypercore.defaultStorage uses it as a storage
  // function rather than mistaking it for a random-access-storage class
  return (name: string) => new OpfsStorage(root, name, opts)
}

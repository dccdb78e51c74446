/**
 * The super node's Corestore storage: the files Corestore 6 opens for a directory
 * (random-access-file, same names, same primary-key lock, same sparse files, same pool of
 * open files), with reads, writes and truncations done synchronously on the calling thread.
 * Written here rather than taken from a package: random-access-file has no synchronous mode,
 * and Hypercore 11's RocksDB storage is a different major line from the Hypercore 10 that
 * browsers run (see docs/performance.md).
 *
 * Why: Hypercore verifies and stores the blocks it receives one after another, and each block
 * awaits several small file operations (the tree nodes behind its byte offset, the block,
 * the oplog entry); a writer answering a request reads the block and its proof nodes the same
 * way. random-access-file sends each one through libuv's thread pool and back: tens of
 * microseconds on an idle machine, milliseconds on a loaded one with two cores, where the
 * same read from the page cache takes under a microsecond on the calling thread. Replication
 * ran at ~1,000-3,000 blocks/s whatever the block size, with both processes mostly idle.
 *
 * Nothing else changes. Durability is the same: random-access-file's asynchronous write also
 * only reaches the page cache (neither fsyncs). Callers still see asynchronous callbacks:
 * random-access-storage defers a callback made during the operation's own call to the next
 * microtask, so the order of completions is what it was. Opening, locking, sparse files,
 * deletion, stat and closing stay random-access-file's own (rare, and not on the data path).
 */
import { ftruncateSync, readSync, writeSync } from 'node:fs'
import RandomAccessFile from 'random-access-file'
import type { RandomAccessRequest } from 'random-access-storage'

/** Corestore 6's own choices for a directory (corestore/index.js): what it locks and how many files stay open. */
const PRIMARY_KEY_FILE = 'primary-key'
const FD_POOL_SIZE = 512

function partialRead (path: string, offset: number, size: number): Error {
  // the same error random-access-file gives: Hypercore treats it as "not stored"
  return Object.assign(new Error('EPARTIALREAD: Could not satisfy length'), { code: 'EPARTIALREAD', path, offset, size })
}

/**
 * random-access-file's descriptor is 0 while the file is closed; random-access-storage never
 * runs an operation then, but a synchronous read of descriptor 0 would block on standard
 * input for good, so it is refused rather than trusted.
 */
function notOpen (path: string): Error {
  return Object.assign(new Error(`File is not open: ${path}`), { code: 'EBADF', path })
}

/** random-access-file with synchronous reads, writes and truncations. */
class SyncFile extends RandomAccessFile {
  protected override _read (req: RandomAccessRequest<Uint8Array>): void {
    if (req.size === 0) { super._read(req); return }
    if (this.fd === 0) { req.callback(notOpen(this.filename)); return }
    const data = req.data ?? this._alloc(req.size)
    let done = 0
    try {
      while (done < req.size) {
        const n = readSync(this.fd, data, done, req.size - done, req.offset + done)
        if (n === 0) { req.callback(partialRead(this.filename, req.offset, req.size)); return }
        done += n
      }
    } catch (err) {
      req.callback(err as Error)
      return
    }
    req.callback(null, data)
  }

  protected override _write (req: RandomAccessRequest): void {
    const data = req.data
    if (data === null) { super._write(req); return }
    if (this.fd === 0) { req.callback(notOpen(this.filename)); return }
    let done = 0
    try {
      while (done < req.size) done += writeSync(this.fd, data, done, req.size - done, req.offset + done)
    } catch (err) {
      req.callback(err as Error)
      return
    }
    req.callback(null)
  }

  // the oplog is truncated after every flush: the same thread-pool round trip as a write
  protected override _truncate (req: RandomAccessRequest): void {
    if (this.fd === 0) { req.callback(notOpen(this.filename)); return }
    try {
      ftruncateSync(this.fd, req.offset)
    } catch (err) {
      req.callback(err as Error)
      return
    }
    req.callback(null)
  }
}

/** A Corestore storage for `directory`: pass it where the directory path went. */
export function fileStorage (directory: string): (name: string) => RandomAccessFile {
  const pool = RandomAccessFile.createPool(FD_POOL_SIZE)
  const isFile = (name: string, file: string): boolean => name === file || name.endsWith('/' + file)
  return (name: string) => {
    const lock = isFile(name, PRIMARY_KEY_FILE)
    const sparse = isFile(name, 'data') || isFile(name, 'bitfield') || isFile(name, 'tree')
    return new SyncFile(name, { directory, lock, sparse, pool: lock ? null : pool, rmdir: true, writable: true })
  }
}

/**
 * The super node's Corestore storage: the files Corestore would open by itself
 * (random-access-file, same names, same primary-key lock, same sparse files, same fd pool),
 * with reads, writes and truncations done synchronously.
 *
 * Why: a reader verifies the blocks it receives one after another, and each block awaits
 * several small file operations (the tree nodes behind its byte offset, the block itself,
 * the oplog entry). random-access-file sends each through libuv's thread pool and back:
 * tens of microseconds on an idle machine, milliseconds on a loaded one, so replication ran
 * at ~1,000-2,000 blocks/s whatever the block size or the request pipelining, with both
 * processes mostly idle. A read or write of a few KiB to the page cache takes a few
 * microseconds on the calling thread. Durability is unchanged: random-access-file's
 * asynchronous write also only reaches the page cache (neither fsyncs), and Hypercore's
 * oplog ordering is the same since each operation still completes before the next starts.
 * Opening, locking, sparse files, truncation and closing stay random-access-file's own.
 */
import { ftruncateSync, readSync, writeSync } from 'node:fs'
import RandomAccessFile from 'random-access-file'
import type { RandomAccessRequest } from 'random-access-storage'

/** Corestore's own names for what it locks and how many files it keeps open. */
const PRIMARY_KEY_FILE = 'primary-key'
const FD_POOL_SIZE = 512

function partialRead (path: string, offset: number, size: number): Error {
  // the same error random-access-file gives: Hypercore treats it as "not stored"
  return Object.assign(new Error('EPARTIALREAD: Could not satisfy length'), { code: 'EPARTIALREAD', path, offset, size })
}

/** random-access-file with synchronous reads, writes and truncations (the base class runs one op at a time). */
class SyncFile extends RandomAccessFile {
  protected override _read (req: RandomAccessRequest<Uint8Array>): void {
    if (req.size === 0) { super._read(req); return }
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

// Minimal types for random-access-file 4, the file storage Corestore opens for a directory
// path. The package ships none. Typed: the constructor options Hypercore passes, the pool,
// and what a subclass overriding the `_read`/`_write` hooks uses.
declare module 'random-access-file' {
  import RandomAccessStorage, { type RandomAccessRequest } from 'random-access-storage'

  export interface RandomAccessFileOptions {
    directory?: string
    lock?: boolean
    sparse?: boolean
    pool?: unknown
    rmdir?: boolean
    writable?: boolean
  }

  export default class RandomAccessFile extends RandomAccessStorage {
    constructor (filename: string, opts?: RandomAccessFileOptions)
    static createPool (maxSize: number): unknown
    /** the open file descriptor; 0 while closed */
    fd: number
    readonly filename: string
    protected _alloc (size: number): Uint8Array
    protected _read (req: RandomAccessRequest<Uint8Array>): void
    protected _write (req: RandomAccessRequest): void
    protected _truncate (req: RandomAccessRequest): void
  }
}

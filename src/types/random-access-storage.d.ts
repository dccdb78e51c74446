// Minimal types for random-access-storage 3, the base class every Hypercore 10 storage extends.
// The package ships none. Only the boundary shadw touches is typed: the public callback API
// that Hypercore calls and the protected `_op(req)` hooks a subclass implements.
declare module 'random-access-storage' {
  /** What `stat` reports; Hypercore reads `size` (and `blocks` when it is a number). */
  export interface RandomAccessStat {
    size: number
    blocks?: number
  }

  export type RandomAccessCallback<T = void> = (err: Error | null, value?: T) => void

  /**
   * One queued operation as handed to a `_op(req)` hook. `offset`/`size` are mutable (the
   * base class and random-access-file rewrite them while working); `data` is set for writes.
   */
  export interface RandomAccessRequest<T = void> {
    readonly type: number
    offset: number
    size: number
    readonly data: Uint8Array | null
    /** Completes the operation; must be called exactly once. */
    callback (err: Error | null, value?: T): void
  }

  export default class RandomAccessStorage {
    constructor (opts?: Record<string, never>)
    readonly readable: boolean
    readonly writable: boolean
    readonly deletable: boolean
    readonly truncatable: boolean
    readonly statable: boolean
    readonly opened: boolean
    readonly suspended: boolean
    readonly closed: boolean
    readonly unlinked: boolean
    /** Set by the base class once a write, del or truncate was queued: open must then create. */
    readonly writing: boolean

    read (offset: number, size: number, cb: RandomAccessCallback<Uint8Array>): void
    write (offset: number, data: Uint8Array, cb?: RandomAccessCallback): void
    del (offset: number, size: number, cb?: RandomAccessCallback): void
    truncate (offset: number, cb?: RandomAccessCallback): void
    stat (cb: RandomAccessCallback<RandomAccessStat>): void
    open (cb?: RandomAccessCallback): void
    suspend (cb?: RandomAccessCallback): void
    close (cb?: RandomAccessCallback): void
    unlink (cb?: RandomAccessCallback): void

    on (event: 'open' | 'close' | 'unlink' | 'suspend' | 'unsuspend', listener: () => void): this
    once (event: 'open' | 'close' | 'unlink' | 'suspend' | 'unsuspend', listener: () => void): this

    protected _open (req: RandomAccessRequest): void
    protected _read (req: RandomAccessRequest<Uint8Array>): void
    protected _write (req: RandomAccessRequest): void
    protected _del (req: RandomAccessRequest): void
    protected _truncate (req: RandomAccessRequest): void
    protected _stat (req: RandomAccessRequest<RandomAccessStat>): void
    protected _suspend (req: RandomAccessRequest): void
    protected _close (req: RandomAccessRequest): void
    protected _unlink (req: RandomAccessRequest): void
  }
}

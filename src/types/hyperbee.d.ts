// Minimal types for Hyperbee 2, as shadw uses it.
declare module 'hyperbee' {
  import type Hypercore from 'hypercore'

  export interface BeeEntry<T> { seq: number, key: string, value: T }

  export default class Hyperbee<T = unknown> {
    constructor (core: Hypercore, opts?: { keyEncoding?: string, valueEncoding?: string })
    readonly core: Hypercore
    readonly version: number
    ready (): Promise<void>
    close (): Promise<void>
    get (key: string): Promise<BeeEntry<T> | null>
    /** block 0 decoded as a Hyperbee header (any byte string may decode), or null when absent */
    getHeader (opts?: unknown): Promise<unknown>
    put (key: string, value: T): Promise<void>
    del (key: string): Promise<void>
    createReadStream (range?: { gt?: string, gte?: string, lt?: string, lte?: string, limit?: number, reverse?: boolean }): AsyncIterable<BeeEntry<T>>
  }
}

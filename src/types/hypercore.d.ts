// Minimal types for the parts of Hypercore 10 that shadw uses; the package ships none.
declare module 'hypercore' {

  export interface HypercorePeer {
    remotePublicKey: Uint8Array
  }

  export interface GetOptions {
    wait?: boolean
    timeout?: number
    valueEncoding?: string
  }

  export default class Hypercore implements ShadwEvented {
    on: ShadwEvented['on']; once: ShadwEvented['once']; off: ShadwEvented['off']; removeListener: ShadwEvented['removeListener']
    constructor (storage: unknown, key?: Uint8Array | null, opts?: Record<string, unknown>)
    readonly key: Uint8Array | null
    readonly discoveryKey: Uint8Array | null
    readonly length: number
    readonly contiguousLength: number
    readonly byteLength: number
    readonly writable: boolean
    readonly readable: boolean
    readonly closed: boolean
    readonly opened: boolean
    readonly peers: HypercorePeer[]
    readonly id: string | null
    readonly manifest: Record<string, unknown> | null
    ready (): Promise<void>
    close (): Promise<void>
    /** closes every session on the core and deletes its storage */
    purge (): Promise<void>
    append (block: Uint8Array | Uint8Array[]): Promise<{ length: number, byteLength: number }>
    get (index: number, opts?: GetOptions): Promise<Uint8Array | null>
    has (start: number, end?: number): Promise<boolean>
    /** [block index, offset within it] of a byte offset; fetches the tree nodes it needs */
    seek (byteOffset: number, opts?: GetOptions): Promise<[number, number] | null>
    update (opts?: { wait?: boolean }): Promise<boolean>
    download (range?: { start?: number, end?: number, linear?: boolean }): { done (): Promise<void>, destroy (): void }
    findingPeers (): () => void
    treeHash (length?: number): Promise<Uint8Array>
    /** Deletes blocks [start, end) from local storage (the log's tree and length stay). */
    clear (start: number, end?: number): Promise<void>
    info (opts?: { storage?: boolean }): Promise<Record<string, unknown>>
    replicate (isInitiator: boolean | unknown, opts?: Record<string, unknown>): unknown
    session (opts?: Record<string, unknown>): Hypercore
    static defaultStorage (storage: unknown, opts?: Record<string, unknown>): unknown
  }
}

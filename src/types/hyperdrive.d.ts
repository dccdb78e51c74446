// Minimal types for Hyperdrive 11, as shadw uses it.
declare module 'hyperdrive' {
  import type Corestore from 'corestore'
  import type Hypercore from 'hypercore'
  import type Hyperbee from 'hyperbee'

  export interface BlobId { byteOffset: number, blockOffset: number, blockLength: number, byteLength: number }
  export interface DriveNode {
    seq: number
    key: string
    value: { executable: boolean, linkname: string | null, blob: BlobId | null, metadata: unknown }
  }
  export interface DriveReadStream extends AsyncIterable<Uint8Array> { destroy (err?: Error): void }
  export interface DriveWriteStream {
    write (chunk: Uint8Array): boolean
    end (): void
    destroy (err?: Error): void
    on (event: 'drain' | 'close' | 'finish', fn: () => void): this
    on (event: 'error', fn: (err: Error) => void): this
    off (event: string, fn: (...args: never[]) => void): this
    destroyed: boolean
  }
  export interface Blobs {
    core: Hypercore
    get (id: BlobId, opts?: { start?: number, length?: number, wait?: boolean, timeout?: number }): Promise<Uint8Array | null>
  }

  export default class Hyperdrive {
    static getContentKey (manifest: Record<string, unknown>, key: Uint8Array): Uint8Array | null
    constructor (store: Corestore, key?: Uint8Array | null | Record<string, unknown>, opts?: Record<string, unknown>)
    readonly key: Uint8Array
    readonly discoveryKey: Uint8Array
    readonly core: Hypercore
    readonly db: Hyperbee
    readonly blobs: Blobs | null
    readonly version: number
    readonly writable: boolean
    readonly corestore: Corestore
    ready (): Promise<void>
    close (): Promise<void>
    checkout (version: number): Hyperdrive
    getBlobs (): Promise<Blobs | null>
    getBlobsLength (version?: number): Promise<number>
    entry (path: string, opts?: { wait?: boolean, timeout?: number }): Promise<DriveNode | null>
    readdir (folder: string, opts?: { wait?: boolean }): AsyncIterable<string>
    download (folder?: string, opts?: Record<string, unknown>): Promise<void>
    createReadStream (path: string, opts?: { start?: number, end?: number, length?: number, wait?: boolean, timeout?: number }): DriveReadStream
    createWriteStream (path: string, opts?: { executable?: boolean, metadata?: unknown }): DriveWriteStream
  }
}

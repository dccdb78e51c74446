// Minimal types for Corestore 6, as shadw uses it.
declare module 'corestore' {
  import type Hypercore from 'hypercore'

  export default class Corestore implements ShadwEvented {
    on: ShadwEvented['on']; once: ShadwEvented['once']; off: ShadwEvented['off']; removeListener: ShadwEvented['removeListener']
    constructor (storage: unknown, opts?: Record<string, unknown>)
    get (opts: { name: string, exclusive?: boolean } | { key: Uint8Array, exclusive?: boolean, encryptionKey?: Uint8Array | null } | { keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }, encryptionKey?: Uint8Array | null } | Uint8Array): Hypercore
    session (opts?: Record<string, unknown>): Corestore
    replicate (isInitiatorOrStream: unknown, opts?: Record<string, unknown>): unknown
    namespace (name: string): Corestore
    findingPeers (): () => void
    ready (): Promise<void>
    close (): Promise<void>
    readonly cores: Map<string, Hypercore>
  }
}

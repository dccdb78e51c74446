// Minimal types for Hyperswarm 4, as shadw uses it.
declare module 'hyperswarm' {

  export interface KeyPair { publicKey: Uint8Array, secretKey: Uint8Array }

  export interface PeerInfo {
    publicKey: Uint8Array
    topics: Uint8Array[]
    client: boolean
  }

  /** A Noise-encrypted duplex stream (@hyperswarm/secret-stream). */
  export interface SwarmConnection extends ShadwEvented {
    readonly remotePublicKey: Uint8Array
    readonly publicKey: Uint8Array
    readonly isInitiator: boolean
    write (data: Uint8Array): boolean
    end (): void
    destroy (err?: Error): void
  }

  export interface PeerDiscovery {
    flushed (): Promise<void>
    /** looks the topic up (and announces) again, in the modes it was joined with */
    refresh (): Promise<unknown>
    destroy (): Promise<void>
  }

  export default class Hyperswarm implements ShadwEvented {
    on: ShadwEvented['on']; once: ShadwEvented['once']; off: ShadwEvented['off']; removeListener: ShadwEvented['removeListener']
    constructor (opts?: { dht?: unknown, keyPair?: KeyPair, maxPeers?: number, bootstrap?: unknown, firewall?: (remotePublicKey: Uint8Array) => boolean })
    readonly keyPair: KeyPair
    readonly connections: Set<SwarmConnection>
    readonly peers: Map<string, PeerInfo>
    readonly dht: unknown
    /** the HyperDHT server the swarm listens with (hyperdht's Server) */
    readonly server: { readonly listening: boolean, readonly closed: boolean, readonly publicKey: Uint8Array | null }
    readonly destroyed: boolean
    join (topic: Uint8Array, opts?: { server?: boolean, client?: boolean }): PeerDiscovery
    /** the discovery of a joined topic */
    status (topic: Uint8Array): PeerDiscovery | null
    leave (topic: Uint8Array): Promise<void>
    joinPeer (publicKey: Uint8Array): void
    flush (): Promise<void>
    listen (): Promise<void>
    destroy (): Promise<void>
    on (event: 'connection', listener: (conn: SwarmConnection, info: PeerInfo) => void): this
    on (event: 'update', listener: () => void): this
    on (event: string, listener: (...args: unknown[]) => void): this
  }
}

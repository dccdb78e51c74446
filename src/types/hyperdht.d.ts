// Minimal types for HyperDHT 6 (hyperdht), as shadw uses it: super node DHT nodes, the
// relay's DHT node, and test peers on a local testnet.
declare module 'hyperdht' {
  export interface DhtKeyPair { publicKey: Uint8Array, secretKey: Uint8Array }

  export interface DhtAddress { host: string, port: number }

  export interface HyperDHTOptions {
    bootstrap?: Array<DhtAddress | string>
    /** interface to bind the UDP socket to; on loopback-only networks use 127.0.0.1 */
    host?: string
    port?: number
    ephemeral?: boolean
    firewalled?: boolean
    keyPair?: DhtKeyPair
  }

  /** A Noise-encrypted duplex stream to a peer (@hyperswarm/secret-stream). */
  export interface DhtConnection extends ShadwEvented {
    readonly remotePublicKey: Uint8Array
    readonly publicKey: Uint8Array
    readonly destroyed: boolean
    /** resolves true once the Noise handshake is done, false if the stream closed first */
    readonly opened: Promise<boolean>
    write (data: Uint8Array): boolean
    end (): void
    destroy (err?: Error): void
  }

  export interface DhtServer extends ShadwEvented {
    listen (keyPair?: DhtKeyPair): Promise<this>
    address (): (DhtAddress & { publicKey: Uint8Array }) | null
    close (): Promise<void>
  }

  // the interface merges the event methods into the class, keeping their `this` return type

  export default interface HyperDHT extends ShadwEvented {}
  export default class HyperDHT {
    constructor (opts?: HyperDHTOptions)
    readonly defaultKeyPair: DhtKeyPair
    readonly destroyed: boolean
    ready (): Promise<void>
    fullyBootstrapped (): Promise<void>
    /** nodes of the routing table, nearest last; empty when no bootstrap node answered */
    toArray (opts?: { limit?: number }): DhtAddress[]
    /** the bound UDP address of this node */
    address (): DhtAddress & { family: number }
    connect (remotePublicKey: Uint8Array, opts?: { keyPair?: DhtKeyPair }): DhtConnection
    createServer (onconnection?: (conn: DhtConnection) => void): DhtServer
    destroy (opts?: { force?: boolean }): Promise<void>
    static keyPair (seed?: Uint8Array): DhtKeyPair
  }
}

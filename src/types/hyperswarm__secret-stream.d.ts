// Minimal types for @hyperswarm/secret-stream 6: the Noise stream Hyperswarm runs on, which
// shadw also runs over direct WebRTC links.
declare module '@hyperswarm/secret-stream' {
  import type { SwarmConnection } from 'hyperswarm'
  export default class NoiseSecretStream implements SwarmConnection {
    constructor (isInitiator: boolean, rawStream?: unknown, opts?: { keyPair?: { publicKey: Uint8Array, secretKey: Uint8Array }, remotePublicKey?: Uint8Array, keepAlive?: number })
    readonly remotePublicKey: Uint8Array
    readonly publicKey: Uint8Array
    readonly isInitiator: boolean
    readonly destroyed: boolean
    readonly opened: Promise<boolean>
    userData: unknown
    write (data: Uint8Array): boolean
    end (): void
    destroy (err?: Error): void
    setKeepAlive (ms: number): void
    setTimeout (ms: number): void
    on (event: string, listener: (...args: never[]) => void): this
    once (event: string, listener: (...args: never[]) => void): this
    off (event: string, listener: (...args: never[]) => void): this
    removeListener (event: string, listener: (...args: never[]) => void): this
  }
}

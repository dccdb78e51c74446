// Minimal types for Protomux 3, as shadw uses it (one channel per protocol on a swarm connection).
declare module 'protomux' {
  export interface ProtomuxMessage<T = Uint8Array> {
    send (value: T): boolean
  }
  export interface ProtomuxChannel {
    readonly opened: boolean
    readonly closed: boolean
    addMessage<T = Uint8Array> (opts: { encoding?: unknown, onmessage?: (value: T, channel: ProtomuxChannel) => void }): ProtomuxMessage<T>
    open (handshake?: unknown): void
    close (): void
    fullyOpened (): Promise<boolean>
    /** holds this connection's outgoing messages (every channel) until the matching uncork, then sends them as one batch frame */
    cork (): void
    uncork (): void
  }
  export default class Protomux {
    static from (stream: unknown, opts?: unknown): Protomux
    createChannel (opts: {
      protocol: string
      id?: Uint8Array | null
      unique?: boolean
      handshake?: unknown
      onopen?: (handshake: unknown, channel: ProtomuxChannel) => void
      onclose?: (isRemote: boolean, channel: ProtomuxChannel) => void
    }): ProtomuxChannel | null
    pair (opts: { protocol: string, id?: Uint8Array | null }, notify: (id: Uint8Array | null) => void | Promise<void>): void
    unpair (opts: { protocol: string, id?: Uint8Array | null }): void
  }
}

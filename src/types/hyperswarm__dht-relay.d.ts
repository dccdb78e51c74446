// Minimal types for @hyperswarm/dht-relay 0.4 (patched, see patches/), as shadw uses it:
// `relay()` on the super node, `Node` (a HyperDHT stand-in for Hyperswarm) in browsers.

declare module '@hyperswarm/dht-relay' {
  import type HyperDHT from 'hyperdht'

  interface RelayKeyPair { publicKey: Uint8Array, secretKey: Uint8Array }

  /** A framed duplex stream (streamx), e.g. `@hyperswarm/dht-relay/ws` over a WebSocket. */
  interface RelayTransport {
    readonly destroyed: boolean
    destroy (err?: Error): void
  }

  /**
   * The relay's side of one client: proxies the client's DHT calls onto `dht`. Internal to
   * dht-relay; shadw only holds it until the client's stream closes.
   */
  interface NodeProxy {
    readonly _dht: HyperDHT
  }

  /**
   * A HyperDHT stand-in that speaks to a relay over `stream`; pass it to
   * `new Hyperswarm({ dht })`. With `custodial: false` the secret key stays here and the
   * relay asks this side to sign handshakes and announcements.
   */

  interface Node extends ShadwEvented {}
  class Node {
    constructor (stream: RelayTransport, opts?: { custodial?: boolean, keyPair?: RelayKeyPair })
    readonly defaultKeyPair: RelayKeyPair
    /** resolves when the transport opened; rejects if it failed first */
    ready (): Promise<void>
    /** closes this node's servers (unless `force`) and then the transport */
    destroy (opts?: { force?: boolean }): Promise<void>
    static keyPair (seed?: Uint8Array): RelayKeyPair
  }

  namespace Node {
    /**
     * Serves one client on `stream`: resolves with the proxy once the client's handshake
     * arrived (never, if it does not arrive; the caller bounds that wait).
     */
    function relay (dht: HyperDHT, stream: RelayTransport, opts?: { flow?: RelayFlow, local?: LocalServers }): Promise<NodeProxy>

    /**
     * Patched (see patches/): the listening HyperDHT server of this process a client's dial
     * to `publicKey` reaches in memory (Noise handshake with that server, no UDX), or null
     * to dial through the relay's DHT node.
     */
    type LocalServers = (publicKey: Uint8Array) => unknown

    /**
     * Patched (see patches/): bounds on what a client sends toward the DHT. A relayed stream
     * queueing `highWaterMark` bytes calls `pause` (reading the client) until all such
     * streams drain (`resume`); queued bytes go through `take`/`give`; a stream past
     * `maxStreamBytes` or refused by `take` is destroyed with `refusal`'s error.
     */
    interface RelayFlow {
      highWaterMark: number
      maxStreamBytes: number
      take (bytes: number): boolean
      give (bytes: number): void
      pause (): void
      resume (): void
      refusal (why: 'stream' | 'budget', bytes: number): Error
    }
  }

  export = Node
}

declare module '@hyperswarm/dht-relay/ws' {
  /** A framed duplex stream over a WebSocket: one relay message per WebSocket message. */

  interface WebSocketStream extends ShadwEvented {}
  class WebSocketStream {
    constructor (isInitiator: boolean, socket: WebSocketStream.RelaySocket)
    readonly destroyed: boolean
    destroy (err?: Error): void
  }

  namespace WebSocketStream {
    /** The WebSocket surface the transport uses: Node's `ws` and browsers' native one fit. */
    interface RelaySocket {
      binaryType: string
      readonly readyState: number
      send (data: Uint8Array): void
      close (code?: number, reason?: string): void
      addEventListener (type: string, listener: (event: unknown) => void): void
      removeEventListener (type: string, listener: (event: unknown) => void): void
    }
  }

  export = WebSocketStream
}

// Minimal types for simple-peer 9, as shadw uses it (one data channel per peer, trickle ICE).
declare module 'simple-peer' {
  export interface SimplePeerOptions {
    initiator?: boolean
    trickle?: boolean
    config?: { iceServers?: Array<{ urls: string | string[], username?: string, credential?: string }>, iceTransportPolicy?: 'all' | 'relay' }
    channelConfig?: { ordered?: boolean }
    /** a WebRTC implementation where there is no global one (Node: @roamhq/wrtc) */
    wrtc?: unknown
  }
  export default class SimplePeer implements ShadwEvented {
    constructor (opts?: SimplePeerOptions)
    readonly connected: boolean
    readonly destroyed: boolean
    signal (data: unknown): void
    send (data: Uint8Array | ArrayBuffer | string): void
    write (data: Uint8Array, cb?: (err?: Error | null) => void): boolean
    destroy (err?: Error): void
    on: ShadwEvented['on']
    once: ShadwEvented['once']
    off: ShadwEvented['off']
    removeListener: ShadwEvented['removeListener']
  }
}

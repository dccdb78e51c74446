import { ShadwError } from '../errors.ts'
import type { DataChannelLike } from './channel-duplex.ts'
import type { IceConfig } from './link-protocol.ts'
import type { SignalData } from './signal-protocol.ts'

/**
 * One direct link's RTCPeerConnection, written here instead of simple-peer: the link's data
 * channel has to be handed to the node worker in the task that creates it, before anything is
 * sent on it (Chromium's rule for transferring an RTCDataChannel), and simple-peer's streams
 * own its channel. What a link needs of a peer connection is small: one data channel, an
 * offer and an answer, trickled candidates.
 *
 * The channel is negotiated (`negotiated: true, id: 0`): both sides create it with the peer
 * connection, so the answerer does not wait for the offerer's in-band open (one SCTP round
 * trip fewer) and has its channel at once to hand over.
 */

/** The part of RTCPeerConnection used here (the WebWorker lib, core's, has no RTC types). */
interface PeerConnectionLike {
  readonly connectionState?: string
  readonly iceConnectionState: string
  readonly remoteDescription: unknown
  readonly localDescription: { type: string, sdp: string } | null
  onicecandidate: ((ev: { candidate: { candidate: string, sdpMLineIndex: number | null, sdpMid: string | null } | null }) => void) | null
  onconnectionstatechange: ((ev: unknown) => void) | null
  oniceconnectionstatechange: ((ev: unknown) => void) | null
  createDataChannel (label: string, init: { negotiated: boolean, id: number, ordered: boolean }): DataChannelLike
  createOffer (): Promise<{ type: string, sdp?: string }>
  createAnswer (): Promise<{ type: string, sdp?: string }>
  setLocalDescription (desc: { type: string, sdp?: string }): Promise<void>
  setRemoteDescription (desc: { type: string, sdp: string }): Promise<void>
  addIceCandidate (candidate: { candidate: string, sdpMLineIndex: number | null, sdpMid: string | null }): Promise<void>
  close (): void
}

type PeerConnectionCtor = new (config: { iceServers: IceConfig['iceServers'], iceTransportPolicy: IceConfig['iceTransportPolicy'] }) => PeerConnectionLike

/** The link's channel: label and stream id both sides create it with. */
export const LINK_CHANNEL_LABEL = 'shadw'
export const LINK_CHANNEL_ID = 0

/** What a {@link PeerConnection} tells its owner. */
export interface PeerConnectionHandlers {
  /** a signal for the peer (offer, answer, candidate) */
  onsignal: (signal: SignalData) => void
  /** ICE and DTLS are up: the data channel opens next */
  onconnect: () => void
  /** the connection failed (`err`, with a simple-peer-like code) or was closed */
  onclose: (err: (Error & { code: string }) | null) => void
}

function failure (code: string, msg: string): Error & { code: string } {
  return Object.assign(new Error(msg), { code })
}

export class PeerConnection {
  readonly #pc: PeerConnectionLike
  readonly #handlers: PeerConnectionHandlers
  /** the link's data channel, until the owner takes it (to transfer it to the node worker) */
  readonly channel: DataChannelLike
  /** descriptions and candidates applied one after another, in the order they came */
  #queue: Promise<void> = Promise.resolve()
  #connected = false
  #closed = false

  /**
   * Throws when there is no WebRTC here (or it is disabled by policy). `rtc`: a WebRTC
   * implementation where there is no global one (Node: @roamhq/wrtc).
   */
  constructor (opts: { initiator: boolean, ice: IceConfig, rtc?: unknown }, handlers: PeerConnectionHandlers) {
    const Ctor = ((opts.rtc as { RTCPeerConnection?: PeerConnectionCtor } | undefined)?.RTCPeerConnection ?? (globalThis as { RTCPeerConnection?: PeerConnectionCtor }).RTCPeerConnection)
    if (typeof Ctor !== 'function') throw ShadwError.LINK_FAILED('no RTCPeerConnection in this context')
    this.#handlers = handlers
    this.#pc = new Ctor({ iceServers: opts.ice.iceServers, iceTransportPolicy: opts.ice.iceTransportPolicy })
    this.channel = this.#pc.createDataChannel(LINK_CHANNEL_LABEL, { negotiated: true, id: LINK_CHANNEL_ID, ordered: true })
    this.#pc.onicecandidate = (ev) => {
      // null (and Chromium's empty line) end the gathering: nothing to send, the peer needs no end marker
      const c = ev.candidate
      if (c === null || c.candidate === '' || this.#closed) return
      this.#handlers.onsignal({ type: 'candidate', candidate: { candidate: c.candidate, sdpMLineIndex: c.sdpMLineIndex ?? null, sdpMid: c.sdpMid ?? null } })
    }
    const onstate = (): void => { this.#onstate() }
    this.#pc.onconnectionstatechange = onstate
    this.#pc.oniceconnectionstatechange = onstate
    if (opts.initiator) {
      this.#run('ERR_CREATE_OFFER', async () => {
        await this.#pc.setLocalDescription(await this.#pc.createOffer())
        this.#sendDescription()
      })
    }
  }

  /** A signal from the peer. */
  signal (signal: SignalData): void {
    if (this.#closed) return
    switch (signal.type) {
      case 'offer':
        this.#run('ERR_SET_REMOTE_DESCRIPTION', async () => {
          await this.#pc.setRemoteDescription({ type: 'offer', sdp: signal.sdp })
          await this.#pc.setLocalDescription(await this.#pc.createAnswer())
          this.#sendDescription()
        })
        break
      case 'answer':
        this.#run('ERR_SET_REMOTE_DESCRIPTION', async () => { await this.#pc.setRemoteDescription({ type: 'answer', sdp: signal.sdp }) })
        break
      case 'candidate':
        // queued behind the descriptions: a candidate before the offer it belongs to would be refused
        this.#run('ERR_ADD_ICE_CANDIDATE', async () => { await this.#pc.addIceCandidate(signal.candidate) })
        break
      case 'bye':
        break
    }
  }

  /** Closes the peer connection (and with it the data channel, wherever it now lives). */
  close (): void {
    if (this.#closed) return
    this.#closed = true
    this.#pc.onicecandidate = null
    this.#pc.onconnectionstatechange = null
    this.#pc.oniceconnectionstatechange = null
    try { this.#pc.close() } catch {}
  }

  #sendDescription (): void {
    const desc = this.#pc.localDescription
    if (desc === null || this.#closed) return
    this.#handlers.onsignal({ type: desc.type === 'offer' ? 'offer' : 'answer', sdp: desc.sdp })
  }

  #run (code: string, step: () => Promise<void>): void {
    this.#queue = this.#queue.then(async () => {
      if (this.#closed) return
      try {
        await step()
      } catch (err) {
        this.#fail(failure(code, (err as Error).message))
      }
    })
  }

  #onstate (): void {
    if (this.#closed) return
    const state = this.#pc.connectionState ?? this.#pc.iceConnectionState
    if (state === 'connected' || state === 'completed') {
      if (this.#connected) return
      this.#connected = true
      this.#handlers.onconnect()
    } else if (state === 'failed') {
      this.#fail(failure('ERR_CONNECTION_FAILURE', 'connection failed'))
    } else if (state === 'closed') {
      this.close()
      this.#handlers.onclose(null)
    }
  }

  #fail (err: Error & { code: string }): void {
    if (this.#closed) return
    this.close()
    this.#handlers.onclose(err)
  }
}

/**
 * A hostile relay client holding both ends of a relayed connection: a server on one of its
 * WebSockets, a dialer on another. {@link flood} stops reading the server's socket and pushes
 * into the dialer, measuring what sits between the two processes (the relay's memory, plus
 * loopback kernel buffers).
 */
import type { Socket } from 'node:net'
import DHTRelay from '@hyperswarm/dht-relay'
import WebSocketStream from '@hyperswarm/dht-relay/ws'
import { WebSocket } from 'ws'
import { within } from './within.ts'

const MiB = 1024 * 1024
const CHUNK_BYTES = 64 * 1024
/** The pusher waits while its own socket holds this much (the relay is not reading it). */
const PUSHER_BUFFER_BYTES = 8 * MiB
/** Bound on the flood loop's waits (each 10 ms): the loop ends by count. */
const MAX_WAITS = 3_000

/** A relayed stream as dht-relay's Node gives it. */
export interface RelayStream {
  write (data: Uint8Array): boolean
  on (event: string, fn: (...args: unknown[]) => void): unknown
  once (event: string, fn: (...args: unknown[]) => void): unknown
  readonly destroyed: boolean
  destroy (): void
}
interface RelayListener { on (event: 'connection', fn: (s: RelayStream) => void): void, listen (kp: unknown): Promise<void> }

/** One relay client (a browser's view of the DHT, non-custodial). */
export interface RelayEnd { node: DHTRelay, socket: WebSocket, raw (): Socket }

export async function relayEnd (url: string, stepMs: number): Promise<RelayEnd> {
  const socket = new WebSocket(url)
  socket.on('error', () => {})
  const node = new DHTRelay(new WebSocketStream(true, socket), { custodial: false })
  await within(node.ready(), stepMs, 'relay client ready')
  return { node, socket, raw: () => (socket as unknown as { _socket: Socket })._socket }
}

/** A server on one relay client and a connection to it from another, both ends open. */
export async function relayPair (url: string, stepMs: number): Promise<{ server: RelayEnd, dialer: RelayEnd, atServer: RelayStream, atDialer: RelayStream }> {
  const server = await relayEnd(url, stepMs)
  const dialer = await relayEnd(url, stepMs)
  const keyPair = DHTRelay.keyPair()
  const listener = (server.node as unknown as { createServer (): RelayListener }).createServer()
  const accepted = new Promise<RelayStream>(resolve => { listener.on('connection', resolve) })
  await within(listener.listen(keyPair), stepMs, 'listen through the relay')
  const atDialer = (dialer.node as unknown as { connect (key: Uint8Array): RelayStream }).connect(keyPair.publicKey)
  atDialer.on('error', () => {})
  await within(new Promise(resolve => { atDialer.once('open', resolve) }), stepMs, 'dial through the relay')
  const atServer = await within(accepted, stepMs, 'connection at the server')
  atServer.on('error', () => {})
  return { server, dialer, atServer, atDialer }
}

/** Data from one end of a fresh pair reaches the other; both closed after. */
export async function relayExchange (url: string, stepMs: number): Promise<string> {
  const { server, dialer, atServer, atDialer } = await relayPair(url, stepMs)
  try {
    const got = new Promise<string>(resolve => { atServer.once('data', (d) => { resolve(Buffer.from(d as Uint8Array).toString()) }) })
    atDialer.write(Buffer.from('hello through the relay'))
    return await within(got, stepMs, 'data through the relay')
  } finally {
    atDialer.destroy()
    atServer.destroy()
    server.socket.terminate()
    dialer.socket.terminate()
  }
}

/** What a flood saw. */
export interface FloodResult {
  /** bytes written into the dialer's stream */
  pushed: number
  /** most bytes that had left the dialer's process and not reached the server's */
  peakBetween: number
  /** the server's socket's close code, 0 if it was not closed */
  serverClose: number
}

/**
 * Stops reading the server end's socket and pushes `bytes` into the dialer's stream (fewer
 * when the stream closes or the relay stops reading the dialer), calling `sample` as it goes.
 * Then resumes the server's socket and waits up to `stepMs` for it to close.
 */
export async function flood (pair: { server: RelayEnd, dialer: RelayEnd, atDialer: RelayStream }, bytes: number, stepMs: number, sample: () => void = () => {}): Promise<FloodResult> {
  const { server, dialer, atDialer } = pair
  let serverClose = 0
  const closed = new Promise<void>(resolve => { server.socket.once('close', (code: number) => { serverClose = code; resolve() }) })
  server.socket.pause()
  let pushed = 0
  let peakBetween = 0
  const state = { ended: false }
  atDialer.once('close', () => { state.ended = true })
  const chunk = Buffer.alloc(CHUNK_BYTES, 7)
  const measure = (): void => {
    const raw = dialer.raw()
    peakBetween = Math.max(peakBetween, (raw.bytesWritten - raw.writableLength) - server.raw().bytesRead)
    sample()
  }
  let waits = 0
  while (pushed < bytes && !state.ended && !atDialer.destroyed && waits < MAX_WAITS) {
    if (dialer.socket.bufferedAmount > PUSHER_BUFFER_BYTES) {
      waits++
      await new Promise(resolve => setTimeout(resolve, 10))
      measure()
      continue
    }
    atDialer.write(chunk)
    pushed += CHUNK_BYTES
    if (pushed % (4 * MiB) === 0) {
      measure()
      await new Promise(resolve => setImmediate(resolve))
    }
  }
  measure()
  // a socket that does not read does not see its close: it finds it once it reads again
  server.socket.resume()
  await within(closed, stepMs, 'the end that did not read closed').catch(() => {})
  dialer.socket.terminate()
  server.socket.terminate()
  return { pushed, peakBetween, serverClose }
}

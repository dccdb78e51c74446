/**
 * A relay client that holds both ends of a relayed connection (a server and a client on two
 * of its WebSockets), stops reading one socket and pushes 200 MiB into the other. Before the
 * bound, the relay read everything and queued it for the socket nobody read: its memory grew
 * with every byte. Now what it holds is bounded and counted against the node's budget, the
 * client that does not read is closed (1008), and the relay serves other clients after.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import DHTRelay from '@hyperswarm/dht-relay'
import WebSocketStream from '@hyperswarm/dht-relay/ws'
import HyperDHT from 'hyperdht'
import createTestnet, { type Testnet } from 'hyperdht/testnet'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { MemoryBudget } from '../../../src/super-node/memory-budget.ts'
import { RelayServer } from '../../../src/super-node/relay-server.ts'

const MiB = 1024 * 1024
/** What the hostile client pushes. */
const FLOOD_BYTES = 200 * MiB
const CHUNK_BYTES = 64 * 1024
/** The relay's bounds in this test: small, so the flood passes them many times over. */
const BUDGET_BYTES = 64 * MiB
const BACKLOG_BYTES = 4 * MiB
const STREAM_QUEUE_BYTES = 4 * MiB
/**
 * Bytes that may sit between the pushing client and the socket nobody reads, beyond the
 * relay's bounds: loopback kernel buffers (send and receive, both sockets, autotuned to a
 * few MiB each) and UDX's own window. The flood is 200 MiB; unbounded, all of it sits there.
 */
const KERNEL_SLACK_BYTES = 40 * MiB
/** The pusher waits while its own socket holds this much (the relay is not reading it). */
const PUSHER_BUFFER_BYTES = 8 * MiB
/** Bound on the flood loop's waits (each 10 ms): the loop ends by count, not by clock. */
const MAX_WAITS = 3_000
const STEP_MS = 15_000

type RelayNode = DHTRelay
interface RelayStream { write (data: Uint8Array): boolean, on (event: string, fn: (...args: unknown[]) => void): unknown, once (event: string, fn: (...args: unknown[]) => void): unknown, destroyed: boolean, destroy (): void }
interface RelayServerLike { on (event: 'connection', fn: (s: RelayStream) => void): void, listen (kp: unknown): Promise<void>, close (): Promise<void> }

let net: Testnet
let dht: HyperDHT
let http: Server
let relay: RelayServer
let url: string
const budget = new MemoryBudget(BUDGET_BYTES)
const sockets: WebSocket[] = []

beforeAll(async () => {
  net = await createTestnet(3, { host: '127.0.0.1' })
  dht = new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1' })
  await dht.fullyBootstrapped()
  http = createServer((_req, res) => { res.end('app') })
  relay = new RelayServer({ dht, server: http, budget, maxClientBacklogBytes: BACKLOG_BYTES, maxStreamQueueBytes: STREAM_QUEUE_BYTES })
  await relay.start()
  await new Promise<void>(resolve => { http.listen(0, '127.0.0.1', resolve) })
  url = `ws://127.0.0.1:${(http.address() as AddressInfo).port}/relay`
}, 30_000)

afterAll(async () => {
  for (const s of sockets) s.terminate()
  await relay.stop()
  http.closeAllConnections()
  await new Promise<void>(resolve => { http.close(() => { resolve() }) })
  await dht.destroy()
  await net.destroy()
}, 30_000)

function within<T> (promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`${what} did not happen within ${ms} ms`)) }, ms) })
  return Promise.race([promise, timeout]).finally(() => { clearTimeout(timer) })
}

async function client (): Promise<{ node: RelayNode, socket: WebSocket, raw: () => Socket }> {
  const socket = new WebSocket(url)
  socket.on('error', () => {})
  sockets.push(socket)
  const node = new DHTRelay(new WebSocketStream(true, socket), { custodial: false })
  await within(node.ready(), STEP_MS, 'relay client ready')
  return { node, socket, raw: () => (socket as unknown as { _socket: Socket })._socket }
}

/** A server on one relay client and a connection to it from another; resolves both ends. */
async function pair (): Promise<{ server: Awaited<ReturnType<typeof client>>, dialer: Awaited<ReturnType<typeof client>>, atServer: RelayStream, atDialer: RelayStream }> {
  const server = await client()
  const dialer = await client()
  const keyPair = DHTRelay.keyPair()
  const listener = (server.node as unknown as { createServer (): RelayServerLike }).createServer()
  const accepted = new Promise<RelayStream>(resolve => { listener.on('connection', resolve) })
  await within(listener.listen(keyPair), STEP_MS, 'listen through the relay')
  const atDialer = (dialer.node as unknown as { connect (key: Uint8Array): RelayStream }).connect(keyPair.publicKey)
  atDialer.on('error', () => {})
  await within(new Promise(resolve => { atDialer.once('open', resolve) }), STEP_MS, 'dial through the relay')
  const atServer = await within(accepted, STEP_MS, 'connection at the server')
  atServer.on('error', () => {})
  return { server, dialer, atServer, atDialer }
}

/** Bytes the relay says it holds for its clients now. */
function heldNow (): number {
  const held = relay.stats().held as { toDht: number, toClients: number } | undefined
  return held === undefined ? 0 : held.toDht + held.toClients
}

async function exchange (): Promise<string> {
  const { server, dialer, atServer, atDialer } = await pair()
  const got = new Promise<string>(resolve => { atServer.once('data', (d) => { resolve(Buffer.from(d as Uint8Array).toString()) }) })
  atDialer.write(Buffer.from('hello through the relay'))
  const text = await within(got, STEP_MS, 'data through the relay')
  atDialer.destroy()
  atServer.destroy()
  server.socket.terminate()
  dialer.socket.terminate()
  return text
}

describe('a relay client that does not read one end of its own relayed connection', () => {
  it('cannot make the relay hold more than its bounds, and the relay serves others after', async () => {
    expect(await exchange()).toBe('hello through the relay')

    const { server, dialer, atDialer } = await pair()
    let serverClose = 0
    server.socket.on('close', (code: number) => { serverClose = code })
    server.socket.pause() // the hostile end: never reads its socket again

    let pushed = 0
    let peakBetween = 0
    let peakBudget = 0
    let peakHeld = 0
    let closed = false
    atDialer.once('close', () => { closed = true })
    const chunk = Buffer.alloc(CHUNK_BYTES, 7)
    const sample = (): void => {
      const raw = dialer.raw()
      // bytes that left the pusher's process and have not reached the hostile end's process
      const between = (raw.bytesWritten - raw.writableLength) - server.raw().bytesRead
      peakBetween = Math.max(peakBetween, between)
      peakBudget = Math.max(peakBudget, budget.used)
      peakHeld = Math.max(peakHeld, heldNow())
    }
    let waits = 0
    while (pushed < FLOOD_BYTES && !closed && !atDialer.destroyed && waits < MAX_WAITS) {
      if (dialer.socket.bufferedAmount > PUSHER_BUFFER_BYTES) {
        waits++
        await new Promise(resolve => setTimeout(resolve, 10))
        sample()
        continue
      }
      atDialer.write(chunk)
      pushed += CHUNK_BYTES
      if (pushed % (4 * MiB) === 0) {
        sample()
        await new Promise(resolve => setImmediate(resolve))
      }
    }
    sample()

    const stats = relay.stats()
    const detail = { pushed: pushed / MiB, peakBetween: peakBetween / MiB, peakBudget: peakBudget / MiB, peakHeld: peakHeld / MiB, stats }
    expect(peakBetween, JSON.stringify(detail)).toBeLessThanOrEqual(BACKLOG_BYTES + STREAM_QUEUE_BYTES + KERNEL_SLACK_BYTES)
    expect(peakHeld, JSON.stringify(detail)).toBeLessThanOrEqual(BACKLOG_BYTES + STREAM_QUEUE_BYTES)
    expect(peakBudget).toBeLessThanOrEqual(BUDGET_BYTES)
    expect(stats.backlogged).toBeGreaterThanOrEqual(1)
    // the relay cut it: once it reads again, it finds its socket closed
    server.socket.resume()
    await within(new Promise<void>(resolve => { if (serverClose !== 0) resolve(); else server.socket.once('close', () => { resolve() }) }), STEP_MS, 'the hostile end closed')
    // 1008 when the close frame got through; 1006 when the relay had to cut the socket
    expect([1006, 1008]).toContain(serverClose)
    dialer.socket.terminate()

    // everything it held is given back, and the relay still serves a normal pair
    await within((async () => { while (budget.used > 0 || heldNow() > 0) await new Promise(resolve => setTimeout(resolve, 20)) })(), STEP_MS, 'budget given back')
    expect(budget.used).toBe(0)
    expect(await exchange()).toBe('hello through the relay')
    console.log('relay flood:', JSON.stringify(detail))
  }, 120_000)
})

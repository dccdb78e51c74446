import { randomBytes } from 'node:crypto'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import DHTRelay from '@hyperswarm/dht-relay'
import WebSocketStream from '@hyperswarm/dht-relay/ws'
import HyperDHT from 'hyperdht'
import createTestnet, { type Testnet } from 'hyperdht/testnet'
import Hyperswarm, { type SwarmConnection } from 'hyperswarm'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer, type RawData } from 'ws'
import {
  CLOSE_GOING_AWAY, CLOSE_PROTOCOL_ERROR, CLOSE_POLICY_VIOLATION, CLOSE_TRY_AGAIN_LATER,
  RelayServer, type RelayServerOptions
} from '../../../src/super-node/relay-server.ts'
import { within } from '../../helpers/within.ts'

/** Bound on any single network step on the loopback testnet (lookups, holepunch, close). */
const STEP_MS = 15_000
/** RFC 6455: the message was larger than the receiver accepts (sent by ws on maxPayload). */
const CLOSE_MESSAGE_TOO_BIG = 1009
/** RFC 6455: closed without a close frame (terminated). */
const CLOSE_ABNORMAL = 1006

// Teardown runs last-in first-out after each test: swarms before the relay, the relay before
// its DHT node, everything before the testnet.
const teardown: Array<() => Promise<void>> = []
function defer (fn: () => Promise<void>): void { teardown.push(fn) }
afterEach(async () => {
  while (teardown.length > 0) {
    const fn = teardown.pop()
    if (fn !== undefined) await within(fn(), STEP_MS, 'teardown').catch(() => {})
  }
})

async function testnet (): Promise<Testnet> {
  const net = await createTestnet(3, { host: '127.0.0.1' })
  defer(() => net.destroy())
  return net
}

/** A DHT node on loopback: nodes bound to 0.0.0.0 here cannot holepunch to each other. */
function dhtNode (net: Testnet): HyperDHT {
  const dht = new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1' })
  defer(() => dht.destroy())
  return dht
}

interface RelayHarness { relay: RelayServer, http: Server, url: string }

/** An HTTP server (the "app") with the relay on /relay, on an ephemeral loopback port. */
async function startRelay (net: Testnet, opts: Partial<RelayServerOptions> = {}): Promise<RelayHarness> {
  const dht = dhtNode(net)
  await dht.fullyBootstrapped()
  const http = createServer((_req, res) => { res.end('app') })
  const relay = new RelayServer({ dht, server: http, path: '/relay', ...opts })
  await relay.start()
  await new Promise<void>(resolve => { http.listen(0, '127.0.0.1', resolve) })
  defer(async () => {
    await relay.stop()
    http.closeAllConnections()
    await new Promise<void>(resolve => { http.close(() => { resolve() }) })
  })
  const { port } = http.address() as AddressInfo
  return { relay, http, url: `ws://127.0.0.1:${port}/relay` }
}

interface RelayPeer {
  swarm: Hyperswarm
  socket: WebSocket
  /** every frame the client sent the relay */
  sent: Buffer[]
  /** sends bytes on the socket without recording them */
  sendRaw (data: Uint8Array): void
}

/**
 * A browser's view of the swarm: dht-relay's Node over a WebSocket (the same protocol code a
 * browser runs), inside a Hyperswarm. `sent` records every frame the client sent the relay.
 */
async function relayPeer (url: string, opts: { custodial: boolean, keyPair?: Hyperswarm['keyPair'] }): Promise<RelayPeer> {
  const socket = new WebSocket(url)
  const sent: Buffer[] = []
  const send = socket.send.bind(socket)
  socket.send = ((data: Uint8Array) => { sent.push(Buffer.from(data)); send(data) }) as typeof socket.send
  const node = new DHTRelay(new WebSocketStream(true, socket), { custodial: opts.custodial })
  await within(node.ready(), STEP_MS, 'relay socket open')
  const swarm = new Hyperswarm(opts.keyPair === undefined ? { dht: node } : { dht: node, keyPair: opts.keyPair })
  defer(() => destroySwarm(swarm))
  return { swarm, socket, sent, sendRaw: send }
}

function nativePeer (net: Testnet): Hyperswarm {
  const swarm = new Hyperswarm({ dht: new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1' }) })
  defer(() => destroySwarm(swarm))
  return swarm
}

async function destroySwarm (swarm: Hyperswarm): Promise<void> {
  // a graceful destroy unannounces through the relay; once the relay is gone only force works
  await within(swarm.destroy(), STEP_MS / 3, 'swarm destroy').catch(async () => {
    await (swarm as unknown as { destroy (opts: { force: boolean }): Promise<void> }).destroy({ force: true })
  })
}

function nextConnection (swarm: Hyperswarm): Promise<SwarmConnection> {
  return within(new Promise<SwarmConnection>(resolve => {
    swarm.once('connection', (conn: SwarmConnection) => {
      conn.on('error', () => {}) // drops are what these tests provoke
      resolve(conn)
    })
  }), STEP_MS, 'swarm connection')
}

function nextData (conn: SwarmConnection): Promise<string> {
  return within(new Promise<string>(resolve => {
    const onData = (data: Uint8Array): void => {
      if (data.byteLength === 0) return
      conn.off('data', onData)
      resolve(Buffer.from(data).toString())
    }
    conn.on('data', onData)
  }), STEP_MS, 'data')
}

function closed (conn: SwarmConnection): Promise<void> {
  return within(new Promise<void>(resolve => { conn.once('close', () => { resolve() }) }), STEP_MS, 'connection close')
}

/** `server` announces a fresh topic, `client` looks it up; both send a line and read the other's. */
async function exchange (server: Hyperswarm, client: Hyperswarm, tag: string): Promise<{ atServer: SwarmConnection, atClient: SwarmConnection }> {
  const topic = randomBytes(32)
  const [atServer, atClient] = [nextConnection(server), nextConnection(client)]
  await within(server.join(topic, { server: true, client: false }).flushed(), STEP_MS, 'announce')
  client.join(topic, { server: false, client: true })
  const [s, c] = await Promise.all([atServer, atClient])
  const [fromClient, fromServer] = [nextData(s), nextData(c)]
  s.write(Buffer.from(`${tag}: hello from server`))
  c.write(Buffer.from(`${tag}: hello from client`))
  expect(await fromClient).toBe(`${tag}: hello from client`)
  expect(await fromServer).toBe(`${tag}: hello from server`)
  return { atServer: s, atClient: c }
}

interface RawClient { socket: WebSocket, closed: Promise<{ code: number, reason: string }> }

/** A bare WebSocket to the relay, for bytes no dht-relay client would send. */
async function rawClient (url: string, opts: { autoPong?: boolean } = {}): Promise<RawClient> {
  const socket = new WebSocket(url, { autoPong: opts.autoPong ?? true })
  socket.on('error', () => {})
  const closed = within(new Promise<{ code: number, reason: string }>(resolve => {
    socket.on('close', (code: number, reason: Buffer) => { resolve({ code, reason: reason.toString() }) })
  }), STEP_MS, 'socket close')
  closed.catch(() => {})
  await within(new Promise<void>(resolve => { socket.once('open', () => { resolve() }) }), STEP_MS, 'socket open')
  defer(async () => { socket.terminate() })
  return { socket, closed }
}

/** True when `needle` occurs in any of `frames`. */
function leaked (frames: Buffer[], needle: Uint8Array): boolean {
  return frames.some(frame => frame.indexOf(Buffer.from(needle)) !== -1)
}

describe.each([
  { mode: 'non-custodial', custodial: false },
  { mode: 'custodial', custodial: true }
])('relay clients ($mode)', ({ custodial }) => {
  it('two relay clients find each other on a topic and exchange data', async () => {
    const net = await testnet()
    const { url, relay } = await startRelay(net)
    const a = await relayPeer(url, { custodial })
    const b = await relayPeer(url, { custodial })
    await exchange(a.swarm, b.swarm, 'relay-relay')
    expect(relay.stats()).toMatchObject({ clients: 2, accepted: 2, errors: 0 })
    // the relay learns a browser's secret key only when the browser chose custodial mode
    expect(leaked(a.sent, a.swarm.keyPair.secretKey)).toBe(custodial)
    expect(leaked(b.sent, b.swarm.keyPair.secretKey)).toBe(custodial)
  })

  it('a native peer and a relay client connect both ways', async () => {
    const net = await testnet()
    const { url } = await startRelay(net)
    // one pair per direction: Hyperswarm keeps one connection per peer, so a second topic
    // between the same two peers would reuse the first connection
    const serving = await relayPeer(url, { custodial })
    await exchange(serving.swarm, nativePeer(net), 'relay serves')
    const connecting = await relayPeer(url, { custodial })
    await exchange(nativePeer(net), connecting.swarm, 'native serves')
  })
})

describe('relay survives a dropped relayed stream', () => {
  it('a relayed server whose stream errors does not take down the relay or other clients', async () => {
    const net = await testnet()
    const { url, relay } = await startRelay(net)
    const serving = await relayPeer(url, { custodial: false })
    const native = nativePeer(net)
    const { atServer, atClient } = await exchange(serving.swarm, native, 'before drop')

    // The native side resets the connection: on the relay the server-side stream errors
    // (ECONNRESET), the path that killed dht-relay 0.4.3 with 'uint must be positive'.
    const browserSide = closed(atServer)
    atClient.destroy(new Error('dropped by the native peer'))
    await browserSide

    // ... and a relayed client's socket dies mid-stream
    const second = await exchange(serving.swarm, native, 'second stream')
    const nativeSide = closed(second.atClient)
    serving.socket.terminate()
    await nativeSide

    const c = await relayPeer(url, { custodial: false })
    const d = await relayPeer(url, { custodial: false })
    await exchange(c.swarm, d.swarm, 'after drop')
    await exchange(native, c.swarm, 'native after drop')
    await waitFor(() => relay.stats().clients === 2, STEP_MS, 'dropped client removed')
    expect(relay.stats()).toMatchObject({ clients: 2, accepted: 3, errors: 0, rejected: 0 })
  })
})

describe('relay client isolation', () => {
  it('closes a socket that sends bytes that are no relay message, and keeps serving', async () => {
    const net = await testnet()
    const { url, relay } = await startRelay(net)
    const raw = await rawClient(url)
    raw.socket.send(Buffer.from([0xff, 0x01, 0x02]))
    expect(await raw.closed).toEqual({ code: CLOSE_PROTOCOL_ERROR, reason: 'relay protocol error' })

    const a = await relayPeer(url, { custodial: false })
    const b = await relayPeer(url, { custodial: false })
    await exchange(a.swarm, b.swarm, 'after garbage')
    expect(relay.stats()).toMatchObject({ clients: 2, accepted: 3, errors: 1 })
  })

  it('closes a client whose relay message is truncated, and keeps its other clients', async () => {
    const net = await testnet()
    const { url, relay } = await startRelay(net)
    const bad = await relayPeer(url, { custodial: false })
    const code = within(new Promise<number>(resolve => { bad.socket.on('close', (c: number) => { resolve(c) }) }), STEP_MS, 'close')
    // channel 1 (the dht-relay channel), message type 3 ("connect"), then too few bytes
    bad.socket.send(Buffer.from([0x01, 0x03, 0x00]))
    expect(await code).toBe(CLOSE_PROTOCOL_ERROR)

    const a = await relayPeer(url, { custodial: false })
    const b = await relayPeer(url, { custodial: false })
    await exchange(a.swarm, b.swarm, 'after truncated')
    expect(relay.stats()).toMatchObject({ clients: 2, accepted: 3, errors: 1 })
  })

  it('ignores a replayed handshake reply instead of crashing on it', async () => {
    const net = await testnet()
    const { url, relay } = await startRelay(net)
    const browser = await relayPeer(url, { custodial: false })
    await exchange(nativePeer(net), browser.swarm, 'handshake')
    // Protomux frame: channel 1 (dht-relay), message type 27 ("noiseReply"); a second reply
    // for a finished handshake threw a TypeError that safety-catch turned into a crash
    const replies = browser.sent.filter(frame => frame[0] === 1 && frame[1] === 27)
    expect(replies.length).toBe(2) // one per Noise message the client handled (send, receive)
    for (const frame of replies) browser.sendRaw(frame)

    const a = await relayPeer(url, { custodial: false })
    const b = await relayPeer(url, { custodial: false })
    await exchange(a.swarm, b.swarm, 'after replay')
    expect(browser.socket.readyState).toBe(WebSocket.OPEN)
    expect(relay.stats()).toMatchObject({ clients: 3, accepted: 3, errors: 0 })
  })

  it('closes a client that listens on a key pair another client already listens on', async () => {
    const net = await testnet()
    const { url, relay } = await startRelay(net)
    const first = await relayPeer(url, { custodial: false })
    // two tabs with one identity (before the Web Lock settles who leads) announce one key;
    // hyperdht rejects the second listen, which unpatched dht-relay left unhandled
    const second = await relayPeer(url, { custodial: false, keyPair: first.swarm.keyPair })
    const code = within(new Promise<number>(resolve => { second.socket.on('close', (c: number) => { resolve(c) }) }), STEP_MS, 'close')
    await within(first.swarm.join(randomBytes(32), { server: true, client: false }).flushed(), STEP_MS, 'first listens')
    second.swarm.join(randomBytes(32), { server: true, client: false })
    expect(await code).toBe(CLOSE_PROTOCOL_ERROR)

    await exchange(first.swarm, nativePeer(net), 'first still serves')
    await waitFor(() => relay.stats().clients === 1, STEP_MS, 'second client removed')
    expect(relay.stats()).toMatchObject({ clients: 1, accepted: 2, errors: 1 })
  })

  it('closes a socket that sends a message above the size bound with 1009', async () => {
    const net = await testnet()
    const { url, relay } = await startRelay(net, { maxPayloadBytes: 1024 })
    const raw = await rawClient(url)
    raw.socket.send(Buffer.alloc(1025))
    expect((await raw.closed).code).toBe(CLOSE_MESSAGE_TOO_BIG)
    await waitFor(() => relay.stats().clients === 0, STEP_MS, 'oversized client removed')
    expect(relay.stats()).toMatchObject({ clients: 0, accepted: 1, errors: 1 })
  })

  it('refuses a client beyond the bound with close code 1013', async () => {
    const net = await testnet()
    const { url, relay } = await startRelay(net, { maxClients: 1 })
    await relayPeer(url, { custodial: false })
    const extra = await rawClient(url)
    expect(await extra.closed).toEqual({ code: CLOSE_TRY_AGAIN_LATER, reason: 'relay full' })
    expect(relay.stats()).toMatchObject({ clients: 1, maxClients: 1, accepted: 1, rejected: 1 })
  })

  it('terminates a socket that stops answering pings', async () => {
    const net = await testnet()
    const { url, relay } = await startRelay(net, { heartbeatMs: 100 })
    const dead = await rawClient(url, { autoPong: false })
    expect((await dead.closed).code).toBe(CLOSE_ABNORMAL)
    await waitFor(() => relay.stats().clients === 0, STEP_MS, 'dead client removed')
    expect(relay.stats()).toMatchObject({ clients: 0, accepted: 1, timedOut: 1 })
  })

  it('closes a socket that never sends the relay handshake with 1008', async () => {
    const net = await testnet()
    const { url, relay } = await startRelay(net, { handshakeTimeoutMs: 200 })
    const silent = await rawClient(url)
    expect(await silent.closed).toEqual({ code: CLOSE_POLICY_VIOLATION, reason: 'no relay handshake' })
    await waitFor(() => relay.stats().clients === 0, STEP_MS, 'silent client removed')
    expect(relay.stats()).toMatchObject({ clients: 0, accepted: 1, timedOut: 1 })
  })

  it('leaves upgrades on other paths to other handlers', async () => {
    const net = await testnet()
    const { http, url, relay } = await startRelay(net)
    const other = new WebSocketServer({ noServer: true })
    http.on('upgrade', (req, socket, head) => {
      if (req.url !== '/other') return
      other.handleUpgrade(req, socket, head, ws => { ws.send('other handler') })
    })
    defer(async () => { other.close() })
    const socket = new WebSocket(url.replace('/relay', '/other'))
    defer(async () => { socket.terminate() })
    const message = await within(new Promise<string>(resolve => { socket.once('message', (data: RawData) => { resolve(String(data)) }) }), STEP_MS, 'message')
    expect(message).toBe('other handler')
    expect(relay.stats()).toMatchObject({ clients: 0, accepted: 0 })
  })
})

describe('relay lifecycle', () => {
  it('stop() closes clients with 1001, waits, and is safe to call twice; start() is too', async () => {
    const net = await testnet()
    const { url, relay } = await startRelay(net)
    await relay.start()
    const raw = await rawClient(url)
    await waitFor(() => relay.stats().clients === 1, STEP_MS, 'client counted')
    await Promise.all([relay.stop(), relay.stop()])
    expect(relay.stats().clients).toBe(0)
    expect(await raw.closed).toEqual({ code: CLOSE_GOING_AWAY, reason: 'relay stopping' })
    await relay.stop()

    await relay.start()
    const again = await relayPeer(url, { custodial: false })
    const other = await relayPeer(url, { custodial: false })
    await exchange(again.swarm, other.swarm, 'after restart')
  })
})

/** Polls `condition` (a counter settling after a socket event) until it holds or `ms` pass. */
async function waitFor (condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${ms} ms`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

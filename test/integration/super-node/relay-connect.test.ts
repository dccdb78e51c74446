import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import DHTRelay from '@hyperswarm/dht-relay'
import WebSocketStream from '@hyperswarm/dht-relay/ws'
import c, { type Encoding } from 'compact-encoding'
import HyperDHT from 'hyperdht'
import createTestnet, { type Testnet } from 'hyperdht/testnet'
import Hyperswarm, { type SwarmConnection } from 'hyperswarm'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import { RelayServer } from '../../../src/super-node/relay-server.ts'
import { ownServer } from '../../../src/super-node/super-node.ts'
import { within } from '../../helpers/within.ts'

/** Bound on any single network step on the loopback testnet (lookups, holepunch, close). */
const STEP_MS = 15_000
/**
 * Bound on the server seeing a connection its relayed client already has. A lost one only
 * shows up when the client's relayed stream times out (~13 s) and it dials again, so
 * anything well under that tells the two apart.
 */
const SEEN_MS = 5_000
/**
 * How late a slow relay client's messages reach the relay. A browser tab is this slow (a
 * busy main thread, a worker, a real network); a Node client in this process answers in
 * well under a millisecond, which hid the bug. Measured: before the fix 10 of 10 clients
 * at 100 ms were lost.
 */
const CLIENT_LAG_MS = 100
/** Slow clients dialled one after the other in the regression loop. */
const SLOW_CLIENTS = 3
/** Bound on a handshake step that must settle without any network (it is refused at once). */
const SETTLE_MS = 1_000

// Teardown runs last-in first-out after each test: clients before the relay and the server
// swarm, the relay before its DHT node, everything before the testnet.
const teardown: Array<() => Promise<void>> = []
function defer (fn: () => Promise<void>): void { teardown.push(fn) }
afterEach(async () => {
  while (teardown.length > 0) {
    const fn = teardown.pop()
    if (fn !== undefined) await within(fn(), STEP_MS, 'teardown').catch(() => {})
  }
})

async function destroySwarm (swarm: Hyperswarm): Promise<void> {
  // a graceful destroy unannounces through the relay; once the relay is gone only force works
  await within(swarm.destroy(), STEP_MS / 3, 'swarm destroy').catch(async () => {
    await (swarm as unknown as { destroy (opts: { force: boolean }): Promise<void> }).destroy({ force: true })
  })
}

interface Network { net: Testnet, url: string }

/**
 * A loopback testnet with a relay (its own DHT node) on an ephemeral HTTP port; `local` is
 * the relay's in-memory route to servers of this process (none by default).
 */
async function network (local?: (publicKey: Uint8Array) => unknown): Promise<Network> {
  const net = await createTestnet(3, { host: '127.0.0.1' })
  defer(() => net.destroy())
  const dht = new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1' })
  defer(() => dht.destroy())
  await dht.fullyBootstrapped()
  const http = createServer((_req, res) => { res.end('app') })
  const relay = new RelayServer({ dht, server: http, path: '/relay', ...(local === undefined ? {} : { local }) })
  await relay.start()
  await new Promise<void>(resolve => { http.listen(0, '127.0.0.1', resolve) })
  defer(async () => {
    await relay.stop()
    http.closeAllConnections()
    await new Promise<void>(resolve => { http.close(() => { resolve() }) })
  })
  return { net, url: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/relay` }
}

/**
 * A native swarm (the super node's role) on its own DHT node, on `topic` as server only;
 * `firewall` as Hyperswarm takes it (true refuses the peer).
 */
async function nativeServer (net: Testnet, topic: Buffer, firewall?: (remotePublicKey: Uint8Array) => boolean): Promise<Hyperswarm> {
  const dht = new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1' })
  const swarm = new Hyperswarm(firewall === undefined ? { dht } : { dht, firewall })
  defer(() => destroySwarm(swarm))
  swarm.on('connection', (conn: SwarmConnection) => {
    conn.on('error', () => {}) // clients leave; their drops are not under test
    conn.write(Buffer.from('from server'))
  })
  await within(swarm.join(topic, { server: true, client: false }).flushed(), STEP_MS, 'announce')
  return swarm
}

/**
 * A browser's view of the swarm (dht-relay's Node over a WebSocket, non-custodial, as
 * src/browser/relay-connection.ts opens it) whose every message to the relay leaves
 * `lagMs` late, in order.
 */
async function slowRelayClient (url: string, lagMs: number): Promise<{ swarm: Hyperswarm, socket: WebSocket }> {
  const socket = new WebSocket(url)
  const send = socket.send.bind(socket)
  const timers = new Set<ReturnType<typeof setTimeout>>()
  socket.send = ((data: Uint8Array) => {
    const timer = setTimeout(() => {
      timers.delete(timer)
      if (socket.readyState === WebSocket.OPEN) send(data)
    }, lagMs)
    timers.add(timer)
  }) as typeof socket.send
  socket.on('close', () => { for (const timer of timers) clearTimeout(timer) })
  const node = new DHTRelay(new WebSocketStream(true, socket), { custodial: false })
  await within(node.ready(), STEP_MS, 'relay socket open')
  const swarm = new Hyperswarm({ dht: node })
  defer(async () => {
    await destroySwarm(swarm)
    socket.terminate()
  })
  return { swarm, socket }
}

function connectionWith (swarm: Hyperswarm, remote: Uint8Array, ms: number, what: string): Promise<SwarmConnection> {
  const key = Buffer.from(remote).toString('hex')
  let onConnection: (conn: SwarmConnection) => void = () => {}
  return within(new Promise<SwarmConnection>(resolve => {
    onConnection = (conn: SwarmConnection): void => {
      if (Buffer.from(conn.remotePublicKey).toString('hex') === key) resolve(conn)
    }
    swarm.on('connection', onConnection)
  }), ms, what).finally(() => { swarm.off('connection', onConnection) })
}

function firstData (conn: SwarmConnection): Promise<string> {
  return within(new Promise<string>(resolve => {
    conn.once('data', (data: Uint8Array) => { resolve(Buffer.from(data).toString()) })
  }), STEP_MS, 'data')
}

/**
 * `client` joins `topic` through the relay and meets `server` there: both ends of their
 * connection, the client's first, and what the server sends first as the client reads it.
 */
async function dialThrough (client: { swarm: Hyperswarm }, server: Hyperswarm, topic: Buffer, who: string): Promise<{ clientConn: SwarmConnection, serverConn: SwarmConnection, fromServer: Promise<string> }> {
  const atServer = connectionWith(server, client.swarm.keyPair.publicKey, STEP_MS, `${who} at the server`)
  atServer.catch(() => {}) // awaited below, after the client's side
  const atClient = connectionWith(client.swarm, server.keyPair.publicKey, STEP_MS, `the server at ${who}`)
  client.swarm.join(topic, { server: false, client: true })
  const clientConn = await atClient
  clientConn.on('error', () => {})
  const fromServer = firstData(clientConn)
  fromServer.catch(() => {}) // awaited by the caller, unless the server never sees the client
  const serverConn = await within(atServer, SEEN_MS, `${who} at the server once the client has it`)
  return { clientConn, serverConn, fromServer }
}

describe('a relay client dials a native server', () => {
  // The bug: the relay's side of a dialled UDX stream sent nothing until the browser's
  // secret-stream header came back over the WebSocket; the server, whose holepunch had
  // meanwhile aborted, had destroyed its side. The browser saw 'connection', the server
  // never did, and the browser's stream timed out ~13 s later.
  it('the server sees every slow client that sees it, and data flows both ways', async () => {
    const { net, url } = await network()
    const topic = randomBytes(32)
    const server = await nativeServer(net, topic)
    const seen: string[] = []
    for (let i = 0; i < SLOW_CLIENTS; i++) {
      const client = await slowRelayClient(url, CLIENT_LAG_MS)
      const { clientConn, serverConn, fromServer } = await dialThrough(client, server, topic, `client ${i}`)
      const fromClient = firstData(serverConn)
      clientConn.write(Buffer.from(`from client ${i}`))
      expect(await fromServer).toBe('from server')
      expect(await fromClient).toBe(`from client ${i}`)
      seen.push(Buffer.from(serverConn.remotePublicKey).toString('hex'))
      expect(seen[i]).toBe(Buffer.from(client.swarm.keyPair.publicKey).toString('hex'))
    }
    expect(seen).toHaveLength(SLOW_CLIENTS)
    expect(new Set(seen).size).toBe(SLOW_CLIENTS)
  })
})

describe('a relay client dials a server of the relay\'s own process', () => {
  // The super node's relay reached the node's own server through the relay's DHT node: a
  // UDX stream between two sockets of one event loop, which bounded what browsers could
  // download. A dial to a key the `local` route names now runs the Noise handshake with
  // that server directly and joins the two sides in memory.
  it('reaches it in memory, authenticated by its key, and data flows both ways', async () => {
    let target: Hyperswarm | null = null
    let routed = 0
    const { net, url } = await network((key) => {
      if (target === null || !Buffer.from(key).equals(Buffer.from(target.keyPair.publicKey))) return null
      routed++
      return target.server
    })
    const topic = randomBytes(32)
    target = await nativeServer(net, topic)
    const client = await slowRelayClient(url, 0)
    const { clientConn, serverConn, fromServer } = await dialThrough(client, target, topic, 'the client')
    const fromClient = firstData(serverConn)
    clientConn.write(Buffer.from('from client'))
    expect(await fromServer).toBe('from server')
    expect(await fromClient).toBe('from client')
    expect(routed).toBeGreaterThan(0)
    // not a UDX stream: an in-memory pipe has no remote address
    expect((serverConn as unknown as { rawStream: { remotePort?: number } }).rawStream.remotePort).toBeUndefined()
  })

  it('a server that does not hold the dialled key cannot answer for it', async () => {
    let impostor: Hyperswarm | null = null
    let onRouted: () => void = () => {}
    const routed = new Promise<void>(resolve => { onRouted = resolve })
    const { net, url } = await network(() => {
      if (impostor === null) return null
      onRouted()
      return impostor.server
    })
    const topic = randomBytes(32)
    const target = await nativeServer(net, topic)
    impostor = await nativeServer(net, randomBytes(32))
    const client = await slowRelayClient(url, 0)
    let connected = 0
    client.swarm.on('connection', (conn: SwarmConnection) => { conn.on('error', () => {}); connected++ })
    client.swarm.join(topic, { server: false, client: true })
    // the client found the target and dialled it through the relay's in-memory route
    await within(routed, STEP_MS, 'a dial through the in-memory route')
    // give a wrongly accepted handshake time to open a connection on either side
    await new Promise(resolve => setTimeout(resolve, SEEN_MS / 2))
    expect(connected).toBe(0)
    expect(impostor.connections.size).toBe(0)
    expect(target.connections.size).toBe(0)
  })
})

describe("the super node's in-memory route", () => {
  it('names only the swarm\'s own server: a dial to any other key goes through the DHT', async () => {
    let own: Hyperswarm | null = null
    let asked = 0
    let routed = 0
    const { net, url } = await network((key) => {
      if (own === null) return null
      asked++
      const server = ownServer(own)(key)
      if (server !== null) routed++
      return server
    })
    own = await nativeServer(net, randomBytes(32))
    const topic = randomBytes(32)
    const other = await nativeServer(net, topic)
    expect(ownServer(own)(own.keyPair.publicKey)).toBe(own.server)
    expect(ownServer(own)(other.keyPair.publicKey)).toBeNull()

    const client = await slowRelayClient(url, 0)
    const { serverConn, fromServer } = await dialThrough(client, other, topic, 'the client')
    expect(await fromServer).toBe('from server')
    expect(asked).toBeGreaterThan(0)
    expect(routed).toBe(0)
    // a UDX stream from the relay's DHT node, not an in-memory pipe
    expect((serverConn as unknown as { rawStream: { remotePort?: number } }).rawStream.remotePort).toBeGreaterThan(0)
    expect(own.connections.size).toBe(0)
  })

  it('a server whose firewall refuses the client: no connection on either side', async () => {
    let target: Hyperswarm | null = null
    let onRouted: () => void = () => {}
    const routed = new Promise<void>(resolve => { onRouted = resolve })
    const { net, url } = await network((key) => {
      if (target === null) return null
      const server = ownServer(target)(key)
      if (server !== null) onRouted()
      return server
    })
    const topic = randomBytes(32)
    const refused = { count: 0 }
    target = await nativeServer(net, topic, () => { refused.count++; return true })
    // what the firewall is told of the client's address: never this host's
    const addresses: Array<{ host: string } | null> = []
    const server = target.server as unknown as { firewall: (key: Uint8Array, payload: unknown, address: { host: string } | null) => Promise<boolean> | boolean }
    const firewall = server.firewall.bind(server)
    server.firewall = (key, payload, address) => { addresses.push(address); return firewall(key, payload, address) }
    const client = await slowRelayClient(url, 0)
    let connected = 0
    client.swarm.on('connection', (conn: SwarmConnection) => { conn.on('error', () => {}); connected++ })
    client.swarm.join(topic, { server: false, client: true })
    await within(routed, STEP_MS, 'a dial through the in-memory route')
    for (let i = 0; i < 100 && refused.count === 0; i++) await new Promise(resolve => setTimeout(resolve, 50))
    expect(refused.count).toBeGreaterThan(0)
    // give a wrongly accepted handshake time to open a connection on either side
    await new Promise(resolve => setTimeout(resolve, SEEN_MS / 2))
    expect(connected).toBe(0)
    expect(target.connections.size).toBe(0)
    expect(addresses.length).toBeGreaterThan(0)
    for (const address of addresses) expect(address?.host).not.toMatch(/^(127\.|::1$|localhost$|0\.0\.0\.0$)/)
  })
})

interface HandshakeProxyLike {
  recv (payload: Uint8Array): Promise<{ id: number, error: number, firewall: number }>
  send (payload: object): Promise<Uint8Array>
  _onNoiseReply: ((message: object) => void) | null
}
type HandshakeProxyClass = new (node: object, protocol: object, id: number, remoteStreamAlias: number | null,
  serverAlias: number | null, isInitiator: boolean, keyPair: object, remotePublicKey: Uint8Array | null) => HandshakeProxyLike

describe("the relay's proxy of a client's Noise handshake", () => {
  // The relay's handshake steps wait on the client, so hyperdht (which asks several DHT
  // nodes at once) can call recv again before the first recv resolves. The second call
  // used to overwrite the first's resolver and send the client a message for a handshake
  // it had completed; the client threw and lost its whole relay stream.
  it('takes each step once: a second recv while one is pending, or after the last, fails', async () => {
    const require = createRequire(import.meta.url)
    const lib = join(dirname(require.resolve('@hyperswarm/dht-relay')), 'lib')
    const { HandshakeProxy } = require(join(lib, 'handshake-proxy.js')) as { HandshakeProxy: HandshakeProxyClass }
    const { noisePayload } = require('hyperdht/lib/messages') as { noisePayload: Encoding<object> }

    const sent: Array<{ kind: string, id: number }> = []
    const protocol = {
      noiseSend: { send: (m: { id: number }) => { sent.push({ kind: 'noiseSend', id: m.id }) } },
      noiseReceive: { send: (m: { id: number }) => { sent.push({ kind: 'noiseReceive', id: m.id }) } }
    }
    const node = { _handshakes: new Map() }
    const handshake = new HandshakeProxy(node, protocol, 7, 3, null, true, { publicKey: Buffer.alloc(32, 1) }, Buffer.alloc(32, 2))

    const first = handshake.recv(Buffer.from('reply through node A'))
    const second = handshake.recv(Buffer.from('reply through node B'))
    await expect(within(second, SETTLE_MS, 'the second recv to settle')).rejects.toThrow('Handshake step already taken')
    expect(sent).toEqual([{ kind: 'noiseReceive', id: 7 }])

    // the client's answer to the one message it got completes the handshake
    const reply = handshake._onNoiseReply
    expect(reply).not.toBeNull()
    reply?.({
      id: 7,
      payload: c.encode(noisePayload, { error: 0, firewall: 0 }),
      complete: true,
      remoteId: Buffer.alloc(32, 3),
      holepunchSecret: Buffer.alloc(32, 4),
      remotePublicKey: Buffer.alloc(32, 2)
    })
    expect(await first).toMatchObject({ id: 7, version: 1, error: 0, firewall: 0 })

    const late = handshake.recv(Buffer.from('late reply through node C'))
    await expect(within(late, SETTLE_MS, 'a recv after the last step to settle')).rejects.toThrow('Handshake step already taken')
    expect(sent).toEqual([{ kind: 'noiseReceive', id: 7 }])
  })
})

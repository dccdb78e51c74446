/**
 * The real entry points the hostile corpus feeds, and the state each one guards: a Node
 * worker_threads executor, a publisher registry that already serves a good version, an
 * access gate, and a super node's WebSocket DHT relay on a local HyperDHT testnet.
 */
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import DHTRelay from '@hyperswarm/dht-relay'
import WebSocketStream from '@hyperswarm/dht-relay/ws'
import b4a from 'b4a'
import Corestore from 'corestore'
import crypto from 'hypercore-crypto'
import HyperDHT from 'hyperdht'
import createTestnet, { type Testnet } from 'hyperdht/testnet'
import Hyperswarm, { type SwarmConnection } from 'hyperswarm'
import RAM from 'random-access-memory'
import { WebSocket } from 'ws'
import { AccessGate } from '../../../src/core/access/access-gate.ts'
import { ShadwError } from '../../../src/core/errors.ts'
import { decodeSignalMessage } from '../../../src/core/links/signal-protocol.ts'
import { parseBridgeMessage } from '../../../src/browser/bridge-protocol.ts'
import { parseNodeWorkerInit } from '../../../src/browser/node-worker-protocol.ts'
import { createNodeExecutor } from '../../../src/super-node/executor/index.ts'
import { RelayServer } from '../../../src/super-node/relay-server.ts'
import { openTombstone, parseFunctionRef, Registry, verifyFunction } from '../../../src/core/registry/index.ts'
import type { Abi, ExecuteCall, Executor } from '../../../src/core/sandbox/index.ts'
import { CORPUS, type HostileCase } from '../../fixtures/hostile/cases.ts'

const FIXTURES = new URL('../../fixtures/hostile/', import.meta.url)
/** Bound on one relay step (a close frame, a lookup) on the loopback testnet. */
const RELAY_STEP_MS = 15_000
/** Short, so the case that never completes a handshake is timed out quickly. */
const RELAY_HANDSHAKE_MS = 1_500
/** How long a frame the relay should ignore must leave the socket open. */
const RELAY_SETTLE_MS = 1_500

/** The corpus index. */
export function loadCases (): HostileCase[] {
  return JSON.parse(readFileSync(new URL('cases.json', FIXTURES), 'utf8')) as HostileCase[]
}

/** Ids the corpus test reports but does not fail on (real bugs, reported to their owners). */
export function loadKnownBugs (): Map<string, string> {
  const list = JSON.parse(readFileSync(new URL('known-bugs.json', FIXTURES), 'utf8')) as Array<{ id: string, bug: string }>
  return new Map(list.map(b => [b.id, b.bug]))
}

/** Bytes of a fixture file or a synthetic input. */
export function bytesOf (input: HostileCase['input']): Uint8Array {
  if (typeof input === 'string') return new Uint8Array(readFileSync(new URL(input, FIXTURES)))
  return new Uint8Array(input.synthetic.length).fill(input.synthetic.fill)
}

function jsonOf (input: HostileCase['input']): unknown {
  return JSON.parse(b4a.toString(bytesOf(input), 'utf8'))
}

/**
 * What an entry point did with a case: the ShadwError code, `ok` when it accepted the input,
 * or `crash:` and the name of anything else thrown (a bug: an untyped error).
 */
export async function outcome (fn: () => unknown): Promise<string> {
  try {
    await fn()
    return 'ok'
  } catch (err) {
    if (err instanceof ShadwError) return err.code
    const e = err as { name?: unknown, message?: unknown }
    return `crash:${String(e?.name)}:${String(e?.message).slice(0, 160)}`
  }
}

function unifiedAddressIs (address: string): Record<string, unknown> {
  return {
    conditionType: 'evmBasic',
    contractAddress: '',
    standardContractType: '',
    chain: 'ethereum',
    method: '',
    parameters: [':userAddress'],
    returnValueTest: { comparator: '=', value: address }
  }
}

/** The registry the publish cases attack, with the good version it must keep serving. */
export interface RegistryUnderAttack {
  registry: Registry
  store: Corestore
  good: Uint8Array
  /** registry and blob log lengths after the good publish */
  lengths: { core: number }
}

/** Every long-lived part the corpus needs; `close()` tears them down in reverse order. */
export class Harness {
  executor: Executor | null = null
  reg: RegistryUnderAttack | null = null
  relay: { net: Testnet, dht: HyperDHT, http: Server, relay: RelayServer, url: string } | null = null
  readonly #aliceAddress: string
  readonly #goodAuth: unknown

  constructor (aliceAddress: string, goodAuth: unknown) {
    this.#aliceAddress = aliceAddress
    this.#goodAuth = goodAuth
  }

  async executorFor (): Promise<Executor> {
    this.executor ??= createNodeExecutor({ size: 2, maxQueue: 64 })
    return this.executor
  }

  async registryFor (): Promise<RegistryUnderAttack> {
    if (this.reg !== null) return this.reg
    const store = new Corestore(RAM.reusable())
    const kp = crypto.keyPair(new Uint8Array(32).fill(CORPUS.publisherSeed))
    const registry = await Registry.create(store, kp)
    const good = bytesOf('publish/echo.wasm')
    await registry.publish(good, { name: 'echo', version: '1.0.0', createdAt: 1_700_000_000_000 })
    this.reg = { registry, store, good, lengths: { core: registry.core.length } }
    return this.reg
  }

  async relayFor (): Promise<NonNullable<Harness['relay']>> {
    if (this.relay !== null) return this.relay
    const net = await createTestnet(3, { host: '127.0.0.1' })
    const dht = new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1' })
    await dht.fullyBootstrapped()
    const http = createServer((_req, res) => { res.end('app') })
    const relay = new RelayServer({ dht, server: http, path: '/relay', handshakeTimeoutMs: RELAY_HANDSHAKE_MS })
    await relay.start()
    await new Promise<void>(resolve => { http.listen(0, '127.0.0.1', resolve) })
    const { port } = http.address() as AddressInfo
    this.relay = { net, dht, http, relay, url: `ws://127.0.0.1:${port}/relay` }
    return this.relay
  }

  /** Runs one case through its entry point; returns the outcome (see {@link outcome}). */
  async run (k: HostileCase): Promise<string> {
    const p = k.params ?? {}
    switch (k.target) {
      case 'sandbox.execute': {
        const executor = await this.executorFor()
        const call: ExecuteCall = { module: bytesOf(k.input), abi: (p['abi'] ?? 'raw') as Abi }
        if (p['input'] !== undefined) call.input = bytesOf(p['input'] as HostileCase['input'])
        if (p['limits'] !== undefined) {
          const limits = { ...(p['limits'] as Record<string, number | null>) }
          for (const [f, v] of Object.entries(limits)) if (v === null) limits[f] = Number.NaN
          call.limits = limits as Record<string, number>
        }
        return await outcome(() => executor.execute(call))
      }
      case 'registry.publish': {
        const { registry } = await this.registryFor()
        return await outcome(() => registry.publish(bytesOf(k.input), { createdAt: 1_700_000_000_000, ...p } as unknown as Parameters<Registry['publish']>[1]))
      }
      case 'registry.verify': {
        const ctx = { registryKey: String(p['registryKey']), ...(p['expect'] === undefined ? {} : { expect: p['expect'] as { name: string, version: string } }) }
        return await outcome(() => verifyFunction(bytesOf(k.input), bytesOf(p['module'] as string), ctx))
      }
      case 'registry.tombstone':
        return await outcome(() => openTombstone(bytesOf(k.input), String(p['publisher'])))
      case 'registry.ref':
        return await outcome(() => parseFunctionRef(jsonOf(k.input)))
      case 'access.auth': {
        const gate = new AccessGate({ domain: CORPUS.domain, now: () => CORPUS.now })
        const req = { fn: CORPUS.fn, access: [unifiedAddressIs(this.#aliceAddress)], auth: jsonOf(k.input), ...(p['domains'] === undefined ? {} : { domains: p['domains'] as string[] }) }
        if (p['replay'] === true) {
          const first = await outcome(() => gate.authorize(req))
          if (first !== 'ok') return `first use refused: ${first}`
        }
        return await outcome(() => gate.authorize(req))
      }
      case 'access.conditions': {
        const gate = new AccessGate({ domain: CORPUS.domain, now: () => CORPUS.now })
        return await outcome(() => gate.authorize({ fn: CORPUS.fn, access: jsonOf(k.input), auth: this.#goodAuth }))
      }
      case 'bridge.message':
        return await outcome(() => parseBridgeMessage(jsonOf(k.input)))
      case 'bridge.init':
        return await outcome(() => parseNodeWorkerInit(jsonOf(k.input)))
      case 'signal.message':
        return await outcome(() => decodeSignalMessage(bytesOf(k.input)))
      case 'relay.frame':
        return await this.#relayFrame(bytesOf(k.input), p['handshake'] === true, k.expect === 'open' ? RELAY_SETTLE_MS : RELAY_STEP_MS)
    }
  }

  /** Sends one frame on a fresh socket (after dht-relay's handshake when `handshake`); the close code. */
  async #relayFrame (frame: Uint8Array, handshake: boolean, waitMs: number): Promise<string> {
    const { url } = await this.relayFor()
    const socket = new WebSocket(url)
    socket.on('error', () => {})
    try {
      const closed = new Promise<number>(resolve => { socket.on('close', (code: number) => { resolve(code) }) })
      if (handshake) {
        // a real client's handshake first, so the frame reaches the relay's message decoders
        const node = new DHTRelay(new WebSocketStream(true, socket))
        node.on('error', () => {})
        await node.ready()
      } else {
        await new Promise<void>((resolve, reject) => { socket.once('open', resolve); socket.once('close', () => { reject(new Error('closed before open')) }) })
      }
      socket.send(frame)
      const code = await Promise.race([closed, new Promise<null>(resolve => setTimeout(() => { resolve(null) }, waitMs))])
      return code === null ? 'open' : `close:${code}`
    } finally {
      socket.terminate()
    }
  }

  /** A WebSocket to the relay that has done dht-relay's handshake, and its close code when it closes. */
  async relayClient (): Promise<{ socket: WebSocket, closed: Promise<number> }> {
    const { url } = await this.relayFor()
    const socket = new WebSocket(url)
    socket.on('error', () => {})
    const closed = new Promise<number>(resolve => { socket.on('close', (code: number) => { resolve(code) }) })
    const node = new DHTRelay(new WebSocketStream(true, socket))
    node.on('error', () => {})
    await node.ready()
    return { socket, closed }
  }

  /** Two fresh dht-relay clients find each other through the relay and exchange a line. */
  async relayStillServes (): Promise<boolean> {
    const { url } = await this.relayFor()
    const peers: Array<{ swarm: Hyperswarm }> = []
    try {
      for (let i = 0; i < 2; i++) {
        const socket = new WebSocket(url)
        const node = new DHTRelay(new WebSocketStream(true, socket))
        await node.ready()
        peers.push({ swarm: new Hyperswarm({ dht: node }) })
      }
      const [a, b] = peers as [{ swarm: Hyperswarm }, { swarm: Hyperswarm }]
      const topic = randomBytes(32)
      const conn = (s: Hyperswarm): Promise<SwarmConnection> => new Promise(resolve => { s.once('connection', (c: SwarmConnection) => { c.on('error', () => {}); resolve(c) }) })
      const [atA, atB] = [conn(a.swarm), conn(b.swarm)]
      await a.swarm.join(topic, { server: true, client: false }).flushed()
      b.swarm.join(topic, { server: false, client: true })
      const [ca, cb] = await Promise.race([Promise.all([atA, atB]), new Promise<never>((_resolve, reject) => setTimeout(() => { reject(new Error('no connection through the relay')) }, RELAY_STEP_MS))])
      const line = new Promise<string>(resolve => { cb.on('data', (d: Uint8Array) => { if (d.byteLength > 0) resolve(b4a.toString(d)) }) })
      ca.write(b4a.from('still serving'))
      return await line === 'still serving'
    } finally {
      for (const p of peers) await (p.swarm as unknown as { destroy (opts: { force: boolean }): Promise<void> }).destroy({ force: true }).catch(() => {})
    }
  }

  async close (): Promise<void> {
    await this.executor?.close()
    if (this.reg !== null) { await this.reg.registry.close(); await this.reg.store.close() }
    if (this.relay !== null) {
      await this.relay.relay.stop()
      this.relay.http.closeAllConnections()
      await new Promise<void>(resolve => { this.relay?.http.close(() => { resolve() }) })
      await this.relay.dht.destroy()
      await this.relay.net.destroy()
    }
  }
}

/**
 * A relay client that holds both ends of a relayed connection (a server and a client on two
 * of its WebSockets), stops reading one socket and pushes 200 MiB into the other. Before the
 * bound, the relay read everything and queued it for the socket nobody read: its memory grew
 * with every byte (measured: 192 MiB between the two ends). Now what it holds is bounded and
 * counted against the node's budget, the client that does not read is closed (1008), and the
 * relay serves other clients after.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import HyperDHT from 'hyperdht'
import createTestnet, { type Testnet } from 'hyperdht/testnet'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryBudget } from '../../../src/super-node/memory-budget.ts'
import { RelayServer } from '../../../src/super-node/relay-server.ts'
import { flood, relayExchange, relayPair } from '../../helpers/relay-flood.ts'
import { within } from '../../helpers/within.ts'

const MiB = 1024 * 1024
/** What the hostile client pushes. */
const FLOOD_BYTES = 200 * MiB
/** The relay's bounds in this test: small, so the flood passes them many times over. */
const BUDGET_BYTES = 64 * MiB
const BACKLOG_BYTES = 4 * MiB
const STREAM_QUEUE_BYTES = 4 * MiB
/**
 * Bytes that may sit between the pushing client and the socket nobody reads beyond the
 * relay's bounds: loopback kernel buffers (send and receive, both sockets, autotuned to a
 * few MiB each) and UDX's window. Unbounded, the whole flood sits there.
 */
const KERNEL_SLACK_BYTES = 40 * MiB
const STEP_MS = 15_000

let net: Testnet
let dht: HyperDHT
let http: Server
let relay: RelayServer
let url: string
const budget = new MemoryBudget(BUDGET_BYTES)

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
  await relay.stop()
  http.closeAllConnections()
  await new Promise<void>(resolve => { http.close(() => { resolve() }) })
  await dht.destroy()
  await net.destroy()
}, 30_000)

/** Bytes the relay says it holds for its clients now (0 from a relay that does not count them). */
function heldNow (): number {
  const held = relay.stats().held as { toDht: number, toClients: number } | undefined
  return held === undefined ? 0 : held.toDht + held.toClients
}

describe('a relay client that does not read one end of its own relayed connection', () => {
  it('cannot make the relay hold more than its bounds, and the relay serves others after', async () => {
    expect(await relayExchange(url, STEP_MS)).toBe('hello through the relay')

    let peakBudget = 0
    let peakHeld = 0
    const result = await flood(await relayPair(url, STEP_MS), FLOOD_BYTES, STEP_MS, () => {
      peakBudget = Math.max(peakBudget, budget.used)
      peakHeld = Math.max(peakHeld, heldNow())
    })
    const detail = JSON.stringify({ pushedMiB: result.pushed / MiB, peakBetweenMiB: result.peakBetween / MiB, peakBudgetMiB: peakBudget / MiB, peakHeldMiB: peakHeld / MiB, stats: relay.stats() })
    expect(result.peakBetween, detail).toBeLessThanOrEqual(BACKLOG_BYTES + STREAM_QUEUE_BYTES + KERNEL_SLACK_BYTES)
    expect(peakHeld, detail).toBeLessThanOrEqual(BACKLOG_BYTES + STREAM_QUEUE_BYTES)
    expect(peakBudget, detail).toBeLessThanOrEqual(BUDGET_BYTES)
    expect(relay.stats().backlogged, detail).toBeGreaterThanOrEqual(1)
    // 1008 when the close frame got through before the cut; 1006 when the cut came first
    expect([1006, 1008], detail).toContain(result.serverClose)

    // everything it held is given back, and the relay still serves a normal pair
    await within((async () => { for (let i = 0; i < 500 && (budget.used > 0 || heldNow() > 0); i++) await new Promise(resolve => setTimeout(resolve, 20)) })(), STEP_MS, 'budget given back')
    expect(budget.used, detail).toBe(0)
    expect(heldNow()).toBe(0)
    expect(await relayExchange(url, STEP_MS)).toBe('hello through the relay')
  }, 120_000)
})

/**
 * The relay's side of one client (dht-relay's patched NodeProxy over its real Protocol) with
 * a relayed stream whose remote end does not read: what the client sends for it pauses the
 * client past the high-water mark, counts against the budget, ends with a typed refusal past
 * the stream's bound, and is given back when the stream closes.
 */
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { Duplex } from 'streamx'
import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../src/core/errors.ts'
import { MemoryBudget } from '../../../src/super-node/memory-budget.ts'
import { RelayMemory, STREAM_HIGH_WATER_BYTES } from '../../../src/super-node/relay-flow.ts'

const require = createRequire(import.meta.url)
const lib = join(dirname(require.resolve('@hyperswarm/dht-relay')), 'lib')
const { Protocol } = require(join(lib, 'protocol.js')) as { Protocol: new (stream: Duplex) => RelayProtocol }
const { NodeProxy } = require(join(lib, 'node-proxy.js')) as { NodeProxy: new (dht: null, protocol: RelayProtocol, keyPair: null, opts: object) => { _connections: Map<number, Duplex> } }

interface RelayProtocol { data: { send (m: { alias: number, data: Uint8Array[] }): void }, _stream: Duplex }

const MiB = 1024 * 1024
const CHUNK = 64 * 1024
const ALIAS = 7

/** Two framed streams joined back to back: what one writes, the other reads as one message. */
function joined (): [Duplex, Duplex] {
  const a: Duplex = new Duplex({ write (data: unknown, cb: (err: Error | null) => void) { b.push(data as Uint8Array); cb(null) } })
  const b: Duplex = new Duplex({ write (data: unknown, cb: (err: Error | null) => void) { a.push(data as Uint8Array); cb(null) } })
  return [a, b]
}

function tick (): Promise<void> { return new Promise(resolve => setTimeout(resolve, 0)) }

async function setup (maxStreamBytes: number, budgetBytes: number): Promise<{ send (n: number): Promise<void>, remote: Duplex, written: () => number, budget: MemoryBudget, memory: RelayMemory, paused: () => boolean, reason: () => unknown, release (): void }> {
  const [relaySide, clientSide] = joined()
  const client = new Protocol(clientSide)
  const relayProtocol = new Protocol(relaySide)
  const budget = new MemoryBudget(budgetBytes)
  const memory = new RelayMemory(budget, maxStreamBytes, 64 * MiB)
  let isPaused = false
  const proxy = new NodeProxy(null, relayProtocol, null, { flow: memory.flow({ pause: () => { isPaused = true }, resume: () => { isPaused = false } }) })
  // the relayed stream: its remote end takes nothing until released
  const waiting: Array<() => void> = []
  let written = 0
  let reason: unknown = null
  const remote = new Duplex({ write (data: unknown, cb: (err: Error | null) => void) { written += (data as Uint8Array).byteLength; waiting.push(() => { cb(null) }) } })
  remote.on('error', (err: unknown) => { reason = err })
  proxy._connections.set(ALIAS, remote)
  await tick()
  return {
    async send (n) {
      for (let i = 0; i < n; i++) client.data.send({ alias: ALIAS, data: [new Uint8Array(CHUNK)] })
      await tick()
    },
    remote,
    written: () => written,
    budget,
    memory,
    paused: () => isPaused,
    reason: () => reason,
    release () { for (const done of waiting.splice(0)) done() }
  }
}

describe('what a relay client sends into a relayed stream that does not drain', () => {
  it('pauses the client past the high-water mark, holds it against the budget, and resumes on drain', async () => {
    const s = await setup(32 * MiB, 256 * MiB)
    await s.send(STREAM_HIGH_WATER_BYTES / CHUNK - 2)
    expect(s.paused()).toBe(false)
    await s.send(4)
    expect(s.paused()).toBe(true)
    const held = s.memory.stats().held.toDht
    expect(held).toBeGreaterThanOrEqual(STREAM_HIGH_WATER_BYTES)
    expect(s.budget.used).toBe(held)
    // the remote end takes what it was given: the queue drains, the client reads again and
    // the budget gets its bytes back
    for (let i = 0; i < 100 && s.paused(); i++) { s.release(); await tick() }
    expect(s.paused()).toBe(false)
    expect(s.budget.used).toBe(0)
    expect(s.written()).toBe((STREAM_HIGH_WATER_BYTES / CHUNK + 2) * CHUNK)
  })

  it('destroys the stream with RELAY_BACKLOG_EXCEEDED past its bound, and gives its bytes back', async () => {
    const s = await setup(2 * MiB, 256 * MiB)
    await s.send(2 * MiB / CHUNK + 1)
    expect(s.remote.destroyed).toBe(true)
    expect(s.reason()).toBeInstanceOf(ShadwError)
    expect((s.reason() as ShadwError).code).toBe('RELAY_BACKLOG_EXCEEDED')
    expect(s.memory.stats().overflowed).toBe(1)
    expect(s.budget.used).toBe(0)
    expect(s.paused()).toBe(false)
  })

  it('destroys the stream with MEMORY_BUDGET_EXCEEDED when the node budget cannot hold it', async () => {
    const s = await setup(32 * MiB, 1 * MiB)
    await s.send(1 * MiB / CHUNK + 1)
    expect(s.remote.destroyed).toBe(true)
    expect((s.reason() as ShadwError).code).toBe('MEMORY_BUDGET_EXCEEDED')
    expect(s.budget.used).toBe(0)
  })
})

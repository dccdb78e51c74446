/**
 * Erasure benchmark, repair: one holder of a 4+2 pin is stopped; the time from the loss being
 * detected (the first survivor's `lost` event, one grace after the holder went silent) to
 * the repaired placement being adopted (the repairer's signed record, taken up by every
 * survivor), and the bytes that crossed the wire meanwhile. Both as ratios to a same-run
 * baseline: a fresh node copying the lost slot's bytes (one surviving holder's shard log of
 * the same size) by plain Hypercore replication. The bytes are also given over the lost
 * shard's own bytes: a Reed-Solomon repair reads K shards to rebuild one, so K + 1 (K in,
 * one out to the new holder) is the floor for a repairer that is not itself a holder.
 *
 * Parts, all real and on loopback, in this process: a HyperDHT testnet; storing nodes as
 * `shadw start` assembles their shard holders (Corestores in memory, a short grace); an
 * uploader. Wire bytes are every storing node's UDX streams' transmitted bytes over the
 * window (protocol chatter included: it is part of what a repair costs).
 */
import b4a from 'b4a'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import crypto from 'hypercore-crypto'
import createTestnet from 'hyperdht/testnet'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import type { SwarmConnection } from 'hyperswarm'
import { nodeIdentity, ShadwNode } from '../src/core/node/index.ts'
import { pinErasure, shardLength, ShardHolder, stripeCount, type RepairEvent } from '../src/core/pinning/index.ts'
import { reedSolomon } from '../src/super-node/reed-solomon-node.ts'

/** 4+2 placed, two spare nodes to repair onto. */
const NODES = 8
const SCHEME = { k: 4, m: 2 }
/** Silence after which a holder's slot is lost: short, so the bench does not wait minutes. */
const GRACE_MS = 2_000
/** Bound on the loss being detected and on the repair. */
const REPAIR_TIMEOUT_MS = 300_000
const SHARD_BYTES = 64 * 1024

/** What the repair part measured. */
export interface RepairBenchResult {
  scheme: string
  pinBytes: number
  /** bytes of the lost slot: its shard of every stripe */
  shardSlotBytes: number
  detectToRepairedMs: number
  detectToAdoptedMs: number
  repairWireBytes: number
  copyMs: number
  copyWireBytes: number
  /** repair time over the raw copy's time */
  repairOverCopyTime: number
  /** repair wire bytes over the raw copy's wire bytes */
  repairOverCopyBytes: number
  /** repair wire bytes over the lost slot's bytes (K + 1 is the floor) */
  repairBytesOverShard: number
}

const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d

interface Storing { node: ShadwNode, shards: ShardHolder | null, events: Array<RepairEvent & { at: number }>, stop (): Promise<void> }

async function storing (bootstrap: Array<{ host: string, port: number }>, holds: boolean): Promise<Storing> {
  const store = new Corestore(RAM.reusable())
  await store.ready()
  const keyPair = await nodeIdentity(store)
  const dht = new HyperDHT({ bootstrap, host: '127.0.0.1' })
  const node = new ShadwNode({ swarm: new Hyperswarm({ dht, keyPair }), store, tier: 'storm' })
  await node.start()
  const events: Storing['events'] = []
  const shards = holds ? new ShardHolder({ node, keyPair, budget: 1024 * 1024 * 1024, rs: async () => reedSolomon(), graceMs: GRACE_MS, onrepair: e => { events.push({ ...e, at: performance.now() }) } }) : null
  if (shards !== null) {
    shards.start()
    await shards.announced()
  }
  let stopped: Promise<void> | null = null
  return { node, shards, events, stop: () => (stopped ??= (async () => { shards?.stop(); await node.stop(); await dht.destroy() })()) }
}

/** Bytes every live connection of `nodes` has transmitted so far, per connection. */
function wire (nodes: Storing[]): Map<SwarmConnection, number> {
  const out = new Map<SwarmConnection, number>()
  for (const n of nodes) {
    for (const [c] of n.node.connections()) {
      const raw = (c as unknown as { rawStream?: { bytesTransmitted?: number } }).rawStream
      out.set(c, raw?.bytesTransmitted ?? 0)
    }
  }
  return out
}

/** Bytes transmitted since `before` (connections opened since count from 0). */
function since (nodes: Storing[], before: Map<SwarmConnection, number>): number {
  let sum = 0
  for (const [c, n] of wire(nodes)) sum += n - (before.get(c) ?? 0)
  return sum
}

async function until<T> (what: string, fn: () => T | undefined, ms = REPAIR_TIMEOUT_MS): Promise<T> {
  const end = performance.now() + ms
  for (let i = 0; performance.now() < end; i++) {
    const v = fn()
    if (v !== undefined) return v
    await new Promise(resolve => setTimeout(resolve, 20))
  }
  throw new Error(`not within ${ms} ms: ${what}`)
}

/** Runs the repair part: pin `bytes` at 4+2, copy one slot raw (the baseline), stop one holder, time and count its repair. */
export async function runRepairBench (o: { bytes: number }): Promise<RepairBenchResult> {
  const net = await createTestnet(3, { host: '127.0.0.1' })
  const nodes: Storing[] = []
  try {
    for (let i = 0; i < NODES; i++) nodes.push(await storing(net.bootstrap, true))
    const up = await storing(net.bootstrap, false)
    nodes.push(up)
    const store = new Corestore(RAM.reusable())
    await store.ready()
    const keyPair = await nodeIdentity(store)
    await store.close()
    const placement = await pinErasure({ node: up.node, rs: reedSolomon(), keyPair, drive: b4a.toString(crypto.randomBytes(32), 'hex'), version: 1, bytes: crypto.randomBytes(o.bytes), scheme: SCHEME, shardBytes: SHARD_BYTES, discoverMs: 30_000, timeoutMs: REPAIR_TIMEOUT_MS })
    const root = placement.pin.root
    const byKey = (k: string): Storing => nodes.find(n => n.node.publicKey === k)!
    const [lostHold, keptHold] = [placement.holds[0]!, placement.holds[1]!]
    const lost = byKey(lostHold.holder)
    const kept = byKey(keptHold.holder)
    let shardSlotBytes = 0
    for (let s = 0; s < stripeCount(placement.pin.layout); s++) shardSlotBytes += shardLength(placement.pin.layout, s)
    await up.stop()

    // the baseline: a fresh node copies a surviving slot (the same bytes as the lost one) by plain replication
    const copier = await storing(net.bootstrap, false)
    nodes.push(copier)
    const logKey = kept.shards!.logOf(root, keptHold.shard)!
    const before = wire(nodes)
    const t0 = performance.now()
    await copier.node.follow(logKey)
    const length = placement.pin.stripes.length
    await copier.node.waitForLength(logKey, length, REPAIR_TIMEOUT_MS)
    await copier.node.download(logKey, { start: 0, end: length })
    const copyMs = performance.now() - t0
    const copyWireBytes = since(nodes, before)
    if (copier.node.logInfo(logKey).byteLength !== shardSlotBytes) throw new Error(`copied ${copier.node.logInfo(logKey).byteLength} bytes of a ${shardSlotBytes}-byte slot`)
    await copier.stop()

    // the loss: detected one grace after the holder stops; repaired onto a spare; adopted by every survivor
    const survivors = nodes.filter(n => n.shards !== null && n !== lost)
    await lost.stop()
    const detected = await until('the loss to be detected', () => survivors.flatMap(n => n.events).filter(e => e.type === 'lost' && e.root === root && e.shard === lostHold.shard).map(e => e.at).sort((a, b) => a - b)[0])
    const atDetection = wire(survivors)
    const repaired = await until('the slot to be repaired', () => survivors.flatMap(n => n.events).find(e => e.type === 'repaired' && e.record.shard === lostHold.shard && e.record.root === root))
    // the pin's surviving holders: the repairer signed the record, each other one adopts it
    const placed = survivors.filter(n => placement.holds.some(h => h.holder === n.node.publicKey))
    const adopted = await until('every surviving holder to adopt the repair', () => {
      const times = placed.map(n => n.events.find(e => (e.type === 'adopted' || e.type === 'repaired') && e.record.shard === lostHold.shard && e.record.root === root)?.at)
      return times.every(t => t !== undefined) ? Math.max(...times as number[]) : undefined
    })
    const repairWireBytes = since(survivors, atDetection)
    const result: RepairBenchResult = {
      scheme: `${SCHEME.k}+${SCHEME.m}`,
      pinBytes: o.bytes,
      shardSlotBytes,
      detectToRepairedMs: Math.round(repaired.at - detected),
      detectToAdoptedMs: Math.round(adopted - detected),
      repairWireBytes,
      copyMs: Math.round(copyMs),
      copyWireBytes,
      repairOverCopyTime: round((adopted - detected) / copyMs),
      repairOverCopyBytes: round(repairWireBytes / copyWireBytes),
      repairBytesOverShard: round(repairWireBytes / shardSlotBytes)
    }
    console.log(`  repair one ${result.scheme} holder: ${(result.detectToAdoptedMs / 1000).toFixed(2)} s from detection to adopted (${result.repairOverCopyTime}× a raw copy of the slot), ${result.repairWireBytes} bytes on the wire (${result.repairOverCopyBytes}× the copy's, ${result.repairBytesOverShard}× the slot's bytes)`)
    return result
  } finally {
    for (const n of nodes) await n.stop().catch(() => {})
    await net.destroy()
  }
}

/**
 * Drill: the network between two nodes is cut (every socket between them destroyed) three
 * times while one replicates a growing log from the other. Checks: each cut drops the
 * connection; the writer keeps appending; the nodes reconnect on their own (Hyperswarm's
 * retry); the reader ends with every block, each verified by Hypercore and as written.
 *
 *   node --import tsx test/drills/network-cut.ts
 */
import b4a from 'b4a'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import createTestnet from 'hyperdht/testnet'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { ShadwNode } from '../../src/core/node/shadw-node.ts'
import { Drill, eventually, within } from './drill.ts'

/** Cuts made during the drill. */
const CUTS = 3
/** Blocks appended between cuts. */
const PER_ROUND = 500
/** Bound on reconnecting after a cut (Hyperswarm retries with backoff). */
const RECONNECT_MS = 60_000
/** Bound on replication steps. */
const STEP_MS = 60_000

const drill = new Drill('network cut between two nodes during replication')
const net = await createTestnet(3, { host: '127.0.0.1' })
const nodes: Array<{ node: ShadwNode, swarm: Hyperswarm, dht: HyperDHT }> = []
async function node (tier: 'super' | 'storm'): Promise<{ node: ShadwNode, swarm: Hyperswarm, dht: HyperDHT }> {
  const dht = new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1' })
  const swarm = new Hyperswarm({ dht })
  const n = { node: new ShadwNode({ swarm, store: new Corestore(RAM.reusable()), tier }), swarm, dht }
  await n.node.start()
  nodes.push(n)
  return n
}
const block = (i: number): Uint8Array => b4a.from(`record ${i} `.padEnd(256, '.'))

let code = 1
try {
  const writer = await node('super')
  const reader = await node('storm')
  const log = await writer.node.createLog('cut')
  let length = await writer.node.append(log.key, Array.from({ length: PER_ROUND }, (_, i) => block(i)))
  await reader.node.follow(log.key)
  await within(reader.node.waitForLength(log.key, length, STEP_MS), STEP_MS, 'first length')
  drill.check('the reader replicates before any cut', (await within(reader.node.download(log.key, { start: 0, end: length }, { timeout: STEP_MS }), STEP_MS, 'download')).blocks === length)

  for (let cut = 1; cut <= CUTS; cut++) {
    const sockets = [...reader.swarm.connections]
    for (const conn of sockets) conn.destroy()
    drill.check(`cut ${cut}: every connection of the reader is dropped`, await eventually(() => sockets.every(c => !reader.swarm.connections.has(c)), 5_000), `${sockets.length} connection(s) destroyed`)
    length = await writer.node.append(log.key, Array.from({ length: PER_ROUND }, (_, i) => block(length + i)))
    drill.check(`cut ${cut}: the writer keeps appending`, length === PER_ROUND * (cut + 1))
    const back = await eventually(() => reader.swarm.connections.size > 0, RECONNECT_MS)
    drill.check(`cut ${cut}: the nodes reconnect on their own`, back)
    const seen = await within(reader.node.waitForLength(log.key, length, STEP_MS), STEP_MS, 'length').catch(() => 0)
    const got = await within(reader.node.download(log.key, { start: 0, end: length }, { timeout: STEP_MS }), STEP_MS, 'download').catch(() => null)
    drill.check(`cut ${cut}: the reader catches up`, seen === length && got?.blocks === length, `length ${seen} of ${length}`)
  }
  let same = 0
  for (let i = 0; i < length; i++) if (b4a.equals(await reader.node.get(log.key, i, { timeout: 5_000 }) ?? new Uint8Array(0), block(i))) same++
  drill.check('every block reads back exactly as written', same === length, `${same}/${length}`)
  code = drill.finish()
} catch (err) {
  drill.check('drill ran to the end', false, (err as Error).message)
  code = drill.finish()
} finally {
  for (const n of nodes) { await within(n.node.stop(), 10_000, 'stop').catch(() => {}); await n.dht.destroy().catch(() => {}) }
  await net.destroy()
}
process.exit(code)

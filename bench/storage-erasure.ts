/**
 * Erasure benchmark, pinning: one drive pinned erasure-coded at 4+2 and at 10+5, each as a
 * ratio to pinning the same drive by replication to 3 holders in the same run, and the
 * stored bytes over the logical bytes of each.
 *
 * Parts, all real and on loopback, in this process: a HyperDHT testnet; 16 storing nodes as
 * `shadw start` assembles them (a replica holder and a shard holder sharing one disk
 * budget, Corestores in memory); an uploader with the drive. Pinning times run from the
 * call to the last signed confirmation (replication: `pinDrive`, the holders fetch and
 * check every block; erasure: `pinDriveErasure` as `shadw drive pin --erasure` calls it:
 * read the version, code it, send every shard, every holder signs its hold). Stored bytes
 * are what the holders' budgets grew by; logical bytes are the drive's logs' bytes.
 */
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import createTestnet from 'hyperdht/testnet'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { Drive } from '../src/core/drive/index.ts'
import { nodeIdentity, ShadwNode } from '../src/core/node/index.ts'
import { describeLogs, DiskBudget, Holder, pinDrive, ShardHolder, type ErasureScheme } from '../src/core/pinning/index.ts'
import { pinDriveErasure } from '../src/cli/drive-erasure.ts'
import { reedSolomon } from '../src/super-node/reed-solomon-node.ts'

const HOLDERS = 16
/** Bound on each pin. */
const PIN_TIMEOUT_MS = 600_000

/** One pinning of the drive: wall time, throughput and expansion. */
export interface PinFigure { ms: number, MBps: number, storedOverLogical: number }
/** What the pinning part measured. */
export interface PinBenchResult { driveBytes: number, logicalBytes: number, replication3: PinFigure[], erasure: Record<string, PinFigure & { overReplication3: number }> }

const round = (x: number, d = 3): number => Math.round(x * 10 ** d) / 10 ** d

interface Storing { node: ShadwNode, budget: DiskBudget, stop (): Promise<void> }

async function storing (bootstrap: Array<{ host: string, port: number }>): Promise<Storing> {
  const store = new Corestore(RAM.reusable())
  await store.ready()
  const keyPair = await nodeIdentity(store)
  const dht = new HyperDHT({ bootstrap, host: '127.0.0.1' })
  const node = new ShadwNode({ swarm: new Hyperswarm({ dht, keyPair }), store, tier: 'storm' })
  await node.start()
  const budget = new DiskBudget(4 * 1024 * 1024 * 1024)
  const holder = new Holder({ node, keyPair, budget })
  const shards = new ShardHolder({ node, keyPair, budget, rs: async () => reedSolomon() })
  await holder.start()
  shards.start()
  await Promise.all([holder.announced(), shards.announced()])
  return { node, budget, stop: async () => { shards.stop(); holder.stop(); await node.stop(); await dht.destroy() } }
}

/**
 * Runs the pinning part: replication-3, 4+2, 10+5, replication-3 again (a second drive of
 * the same bytes, so the holders fetch afresh), so drift on a shared machine falls on both;
 * the ratio takes the better replication run.
 */
export async function runPinBench (o: { bytes: number, file: () => AsyncIterable<Uint8Array> }): Promise<PinBenchResult> {
  const net = await createTestnet(3, { host: '127.0.0.1' })
  const nodes: Storing[] = []
  const rs = reedSolomon()
  try {
    for (let i = 0; i < HOLDERS; i++) nodes.push(await storing(net.bootstrap))
    const store = new Corestore(RAM.reusable())
    await store.ready()
    const keyPair = await nodeIdentity(store)
    const dht = new HyperDHT({ bootstrap: net.bootstrap, host: '127.0.0.1' })
    const up = new ShadwNode({ swarm: new Hyperswarm({ dht, keyPair }), store, tier: 'light' })
    await up.start()
    const used = (): number => nodes.reduce((s, n) => s + n.budget.used, 0)
    const timed = async (what: string, logical: number, fn: () => Promise<unknown>): Promise<PinFigure> => {
      const before = used()
      const t = performance.now()
      await fn()
      const ms = performance.now() - t
      const f = { ms: Math.round(ms), MBps: round(logical / 1e6 / (ms / 1000), 1), storedOverLogical: round((used() - before) / logical) }
      console.log(`  pin ${what.padEnd(16)} ${(ms / 1000).toFixed(2).padStart(7)} s  ${f.MBps.toString().padStart(6)} MB/s  stored/logical ${f.storedOverLogical}`)
      return f
    }
    const newDrive = async (): Promise<{ key: string, logs: Awaited<ReturnType<typeof describeLogs>>, cores: Array<import('hypercore').default> }> => {
      const { drive } = await Drive.create(up)
      await drive.put('/bench.bin', o.file())
      const session = up.storeSession()
      const cores = (await drive.logs()).map(l => session.get({ key: Buffer.from(l.key, 'hex') }))
      const logs = await describeLogs(cores)
      for (const l of logs) await up.follow(l.key)
      return { key: drive.key, logs, cores }
    }
    const replicate = async (): Promise<PinFigure> => {
      const d = await newDrive()
      const logical = d.logs.reduce((s, l) => s + l.byteLength, 0)
      return await timed('replication-3', logical, async () => await pinDrive({ node: up, request: { drive: d.key, logs: d.logs, replicas: 3 }, keyPair, timeoutMs: PIN_TIMEOUT_MS }))
    }
    const replication3: PinFigure[] = [await replicate()]
    const d = await newDrive()
    const logicalBytes = d.logs.reduce((s, l) => s + l.byteLength, 0)
    const erasure: PinBenchResult['erasure'] = {}
    for (const scheme of [{ k: 4, m: 2 }, { k: 10, m: 5 }] as ErasureScheme[]) {
      const f = await timed(`erasure ${scheme.k}+${scheme.m}`, logicalBytes, async () => await pinDriveErasure({ node: up, rs, keyPair, drive: d.key, logs: d.cores, scheme, timeoutMs: PIN_TIMEOUT_MS }))
      erasure[`${scheme.k}+${scheme.m}`] = { ...f, overReplication3: 0 }
    }
    replication3.push(await replicate())
    const bestRep = Math.min(...replication3.map(r => r.ms))
    for (const e of Object.values(erasure)) e.overReplication3 = round(bestRep / e.ms)
    console.log(`  pin throughput / replication-3: ${Object.entries(erasure).map(([k, e]) => `${k} ${e.overReplication3}×`).join('   ')}`)
    await up.stop()
    await dht.destroy()
    return { driveBytes: o.bytes, logicalBytes, replication3, erasure }
  } finally {
    for (const n of nodes) await n.stop().catch(() => {})
    await net.destroy()
  }
}

/**
 * Storage benchmark, re-pin: the time from a holder's death to the replacement holder's
 * signed confirmation. Five holders on a super node's DHT (in this process, Corestores on
 * disk, a short grace period so the run stays short), a drive of one file pinned on three
 * of them, the uploader gone; one of the three is stopped, and the clock runs until one of
 * the two spares confirms it holds the drive (fetched from the two holders left, every block
 * checked against the signed tree). What it measures: the grace period (silence before the
 * others call a holder gone, plus up to one heartbeat), then placement, fetch and
 * confirmation; the second part is reported apart as `afterGraceMs`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import { Drive } from '../src/core/drive/index.ts'
import { nodeIdentity, ShadwNode } from '../src/core/node/index.ts'
import { describeLogs, Holder, pinDrive } from '../src/core/pinning/index.ts'
import { parseBootstrap, SuperNode } from '../src/super-node/super-node.ts'

/** Silence after which the holders re-pin: short for a bench (the default is ten minutes). */
const GRACE_MS = 2_000
const HOLDERS = 5
const REPLICAS = 3
/** Bound on waiting for the holders to know each other and for the re-pin. */
const WAIT_MS = 300_000
const POLL_MS = 20

/** What the re-pin part measured. */
export interface RepinResult { driveBytes: number, graceMs: number, repinMs: number, afterGraceMs: number }

interface BenchHolder { node: ShadwNode, holder: Holder, stop (): Promise<void> }

async function holderAt (bootstrap: string[], dir: string): Promise<BenchHolder> {
  const store = new Corestore(dir)
  await store.ready()
  const keyPair = await nodeIdentity(store)
  const dht = new HyperDHT({ bootstrap: parseBootstrap(bootstrap), host: '127.0.0.1' })
  const node = new ShadwNode({ swarm: new Hyperswarm({ dht, keyPair }), store, tier: 'storm' })
  await node.start()
  const holder = new Holder({ node, keyPair, budget: 4 * 1024 * 1024 * 1024, graceMs: GRACE_MS })
  await holder.announced()
  let stopping: Promise<void> | null = null
  return { node, holder, stop: () => { stopping ??= (async () => { holder.stop(); await node.stop(); await dht.destroy() })(); return stopping } }
}

async function until (what: string, done: () => boolean): Promise<void> {
  for (let i = 0; i < WAIT_MS / POLL_MS; i++) {
    if (done()) return
    await new Promise(resolve => setTimeout(resolve, POLL_MS))
  }
  throw new Error(`timed out waiting for ${what}`)
}

/** Runs the re-pin part on its own super node; returns its figures. */
export async function runRepinBench (o: { bytes: number, file: () => AsyncIterable<Uint8Array> }): Promise<RepinResult> {
  const tmp = await mkdtemp(join(tmpdir(), 'shadw-bench-repin-'))
  const superNode = await SuperNode.start({ storage: join(tmp, 'super'), appRoot: tmp, port: 0, workers: 0, diskBudget: 0 })
  const holders: BenchHolder[] = []
  try {
    const bootstrap = superNode.info.bootstrap
    for (let i = 0; i < HOLDERS; i++) holders.push(await holderAt(bootstrap, join(tmp, `h${i}`)))
    const dht = new HyperDHT({ bootstrap: parseBootstrap(bootstrap), host: '127.0.0.1' })
    const up = new ShadwNode({ swarm: new Hyperswarm({ dht }), store: new Corestore(join(tmp, 'up')), tier: 'light' })
    await up.start()
    const { drive } = await Drive.create(up)
    await drive.put('/part.bin', o.file())
    const store = up.storeSession()
    const logs = await describeLogs((await drive.logs()).map(l => store.get({ key: Buffer.from(l.key, 'hex') })))
    for (const l of logs) await up.follow(l.key)
    const confs = await pinDrive({ node: up, request: { drive: drive.key, logs, replicas: REPLICAS }, timeoutMs: WAIT_MS })
    await store.close()
    await drive.close()
    await up.stop()
    await dht.destroy()

    const first = holders.filter(h => confs.some(c => c.holder === h.node.publicKey))
    const spares = holders.filter(h => !first.includes(h))
    // every holder of the drive has heard of the other two before one dies
    await until('the holders to know each other', () => first.every(h => h.holder.status().drives.some(d => d.drive === drive.key && d.holders === REPLICAS)))
    const gone = first[first.length - 1]!
    const started = performance.now()
    await gone.stop()
    await until('a spare to confirm the re-pinned replica', () => spares.some(h => h.holder.status().drives.some(d => d.drive === drive.key && d.held)))
    const repinMs = performance.now() - started
    console.log(`  re-pin of one lost holder's replica  ${(repinMs / 1000).toFixed(2).padStart(7)} s  (grace ${GRACE_MS / 1000} s, ${o.bytes / 2 ** 20} MiB)`)
    return { driveBytes: o.bytes, graceMs: GRACE_MS, repinMs: Math.round(repinMs), afterGraceMs: Math.round(repinMs - GRACE_MS) }
  } finally {
    for (const h of holders) await h.stop().catch(() => {})
    await superNode.stop()
    await rm(tmp, { recursive: true, force: true })
  }
}

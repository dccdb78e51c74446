/**
 * Routing to the data: one call over a 64 MiB file mounted from a drive (the C
 * file-reading kernel, fs-read-kernel.c, reads it whole), timed at the tenant on the executor
 * that holds the drive (its holder pinned it) and on executors that do not (each fresh, so it
 * fetches the drive over the swarm during the call), in the same run; printed as a ratio and
 * written to bench/results/mount-routing.json. All nodes run in this process on a loopback
 * testnet: the fetch crosses UDX on 127.0.0.1, the best case for a non-holder.
 */
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, platform, release } from 'node:os'
import b4a from 'b4a'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import createTestnet from 'hyperdht/testnet'
import crypto from 'hypercore-crypto'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { ShadwNode } from '../src/core/node/shadw-node.ts'
import { InvokeEndpoint, InvokeService } from '../src/core/invoke/index.ts'
import { describeLogs, Holder, holdersTopic } from '../src/core/pinning/index.ts'
import { createPublisherKeyPair, FunctionLoader, Registry } from '../src/core/registry/index.ts'
import type { Executor } from '../src/core/sandbox/index.ts'
import { createNodeExecutor } from '../src/super-node/executor/index.ts'
import { cWasm } from '../test/fixtures/wasm/fixtures.ts'

/** The mounted file: the size the storage issue names. */
const FILE_BYTES = 64 * 1024 * 1024
/** Calls timed on the holder (warm: its function cache and its data local). */
const HOLDER_RUNS = 5
/** Fresh non-holders, one call each: a second call on one would find the data local. */
const NON_HOLDER_RUNS = 3
/** Bound on one call and on every wait for the swarm. */
const CALL_MS = 120_000
const RESULTS = new URL('./results/mount-routing.json', import.meta.url)

// hyperdrive ships no types; the bench writes one file and reads its two logs
interface Hyperdrive { key: Uint8Array, version: number, core: import('hypercore').default, ready (): Promise<void>, put (path: string, data: Uint8Array): Promise<void>, getBlobs (): Promise<{ core: import('hypercore').default }>, close (): Promise<void> }
const HYPERDRIVE = 'hyperdrive'

type Bootstrap = Array<{ host: string, port: number }>
interface BenchNode { node: ShadwNode, store: Corestore, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }, close (): Promise<void> }

async function node (bootstrap: Bootstrap, tier: 'super' | 'storm' | 'light'): Promise<BenchNode> {
  const keyPair = crypto.keyPair()
  // reachable on loopback: a node left to guess calls itself firewalled (see bench/invocation.ts)
  const dht = new HyperDHT({ bootstrap, host: '127.0.0.1', firewalled: false })
  const store = new Corestore(RAM.reusable())
  const n = new ShadwNode({ swarm: new Hyperswarm({ dht, keyPair }), store, tier })
  await n.start()
  return { node: n, store, keyPair, close: async () => { await n.stop(); await dht.destroy() } }
}

/** An executing node: service (drives mounted through its node) and endpoint. */
async function executorOn (n: BenchNode, executor: Executor): Promise<{ endpoint: InvokeEndpoint, close (): Promise<void> }> {
  const ledger = await n.node.createLog('ledger')
  const loader = new FunctionLoader({ host: n.node })
  const service = new InvokeService({ executor, functions: loader, keyPair: n.keyPair, slots: 2, drives: n.node, ledger: { key: b4a.from(ledger.key, 'hex'), append: async (blocks) => await n.node.append(ledger.key, blocks) } })
  const endpoint = new InvokeEndpoint({ host: n.node, tier: 'super', service })
  endpoint.start()
  return { endpoint, close: async () => { endpoint.stop(); await service.close(); await loader.close() } }
}

async function until (what: string, fn: () => boolean): Promise<void> {
  const end = Date.now() + CALL_MS
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

const median = (xs: number[]): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)] ?? NaN }
const round = (x: number, d = 1): number => Math.round(x * 10 ** d) / 10 ** d

export async function runMountRoutingBench (): Promise<void> {
  const net = await createTestnet(3, { host: '127.0.0.1' })
  const executor = createNodeExecutor({ size: 1 })
  const closers: Array<() => Promise<void>> = []
  try {
    const { default: Hyperdrive } = await import(HYPERDRIVE) as { default: new (store: Corestore) => Hyperdrive }
    const owner = await node(net.bootstrap, 'storm')
    closers.push(owner.close)
    const hd = new Hyperdrive(owner.store)
    await hd.ready()
    const data = new Uint8Array(FILE_BYTES)
    for (let i = 0; i < data.length; i++) data[i] = (i * 2654435761 >>> 24) & 0xff
    await hd.put('/blob', data)
    const logs = await describeLogs([hd.core, (await hd.getBlobs()).core])
    const drive = b4a.toString(hd.key, 'hex')
    const mounts = [{ drive, version: hd.version, path: '/data' }]

    const pub = await node(net.bootstrap, 'super')
    closers.push(pub.close)
    const registry = await Registry.create(pub.store, createPublisherKeyPair())
    closers.push(async () => { await registry.close() })
    await registry.publish(cWasm('fs-read-kernel'), { name: 'read-kernel', version: '1.0.0' })
    const ref = `${registry.key}/read-kernel@1.0.0`

    // the holder pins the drive whole before any call
    const holderNode = await node(net.bootstrap, 'super')
    closers.push(holderNode.close)
    const holder = new Holder({ node: holderNode.node, keyPair: holderNode.keyPair, budget: 4 * FILE_BYTES })
    closers.push(async () => { holder.stop() })
    await holder.announced()
    await owner.node.joinTopic(holdersTopic(), { server: false, client: true })
    await until('the owner to meet the holder', () => owner.node.connections().some(([, p]) => p.publicKey === holderNode.node.publicKey))
    console.log('  the holder fetches the drive')
    await holder.pin({ drive, logs, replicas: 1 })
    const holding = await executorOn(holderNode, executor)
    closers.push(holding.close)
    holding.endpoint.setHoldings(() => holder.holdings())

    const tenant = await node(net.bootstrap, 'light')
    closers.push(tenant.close)
    const caller = new InvokeEndpoint({ host: tenant.node, tier: 'light' })
    caller.start()
    closers.push(async () => { caller.stop() })
    const call = async (expect: string): Promise<number> => {
      const t = performance.now()
      const r = await caller.invoke(ref, new Uint8Array(0), { deadline: CALL_MS, mounts })
      const ms = performance.now() - t
      if (r.receipts[0]?.executor !== expect) throw new Error(`the call ran on ${r.receipts[0]?.executor ?? 'nobody'}, not ${expect}`)
      if (b4a.toString(r.output) !== `${FILE_BYTES} ${kernel(data)}\n`) throw new Error(`unexpected output ${b4a.toString(r.output).slice(0, 80)}`)
      return ms
    }

    console.log('  calls on the holder')
    await until('the holder\'s advert', () => caller.peers().some(p => p.capacity?.holdings?.some(h => h.drive === drive) === true))
    await call(holderNode.node.publicKey) // warm: the function loaded, the worker started
    const onHolder: number[] = []
    for (let i = 0; i < HOLDER_RUNS; i++) onHolder.push(await call(holderNode.node.publicKey))

    // the holder stops executing (its node stays, serving the drive's blocks with the owner);
    // each non-holder is fresh: its first call fetches the drive
    await holding.close()
    console.log('  calls on fresh non-holders')
    const onOther: number[] = []
    for (let i = 0; i < NON_HOLDER_RUNS; i++) {
      const n = await node(net.bootstrap, 'super')
      try {
        const ex = await executorOn(n, executor)
        try {
          await until('a fresh executor', () => caller.peers().some(p => p.key === n.node.publicKey && (p.capacity?.total ?? 0) > 0))
          // load the function first (a call without the mount fails in the program, not in the lookup)
          await caller.invoke(ref, new Uint8Array(0), { deadline: CALL_MS }).catch(() => {})
          onOther.push(await call(n.node.publicKey))
        } finally {
          await ex.close()
        }
      } finally {
        await n.close()
      }
    }
    await hd.close()

    const holderMs = median(onHolder)
    const otherMs = median(onOther)
    const result = {
      date: new Date().toISOString(),
      machine: { cores: cpus().length, cpu: cpus()[0]?.model, platform: `${platform()} ${release()}`, node: process.version },
      setup: { fileBytes: FILE_BYTES, function: 'fs-read-kernel.c: one pass over the mounted file in 64 KiB reads', transport: 'UDX on 127.0.0.1, every node in one process', holderRuns: HOLDER_RUNS, nonHolderRuns: NON_HOLDER_RUNS },
      holderMs: round(holderMs),
      nonHolderMs: round(otherMs),
      nonHolderOverHolder: round(otherMs / holderMs, 2),
      holderRunsMs: onHolder.map(x => round(x)),
      nonHolderRunsMs: onOther.map(x => round(x))
    }
    console.log(`a call over a ${FILE_BYTES / 1024 / 1024} MiB mounted file (median):`)
    console.log(`  on the holder         ${result.holderMs.toFixed(1).padStart(9)} ms  (${result.holderRunsMs.join(', ')})`)
    console.log(`  on a non-holder       ${result.nonHolderMs.toFixed(1).padStart(9)} ms  (${result.nonHolderRunsMs.join(', ')})`)
    console.log(`  ratio non-holder / holder  ${result.nonHolderOverHolder}×`)
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
    writeFileSync(RESULTS, JSON.stringify(result, null, 2) + '\n')
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {})
    await executor.close()
    await net.destroy()
  }
}

/** fs-read-kernel's checksum of one pass: FNV-1a over every 64th byte of each 64 KiB read. */
function kernel (data: Uint8Array): number {
  let h = 2166136261
  for (let off = 0; off < data.length; off += 65536) {
    const n = Math.min(65536, data.length - off)
    for (let i = 0; i < n; i += 64) h = Math.imul(h ^ (data[off + i] as number), 16777619) >>> 0
  }
  return h
}

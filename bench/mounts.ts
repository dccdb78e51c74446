/**
 * Drive mounts benchmark, two ratios measured in one run, printed and written to
 * bench/results/mounts.json. Everything real and on loopback: a local HyperDHT testnet, two
 * nodes with in-memory Corestores in this process, the Node executor (worker_threads) and
 * the executor's mount path (CallMounts: the tree fetched before the call, file bytes fetched
 * by the worker on demand through shared memory).
 *
 * - kernel: fs-read-kernel.c (read a file in 64 KiB chunks, FNV-1a over every 64th byte)
 *   compiled natively with clang -O2 and run as a process over a host file, against its
 *   wasm32-wasi build in the sandbox over the same bytes as a file of a mounted drive the
 *   executor's node holds. Without clang the native side is the same loop in Node (the JSON
 *   says which). The sandbox side is the whole call: the mount's tree, the run, the bytes
 *   through the channel; `cold` is the first call (pages read from the node's Hypercore
 *   storage), `warm` the median of the next (pages from the executor's mount cache). The
 *   native side includes starting its process (~1 ms), the sandbox side includes handing the
 *   call to a worker.
 * - cold block: a reader node connected to the drive's holder reads 4 KiB of a block it has
 *   never fetched, through a mount (the tree's entries, opening the file, the worker's fetch:
 *   the whole call of fs-pread.c), against a raw Hypercore request of another unfetched block
 *   of the same blob log (`core.get` on a session of the reader's store), interleaved, each trial on blocks not fetched before.
 * - small blocks: the same file written in 4 KiB blocks (`drive put --block-size 4KiB`): the
 *   bytes a 4 KiB read through a mount fetches, against the same read of the 64 KiB-block
 *   file, and what the small blocks cost at replication: a fresh node downloading each whole
 *   file (`Drive.download`), timed.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, platform, release, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import b4a from 'b4a'
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import createTestnet from 'hyperdht/testnet'
import Hyperswarm from 'hyperswarm'
import RAM from 'random-access-memory'
import { Drive } from '../src/core/drive/index.ts'
import { CallMounts } from '../src/core/invoke/call-mounts.ts'
import { ShadwNode } from '../src/core/node/index.ts'
import type { ExecuteResult, WorkerPool } from '../src/core/sandbox/index.ts'
import { createNodeExecutor } from '../src/super-node/executor/index.ts'
import { cWasm } from '../test/fixtures/wasm/fixtures.ts'
import { median, nativeKernel } from './wasi-fs.ts'

/** The kernel's file, as in the wasi-fs bench: reading dominates, and it fits the mount cache. */
const FILE_BYTES = 32 * 1024 * 1024
/** Hyperblobs' block size; the file is written in such chunks, one block each. */
const BLOCK = 64 * 1024
const ROUNDS = 4
/** Timed warm runs per side of the kernel; the median absorbs scheduler noise. */
const RUNS = 7
/** Cold block trials (each on blocks never fetched before). */
const TRIALS = 9
/** The small block size measured beside Hyperblobs' own. */
const SMALL_BLOCK = 4 * 1024
const RESULTS = new URL('./results/mounts.json', import.meta.url)
const KERNEL_SOURCE = fileURLToPath(new URL('../test/fixtures/wasm/c/fs-read-kernel.c', import.meta.url))

const round = (x: number, digits = 3): number => Math.round(x * 10 ** digits) / 10 ** digits

function block (i: number): Uint8Array {
  const b = new Uint8Array(BLOCK)
  for (let j = 0; j < BLOCK; j++) b[j] = ((i * BLOCK + j) * 2654435761 >>> 24) & 0xff
  return b
}

/** A native build of the kernel, or null without clang. */
function nativeBuild (dir: string): string | null {
  const out = join(dir, 'fs-read-kernel')
  try {
    execFileSync('clang', ['-O2', '-o', out, KERNEL_SOURCE], { stdio: 'ignore', timeout: 60_000 })
    return out
  } catch {
    return null
  }
}

async function node (bootstrap: Array<{ host: string, port: number }>): Promise<{ node: ShadwNode, close (): Promise<void> }> {
  const dht = new HyperDHT({ bootstrap, host: '127.0.0.1' })
  const n = new ShadwNode({ swarm: new Hyperswarm({ dht }), store: new Corestore(RAM.reusable()), tier: 'super' })
  await n.start()
  return { node: n, close: async () => { await n.stop(); await dht.destroy() } }
}

/** One call over a mount of `drive` at `version` through `mounts`; the whole of it, timed. */
async function mountedCall (mounts: CallMounts, executor: WorkerPool, drive: string, version: number, module: Uint8Array, args: string[]): Promise<{ ms: number, loadMs: number, result: ExecuteResult }> {
  const t = performance.now()
  const m = await mounts.load([], [{ drive, version, path: '/data' }], new AbortController().signal)
  const loadMs = performance.now() - t
  try {
    const result = await executor.execute({ module, abi: 'wasi', args, preopens: m.preopens, files: m.files, limits: { fuel: 1e12, deadlineMs: 120_000, memoryPages: 256 } })
    if (result.exitCode !== 0) throw new Error(`exit ${result.exitCode}: ${b4a.toString(result.stderr)}`)
    return { ms: performance.now() - t, loadMs, result }
  } finally {
    await m.close()
  }
}

export async function runMountsBench (): Promise<void> {
  const net = await createTestnet(3, { host: '127.0.0.1' })
  const executor = createNodeExecutor({ size: 1 })
  const dir = mkdtempSync(join(tmpdir(), 'shadw-bench-mounts-'))
  const closers: Array<() => Promise<void>> = []
  try {
    const holder = await node(net.bootstrap)
    closers.push(holder.close)
    const { drive } = await Drive.create(holder.node)
    closers.push(async () => { await drive.close() })
    const blocks = FILE_BYTES / BLOCK
    const version = (await drive.put('/blob', (function * () { for (let i = 0; i < blocks; i++) yield block(i) })())).version
    const path = join(dir, 'blob')
    const bytes = new Uint8Array(FILE_BYTES)
    for (let i = 0; i < blocks; i++) bytes.set(block(i), i * BLOCK)
    writeFileSync(path, bytes)

    // kernel: native vs the sandbox over the holder's own drive
    const bin = nativeBuild(dir)
    const native = (): string => bin === null ? nativeKernel(path, ROUNDS) : execFileSync(bin, [path, String(ROUNDS)], { encoding: 'utf8' })
    const kernel = cWasm('fs-read-kernel')
    const local = new CallMounts(holder.node)
    const expected = native()
    const cold = await mountedCall(local, executor, drive.key, version, kernel, ['/data/blob', String(ROUNDS)])
    if (b4a.toString(cold.result.output) !== expected) throw new Error(`checksums differ: native ${expected.trim()}, sandbox ${b4a.toString(cold.result.output).trim()}`)
    const nativeMs: number[] = []
    const warmMs: number[] = []
    for (let i = 0; i < RUNS; i++) {
      let t = performance.now()
      native()
      nativeMs.push(performance.now() - t)
      t = performance.now()
      warmMs.push((await mountedCall(local, executor, drive.key, version, kernel, ['/data/blob', String(ROUNDS)])).ms)
    }

    // cold block: a reader connected to the holder, mount vs raw request, on fresh blocks
    const reader = await node(net.bootstrap)
    closers.push(reader.close)
    const logs = await drive.logs(version)
    const blobLog = logs[1]?.key as string
    const remote = new CallMounts(reader.node)
    const pread = cWasm('fs-pread')
    // the first call joins the drive's topic, connects to the holder, fetches the tree and
    // compiles the module in the worker: none of it a block fetch, so not timed
    await mountedCall(remote, executor, drive.key, version, pread, ['/data/blob', '0', '4096'])
    // the raw side: the blob log as a plain Hypercore session on the reader's store
    const store = reader.node.storeSession()
    const raw = store.get({ key: b4a.from(blobLog, 'hex') })
    await raw.ready()
    closers.push(async () => { await raw.close(); await store.close() })
    const rawMs: number[] = []
    const mountMs: number[] = []
    const loadMs: number[] = []
    const fetched: number[] = []
    for (let i = 0; i < TRIALS; i++) {
      // blocks far apart, never fetched before: raw takes the even ones, the mount the odd ones
      const rawBlock = 16 + i * 40
      const mountBlock = rawBlock + 20
      const t = performance.now()
      const got = await raw.get(rawBlock, { timeout: 30_000 }) as Uint8Array | null
      rawMs.push(performance.now() - t)
      if (got === null || got.byteLength !== BLOCK) throw new Error(`raw block ${rawBlock} missing`)
      const before = remote.bytesFetched
      const r = await mountedCall(remote, executor, drive.key, version, pread, ['/data/blob', String(mountBlock * BLOCK + 1000), '4096'])
      mountMs.push(r.ms)
      loadMs.push(r.loadMs)
      fetched.push(remote.bytesFetched - before)
    }

    // small blocks: the same bytes in 4 KiB blocks, read 4 KiB at a time through a mount on
    // blocks never fetched before, then each file downloaded whole by a fresh node
    const { drive: smallDrive } = await Drive.create(holder.node)
    closers.push(async () => { await smallDrive.close() })
    const smallVersion = (await smallDrive.put('/blob', (function * () { for (let i = 0; i < blocks; i++) yield block(i) })(), { blockSize: SMALL_BLOCK })).version
    await mountedCall(remote, executor, smallDrive.key, smallVersion, pread, ['/data/blob', '0', '4096'])
    const smallFetched: number[] = []
    for (let i = 0; i < TRIALS; i++) {
      const before = remote.bytesFetched
      await mountedCall(remote, executor, smallDrive.key, smallVersion, pread, ['/data/blob', String((30 + i * 40) * BLOCK + 3 * SMALL_BLOCK), '4096'])
      smallFetched.push(remote.bytesFetched - before)
    }
    const downloadMs = async (key: string): Promise<number> => {
      const fresh = await node(net.bootstrap)
      closers.push(fresh.close)
      const d = await Drive.open(fresh.node, key)
      const t = performance.now()
      await d.download()
      const ms = performance.now() - t
      await d.close()
      return ms
    }
    const bigDownloadMs = await downloadMs(drive.key)
    const smallDownloadMs = await downloadMs(smallDrive.key)

    const mb = FILE_BYTES * ROUNDS / 1024 / 1024
    const result = {
      date: new Date().toISOString(),
      machine: { cores: cpus().length, cpu: cpus()[0]?.model, platform: `${platform()} ${release()}`, node: process.version },
      kernel: {
        native: bin === null ? 'Node fs.readSync loop (clang not found)' : 'fs-read-kernel.c, clang -O2, a process per run',
        fileBytes: FILE_BYTES,
        rounds: ROUNDS,
        runs: RUNS,
        nativeMs: round(median(nativeMs), 2),
        sandboxColdMs: round(cold.ms, 2),
        sandboxWarmMs: round(median(warmMs), 2),
        ratioWarm: round(median(warmMs) / median(nativeMs)),
        ratioCold: round(cold.ms / median(nativeMs)),
        nativeMiBps: Math.round(mb / median(nativeMs) * 1000),
        sandboxWarmMiBps: Math.round(mb / median(warmMs) * 1000),
        fuelUsed: cold.result.fuelUsed,
        checksum: expected.trim()
      },
      coldBlock: {
        trials: TRIALS,
        rawBlockMs: round(median(rawMs)),
        mountReadMs: round(median(mountMs)),
        // of which opening the drive and reading the mount's tree, before the call
        mountTreeMs: round(median(loadMs)),
        ratio: round(median(mountMs) / median(rawMs)),
        bytesFetchedPerMountRead: median(fetched)
      },
      smallBlocks: {
        blockBytes: SMALL_BLOCK,
        bytesFetchedPer4KiBRead: median(smallFetched),
        bytesFetchedPer4KiBReadIn64KiBBlocks: median(fetched),
        downloadMs64KiB: round(bigDownloadMs, 1),
        downloadMs4KiB: round(smallDownloadMs, 1),
        downloadRatio: round(smallDownloadMs / bigDownloadMs)
      }
    }
    console.log(`file-reading kernel over a mounted drive file, ${mb} MiB per run (median of ${RUNS})`)
    console.log(`  native (${bin === null ? 'Node' : 'clang -O2'})          ${result.kernel.nativeMs.toFixed(2).padStart(9)} ms  ${result.kernel.nativeMiBps} MiB/s`)
    console.log(`  sandbox, mount, cold        ${result.kernel.sandboxColdMs.toFixed(2).padStart(9)} ms`)
    console.log(`  sandbox, mount, warm        ${result.kernel.sandboxWarmMs.toFixed(2).padStart(9)} ms  ${result.kernel.sandboxWarmMiBps} MiB/s`)
    console.log(`  ratio sandbox / native      ${result.kernel.ratioWarm}× warm, ${result.kernel.ratioCold}× cold`)
    console.log(`cold read of an unfetched block over the swarm (median of ${TRIALS})`)
    console.log(`  raw Hypercore block request ${result.coldBlock.rawBlockMs.toFixed(3).padStart(9)} ms`)
    console.log(`  4 KiB through a mount       ${result.coldBlock.mountReadMs.toFixed(3).padStart(9)} ms  (${result.coldBlock.bytesFetchedPerMountRead} bytes fetched; ${result.coldBlock.mountTreeMs} ms of it the drive's open and tree)`)
    console.log(`  ratio mount / raw           ${result.coldBlock.ratio}×`)
    console.log(`a ${FILE_BYTES / 1024 / 1024} MiB file in ${SMALL_BLOCK / 1024} KiB blocks against 64 KiB blocks`)
    console.log(`  bytes fetched per 4 KiB read ${result.smallBlocks.bytesFetchedPer4KiBRead} against ${result.smallBlocks.bytesFetchedPer4KiBReadIn64KiBBlocks}`)
    console.log(`  whole-file download         ${result.smallBlocks.downloadMs4KiB} ms against ${result.smallBlocks.downloadMs64KiB} ms (${result.smallBlocks.downloadRatio}×)`)
    mkdirSync(new URL('./results/', import.meta.url), { recursive: true })
    writeFileSync(RESULTS, JSON.stringify(result, null, 2) + '\n')
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {})
    await executor.close()
    await net.destroy()
    rmSync(dir, { recursive: true, force: true })
  }
}

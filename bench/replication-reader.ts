/**
 * The Node reader of the replication bench, run as a child process by bench/replication.ts.
 * A process of its own, like the browser's node worker: in the super node's process, the
 * reader would share one event loop (and one core) with the writer it reads from, and the
 * Node→Node figure would be that of a single thread doing both sides' work.
 *
 * Protocol (IPC): the parent sends one {@link ReaderTask}; the child answers one
 * {@link ReaderReply}, stops its node and exits. Around each timed part the child asks the
 * parent for its CPU time ({@link CpuAsk}, answered with a {@link CpuTold}), so each figure
 * comes with the CPU both processes spent on it: on a machine shared by many, the CPU per
 * block moves far less than the wall time does.
 */
import Corestore from 'corestore'
import DHTRelay from '@hyperswarm/dht-relay'
import RelayStream from '@hyperswarm/dht-relay/ws'
import HyperDHT from 'hyperdht'
import WebSocket from 'ws'
import Hyperswarm from 'hyperswarm'
import { ShadwNode, type DownloadResult } from '../src/core/node/index.ts'
import { fileStorage } from '../src/super-node/file-storage.ts'
import { parseBootstrap } from '../src/super-node/super-node.ts'
import { widenSocketBuffers } from '../src/super-node/socket-buffers.ts'
import { countDatagrams, openRawUdxStream, readRawStream, readRawUdxStream, udxOf, type Datagrams, type RawStreamResult, type UdxCounters } from './raw-stream.ts'

export interface ReaderTask {
  type: 'run'
  /** `host:port` of the super node's DHT */
  bootstrap: string[]
  /** directory of the reader's Corestore: on disk, as the super node's and the browser's are */
  storage: string
  logs: Array<{ key: string, blocks: number, blockSize: number }>
  /** port of the parent's raw secret-stream server over TCP: the baseline, read before each log */
  rawPort: number
  /** public key (hex) of the parent's raw secret-stream server over UDX (HyperDHT): diagnostic */
  rawUdxKey: string
  /** bound on each wait: the log's length reaching us, and each download */
  timeoutMs: number
  /**
   * The super node's relay URL when the reader dials through it (BENCH_READER_RELAY=1): the
   * browser's path (WebSocket, relay, the relay's own UDX hop) without Chromium.
   */
  relayUrl?: string
}

/**
 * CPU time (user + system) a process spent on one timed part, in milliseconds, and the
 * system part of it (the kernel's: UDP and TCP sends and receives, file reads and writes).
 */
export interface CpuSpent { readerMs: number, writerMs: number, readerSysMs: number, writerSysMs: number }

export interface CpuAsk { type: 'cpu?' }
export interface CpuTold { type: 'cpu', micros: number, sysMicros: number }

export interface ReaderLogResult extends DownloadResult {
  key: string
  /** follow() until the log's full length is known: discovery and connection, not timed as replication */
  setupMs: number
  /** the download call as its caller saw it */
  e2eMs: number
  /** the same bytes in the same block sizes over a raw secret-stream on TCP, just before */
  raw: RawStreamResult & { cpu: CpuSpent }
  /** the same over a raw secret-stream on UDX (a HyperDHT connection), just before that */
  rawUdx: RawStreamResult & { cpu: CpuSpent }
  /** CPU of both processes during the download */
  cpu: CpuSpent
  /** UDX datagrams the reader received and sent during the download, over all its swarm connections */
  datagrams: Datagrams
}

export type ReaderReply = { type: 'result', logs: ReaderLogResult[] } | { type: 'error', message: string }

/**
 * BENCH_INFLIGHT='[min,max]' sets Hypercore's requests in flight per peer (its default is
 * [16, 512], of which 16 apply on loopback): for trying other pipelining depths.
 */
const INFLIGHT = process.env['BENCH_INFLIGHT']

/** Bound on the node's shutdown, so a wedged socket cannot keep the child alive. */
const STOP_TIMEOUT_MS = 10_000

const ownCpuMicros = (): CpuTold => { const u = process.cpuUsage(); return { type: 'cpu', micros: u.user + u.system, sysMicros: u.system } }

/** The parent's CPU time so far, in microseconds. */
async function parentCpuMicros (): Promise<CpuTold> {
  return await new Promise<CpuTold>((resolve, reject) => {
    if (process.send === undefined) { reject(new Error('no IPC channel to the parent')); return }
    const onMessage = (msg: CpuTold): void => {
      if (msg.type !== 'cpu') return
      process.off('message', onMessage)
      resolve(msg)
    }
    process.on('message', onMessage)
    process.send({ type: 'cpu?' } satisfies CpuAsk)
  })
}

/** Runs `fn`, returning what it returned and the CPU both processes spent meanwhile. */
async function withCpu<T> (fn: () => Promise<T>): Promise<[T, CpuSpent]> {
  const w0 = await parentCpuMicros()
  const r0 = ownCpuMicros()
  const value = await fn()
  const r1 = ownCpuMicros()
  const w1 = await parentCpuMicros()
  return [value, { readerMs: (r1.micros - r0.micros) / 1000, writerMs: (w1.micros - w0.micros) / 1000, readerSysMs: (r1.sysMicros - r0.sysMicros) / 1000, writerSysMs: (w1.sysMicros - w0.sysMicros) / 1000 }]
}

async function run (task: ReaderTask): Promise<ReaderLogResult[]> {
  // Loopback: every DHT node binds 127.0.0.1 (see SuperNode.start), and every socket here is
  // reachable, so the reader says it is not firewalled. Left to find that out itself, a fresh
  // DHT node in another process dials the super node as firewalled and gets a half-open
  // connection (open here, never seen by the super node) that times out after ~13 s; the
  // retries took 15-36 s or never connected within a minute. Only connection set-up changes:
  // nothing of it is timed.
  let dht: HyperDHT
  if (task.relayUrl === undefined) {
    dht = new HyperDHT({ bootstrap: parseBootstrap(task.bootstrap), host: '127.0.0.1', firewalled: false })
    // as a super node's: see src/super-node/socket-buffers.ts
    widenSocketBuffers(dht)
  } else {
    // as a browser dials (src/browser/relay-connection.ts), with ws's WebSocket
    const socket = new WebSocket(task.relayUrl)
    await new Promise<void>((resolve, reject) => { socket.once('open', resolve); socket.once('error', reject) })
    dht = new DHTRelay(new RelayStream(true, socket as unknown as globalThis.WebSocket), { custodial: false }) as unknown as HyperDHT
  }
  const swarm = new Hyperswarm({ dht })
  // the storage a super node reads into (src/super-node/file-storage.ts)
  const store = new Corestore(fileStorage(task.storage), INFLIGHT === undefined ? {} : { inflightRange: JSON.parse(INFLIGHT) as [number, number] })
  const node = new ShadwNode({ swarm, store, tier: 'shadow' })
  try {
    await node.start()
    const results: ReaderLogResult[] = []
    for (const log of task.logs) {
      const t0 = performance.now()
      await node.follow(log.key)
      await node.waitForLength(log.key, log.blocks, task.timeoutMs)
      const setupMs = performance.now() - t0
      const udxConn = await openRawUdxStream(dht, task.rawUdxKey, task.timeoutMs)
      const [rawUdx, rawUdxCpu] = await withCpu(async () => await readRawUdxStream(udxConn, log.blockSize, log.blocks, task.timeoutMs))
      const [raw, rawCpu] = await withCpu(async () => await readRawStream(task.rawPort, log.blockSize, log.blocks, task.timeoutMs))
      let e2eMs = 0
      const udx = (): UdxCounters[] => [...swarm.connections].map(udxOf).filter((u): u is UdxCounters => u !== null)
      const d0 = countDatagrams(udx())
      const [r, cpu] = await withCpu(async () => {
        const t1 = performance.now()
        const done = await node.download(log.key, { start: 0, end: log.blocks }, { timeout: task.timeoutMs })
        e2eMs = performance.now() - t1
        return done
      })
      const d1 = countDatagrams(udx())
      results.push({ key: log.key, ...r, setupMs, e2eMs, raw: { ...raw, cpu: rawCpu }, rawUdx: { ...rawUdx, cpu: rawUdxCpu }, cpu, datagrams: { in: d1.in - d0.in, out: d1.out - d0.out } })
    }
    return results
  } finally {
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([
      node.stop().then(async () => { await dht.destroy() }),
      new Promise<void>(resolve => { timer = setTimeout(resolve, STOP_TIMEOUT_MS) })
    ]).catch(() => {})
    clearTimeout(timer)
  }
}

/** Sends the reply, then exits: the exit waits for the IPC write, or the parent gets nothing. */
function finish (reply: ReaderReply): void {
  if (process.send === undefined) process.exit(1)
  process.send(reply, () => { process.exit(0) })
}

process.once('message', (msg: ReaderTask) => {
  run(msg).then(
    logs => { finish({ type: 'result', logs }) },
    (err: unknown) => { finish({ type: 'error', message: err instanceof Error ? err.message : String(err) }) }
  )
})

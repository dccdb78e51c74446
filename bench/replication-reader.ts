/**
 * The Node reader of the replication bench, run as a child process by bench/replication.ts.
 * A process of its own, like the browser's node worker: in the super node's process, the
 * reader would share one event loop (and one core) with the writer it reads from, and the
 * Node→Node figure would be that of a single thread doing both sides' work.
 *
 * Protocol (IPC): the parent sends one {@link ReaderTask}; the child answers one
 * {@link ReaderReply}, stops its node and exits.
 */
import Corestore from 'corestore'
import HyperDHT from 'hyperdht'
import Hyperswarm from 'hyperswarm'
import { ShadwNode, type DownloadResult } from '../src/core/node/index.ts'
import { parseBootstrap } from '../src/super-node/super-node.ts'
import { readRawStream, type RawStreamResult } from './raw-stream.ts'

export interface ReaderTask {
  type: 'run'
  /** `host:port` of the super node's DHT */
  bootstrap: string[]
  /** directory of the reader's Corestore: on disk, as the super node's and the browser's are */
  storage: string
  logs: Array<{ key: string, blocks: number, blockSize: number }>
  /** port of the parent's raw secret-stream server: the baseline, read before each log */
  rawPort: number
  /** bound on each wait: the log's length reaching us, and each download */
  timeoutMs: number
}

export interface ReaderLogResult extends DownloadResult {
  key: string
  /** follow() until the log's full length is known: discovery and connection, not timed as replication */
  setupMs: number
  /** the download call as its caller saw it */
  e2eMs: number
  /** the same bytes in the same block sizes over a raw secret-stream, just before */
  raw: RawStreamResult
}

export type ReaderReply = { type: 'result', logs: ReaderLogResult[] } | { type: 'error', message: string }

/** Bound on the node's shutdown, so a wedged socket cannot keep the child alive. */
const STOP_TIMEOUT_MS = 10_000

async function run (task: ReaderTask): Promise<ReaderLogResult[]> {
  // Loopback: every DHT node binds 127.0.0.1 (see SuperNode.start), and every socket here is
  // reachable, so the reader says it is not firewalled. Left to find that out itself, a fresh
  // DHT node in another process dials the super node as firewalled and gets a half-open
  // connection (open here, never seen by the super node) that times out after ~13 s; the
  // retries took 15-36 s or never connected within a minute. Only connection set-up changes:
  // nothing of it is timed.
  const dht = new HyperDHT({ bootstrap: parseBootstrap(task.bootstrap), host: '127.0.0.1', firewalled: false })
  const swarm = new Hyperswarm({ dht })
  const node = new ShadwNode({ swarm, store: new Corestore(task.storage), tier: 'shadow' })
  try {
    await node.start()
    const results: ReaderLogResult[] = []
    for (const log of task.logs) {
      const t0 = performance.now()
      await node.follow(log.key)
      await node.waitForLength(log.key, log.blocks, task.timeoutMs)
      const setupMs = performance.now() - t0
      const raw = await readRawStream(task.rawPort, log.blockSize, log.blocks, task.timeoutMs)
      const t1 = performance.now()
      const r = await node.download(log.key, { start: 0, end: log.blocks }, { timeout: task.timeoutMs })
      results.push({ key: log.key, ...r, setupMs, e2eMs: performance.now() - t1, raw })
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

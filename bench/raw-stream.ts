/**
 * The replication bench's baselines: a raw encrypted stream (@hyperswarm/secret-stream, the
 * Noise stream every Hyperswarm connection is) between the same two processes as the
 * Hypercore download, carrying the same bytes in the same block sizes. What Hypercore adds on
 * top (requests, Merkle proofs, verification, storage) is the difference between the figures.
 *
 * Two transports under the same stream:
 * - TCP on 127.0.0.1: the goal's baseline (`replication_node_16k_over_raw`), what an encrypted
 *   stream costs when the kernel moves 64 KiB segments;
 * - UDX (a HyperDHT connection, the transport every Hyperswarm connection of a Node process
 *   uses): diagnostic. UDX sends ~1,500-byte datagrams, each a system call with an
 *   acknowledgement back, so the gap between the two baselines is the transport's share and
 *   the gap between this one and Hypercore is Hypercore's.
 *
 * The writer (bench process) listens on both; the reader (child process) connects, sends one
 * 8-byte request (block size, block count), and times from that request to the last byte.
 */
import { randomBytes } from 'node:crypto'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import NoiseSecretStream from '@hyperswarm/secret-stream'
import HyperDHT, { type DhtConnection } from 'hyperdht'
import { widenSocketBuffers } from '../src/super-node/socket-buffers.ts'

export interface RawStreamResult {
  blockSize: number
  blocks: number
  bytes: number
  ms: number
  /** UDX datagrams the reader received and sent during the read (UDX only) */
  datagrams?: Datagrams
}

/** UDX datagrams a reader received (`in`: data, the writer's acknowledgements) and sent (`out`). */
export interface Datagrams { in: number, out: number }

/** What udx-native's stream counts (its `packetsReceived`/`packetsTransmitted` getters). */
export interface UdxCounters { packetsReceived: number, packetsTransmitted: number }

/** The UDX stream under a HyperDHT / Hyperswarm connection, when it has one (not over a relay). */
export function udxOf (conn: unknown): UdxCounters | null {
  const raw = (conn as { rawStream?: Partial<UdxCounters> } | null)?.rawStream
  return typeof raw?.packetsReceived === 'number' && typeof raw.packetsTransmitted === 'number' ? raw as UdxCounters : null
}

/** Datagrams so far over the given UDX streams. */
export function countDatagrams (streams: Iterable<UdxCounters>): Datagrams {
  let rx = 0
  let tx = 0
  for (const s of streams) { rx += s.packetsReceived; tx += s.packetsTransmitted }
  return { in: rx, out: tx }
}

/** What both transports' streams offer here: a secret-stream, over TCP or UDX. */
interface RawStream {
  write (data: Uint8Array): boolean
  destroy (err?: Error): void
  on (event: string, listener: (...args: never[]) => void): unknown
  once (event: string, listener: (...args: never[]) => void): unknown
}

/** Answers one request on an opened stream: `blocks` writes of one `blockSize` block. */
function serve (stream: RawStream): void {
  stream.on('error', () => { stream.destroy() })
  stream.once('data', (req: Uint8Array) => {
    const view = new DataView(req.buffer, req.byteOffset, req.byteLength)
    const blockSize = view.getUint32(0)
    const blocks = view.getUint32(4)
    // one random block sent over and over: the encryption cost is the same for any bytes
    writeBlocks(stream, randomBytes(blockSize), blocks)
  })
}

/** Writes `block` `blocks` times, as fast as `stream` drains. */
export function writeBlocks (stream: Pick<RawStream, 'write' | 'once'>, block: Uint8Array, blocks: number): void {
  let sent = 0
  const pump = (): void => {
    while (sent < blocks) {
      sent++
      if (!stream.write(block)) { stream.once('drain', pump); return }
    }
  }
  pump()
}

export interface RawStreamServer {
  /** TCP port of the secret-stream over TCP */
  port: number
  /** public key (hex) of the HyperDHT server: the secret-stream over UDX */
  udxKey: string
  close: () => Promise<void>
}

/**
 * Starts the writing side of both baselines. The UDX one is a HyperDHT node of its own in this
 * process, on the given (loopback) bootstrap, with the super node's socket buffers.
 */
export async function startRawStreamServer (bootstrap: Array<{ host: string, port: number }>): Promise<RawStreamServer> {
  const sockets = new Set<Socket>()
  const server: Server = createServer(socket => {
    sockets.add(socket)
    socket.once('close', () => { sockets.delete(socket) })
    socket.on('error', () => { socket.destroy() })
    serve(new NoiseSecretStream(false, socket))
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const addr = server.address()
  if (addr === null || typeof addr === 'string') throw new Error('raw stream server has no port')

  const dht = new HyperDHT({ bootstrap, host: '127.0.0.1', firewalled: false })
  widenSocketBuffers(dht)
  const conns = new Set<DhtConnection>()
  const udxServer = dht.createServer(conn => {
    conns.add(conn)
    conn.once('close', () => { conns.delete(conn) })
    serve(conn)
  })
  const keyPair = HyperDHT.keyPair()
  await udxServer.listen(keyPair)
  return {
    port: addr.port,
    udxKey: Buffer.from(keyPair.publicKey).toString('hex'),
    close: async () => {
      const closed = new Promise<void>(resolve => { server.close(() => { resolve() }) })
      for (const s of sockets) s.destroy()
      for (const c of conns) c.destroy()
      await closed
      await udxServer.close()
      await dht.destroy()
    }
  }
}

/** Sends the request on an opened stream and times the arrival of `blocks` × `blockSize` bytes. */
async function timeRead (stream: RawStream, opened: Promise<boolean>, blockSize: number, blocks: number, timeoutMs: number, udx: () => UdxCounters | null = () => null): Promise<RawStreamResult> {
  const total = blockSize * blocks
  try {
    return await new Promise<RawStreamResult>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`raw stream read timed out after ${timeoutMs} ms`)) }, timeoutMs)
      stream.on('error', (err: Error) => { clearTimeout(timer); reject(err) })
      void opened.then(ok => {
        if (!ok) { clearTimeout(timer); reject(new Error('raw stream did not open')); return }
        const req = new Uint8Array(8)
        const view = new DataView(req.buffer)
        view.setUint32(0, blockSize)
        view.setUint32(4, blocks)
        let got = 0
        const u = udx()
        const d0 = u === null ? null : countDatagrams([u])
        const t0 = performance.now()
        stream.on('data', (chunk: Uint8Array) => {
          got += chunk.byteLength
          if (got >= total) {
            clearTimeout(timer)
            const ms = performance.now() - t0
            const d1 = u === null ? null : countDatagrams([u])
            resolve({ blockSize, blocks, bytes: got, ms, ...(d0 === null || d1 === null ? {} : { datagrams: { in: d1.in - d0.in, out: d1.out - d0.out } }) })
          }
        })
        stream.write(req)
      })
    })
  } finally {
    stream.destroy()
  }
}

/** The reading side over TCP: asks for `blocks` × `blockSize` bytes and times their arrival. */
export async function readRawStream (port: number, blockSize: number, blocks: number, timeoutMs: number): Promise<RawStreamResult> {
  const stream = new NoiseSecretStream(true, createConnection({ host: '127.0.0.1', port }))
  return await timeRead(stream, stream.opened, blockSize, blocks, timeoutMs)
}

/**
 * Opens the UDX side's connection: a HyperDHT connection from the reader's own DHT node (the
 * one its Hyperswarm uses) to the writer's raw server, done before the clock and the CPU count.
 */
export async function openRawUdxStream (dht: HyperDHT, udxKey: string, timeoutMs: number): Promise<DhtConnection> {
  const conn = dht.connect(Buffer.from(udxKey, 'hex'))
  conn.on('error', () => {})
  let timer: ReturnType<typeof setTimeout> | undefined
  const opened = await Promise.race([conn.opened, new Promise<boolean>(resolve => { timer = setTimeout(() => { resolve(false) }, timeoutMs) })])
  clearTimeout(timer)
  if (!opened) { conn.destroy(); throw new Error(`raw UDX stream did not open within ${timeoutMs} ms`) }
  return conn
}

/** The reading side over UDX, on a connection from {@link openRawUdxStream}; destroys it after. */
export async function readRawUdxStream (conn: DhtConnection, blockSize: number, blocks: number, timeoutMs: number): Promise<RawStreamResult> {
  return await timeRead(conn, conn.opened, blockSize, blocks, timeoutMs, () => udxOf(conn))
}

/**
 * The replication bench's baseline: a raw encrypted stream (@hyperswarm/secret-stream, the
 * Noise stream every Hyperswarm connection is, here over TCP on 127.0.0.1) between the same
 * two processes as the Hypercore download, carrying the same bytes in the same block sizes.
 * What Hypercore adds on top (requests, Merkle proofs, verification, storage) is the
 * difference between the two figures.
 *
 * The writer (bench process) listens; the reader (child process) connects, sends one
 * 8-byte request (block size, block count), and times from that request to the last byte.
 */
import { randomBytes } from 'node:crypto'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import NoiseSecretStream from '@hyperswarm/secret-stream'

export interface RawStreamResult { blockSize: number, blocks: number, bytes: number, ms: number }

/** Starts the writing side; resolves to its port. Each connection gets what it asks for. */
export async function startRawStreamServer (): Promise<{ port: number, close: () => Promise<void> }> {
  const sockets = new Set<Socket>()
  const server: Server = createServer(socket => {
    sockets.add(socket)
    socket.once('close', () => { sockets.delete(socket) })
    const stream = new NoiseSecretStream(false, socket)
    stream.on('error', () => { socket.destroy() })
    stream.once('data', (req: Uint8Array) => {
      const view = new DataView(req.buffer, req.byteOffset, req.byteLength)
      const blockSize = view.getUint32(0)
      const blocks = view.getUint32(4)
      // one random block sent over and over: the encryption cost is the same for any bytes
      const block = randomBytes(blockSize)
      let sent = 0
      const pump = (): void => {
        while (sent < blocks) {
          sent++
          if (!stream.write(block)) { stream.once('drain', pump); return }
        }
      }
      pump()
    })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const addr = server.address()
  if (addr === null || typeof addr === 'string') throw new Error('raw stream server has no port')
  return {
    port: addr.port,
    close: async () => {
      const closed = new Promise<void>(resolve => { server.close(() => { resolve() }) })
      for (const s of sockets) s.destroy()
      await closed
    }
  }
}

/** The reading side: asks for `blocks` × `blockSize` bytes and times their arrival. */
export async function readRawStream (port: number, blockSize: number, blocks: number, timeoutMs: number): Promise<RawStreamResult> {
  const socket = createConnection({ host: '127.0.0.1', port })
  const stream = new NoiseSecretStream(true, socket)
  const total = blockSize * blocks
  try {
    return await new Promise<RawStreamResult>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`raw stream read timed out after ${timeoutMs} ms`)) }, timeoutMs)
      stream.on('error', (err: Error) => { clearTimeout(timer); reject(err) })
      void stream.opened.then(opened => {
        if (!opened) { clearTimeout(timer); reject(new Error('raw stream did not open')); return }
        const req = new Uint8Array(8)
        const view = new DataView(req.buffer)
        view.setUint32(0, blockSize)
        view.setUint32(4, blocks)
        let got = 0
        const t0 = performance.now()
        stream.on('data', (chunk: Uint8Array) => {
          got += chunk.byteLength
          if (got >= total) {
            clearTimeout(timer)
            resolve({ blockSize, blocks, bytes: got, ms: performance.now() - t0 })
          }
        })
        stream.write(req)
      })
    })
  } finally {
    stream.destroy()
  }
}

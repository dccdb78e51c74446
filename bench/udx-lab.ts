/**
 * UDX lab: the transport under Hyperswarm connections, alone. Two processes (this one writes,
 * a forked child reads), one bare UDX stream pair on 127.0.0.1 with the super node's 4 MiB
 * socket buffers, framed as HyperDHT opens its streams, and a secret-stream on top: the
 * replication bench's raw UDX baseline without HyperDHT's connection set-up. Prints, per
 * block, the CPU of both processes (system part apart), the datagrams each way, how often
 * udx-native called into JavaScript with data at the reader, the stream's MTU and samples of
 * its congestion window and RTT. For `strace -c -f -p <pid>` on either side.
 *
 *   node --import tsx bench/udx-lab.ts            # 10,000 blocks of 16 KiB
 *   UDX_LAB_BLOCKS=5000 UDX_LAB_BLOCK_SIZE=1024 node --import tsx bench/udx-lab.ts
 *   UDX_LAB_READER_UDX=/tmp/udx-big node --import tsx bench/udx-lab.ts   # another udx-native in the reader
 *   node --import tsx bench/udx-lab.ts --help
 *
 * UDX_LAB_READER_UDX / UDX_LAB_WRITER_UDX load udx-native from a package directory in that
 * process (a build of bench/udx-mtu-lab.ts, say) instead of the installed one: two releases
 * talking to each other. The directory must sit inside node_modules (e.g.
 * node_modules/.udx-native-stock, where `udx-mtu-lab.ts use` keeps the installed release), so
 * that its own dependencies resolve.
 *
 * Not part of `npm run bench`: a diagnostic, see docs/performance.md ("Transport: UDX
 * datagrams on loopback").
 */
import { fork } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import NoiseSecretStream from '@hyperswarm/secret-stream'
import { UDP_SOCKET_BUFFER_BYTES } from '../src/super-node/socket-buffers.ts'
import { writeBlocks } from './raw-stream.ts'

/** The parts of udx-native (untyped, CommonJS) used here. */
interface UdxStream {
  connect (socket: UdxSocket, remoteId: number, port: number, host: string): void
  on (event: 'data', listener: (chunk: Uint8Array) => void): unknown
  readonly packetsTransmitted: number
  readonly packetsReceived: number
  readonly mtu: number
  readonly cwnd: number
  readonly rtt: number
}
interface UdxSocket {
  bind (port: number, host: string): void
  address (): { port: number }
  setRecvBufferSize (size: number): number
  setSendBufferSize (size: number): number
}
interface Udx { createSocket (): UdxSocket, createStream (id: number, opts: { framed: boolean }): UdxStream }
type UdxClass = new () => Udx

const HELP = `udx-lab: a secret-stream over one bare UDX stream pair between two processes on 127.0.0.1
  env UDX_LAB_BLOCKS (10000), UDX_LAB_BLOCK_SIZE (16384),
      UDX_LAB_READER_UDX, UDX_LAB_WRITER_UDX: a udx-native package directory (inside
      node_modules, so its dependencies resolve) for that side
  prints MB/s, the MTU reached and when, CPU and datagrams per block, window and RTT samples`
const side = process.argv[2] === 'reader' ? 'READER' : 'WRITER'
const UDX = createRequire(import.meta.url)(process.env[`UDX_LAB_${side}_UDX`] ?? 'udx-native') as UdxClass
const BLOCKS = Number(process.env['UDX_LAB_BLOCKS'] ?? 10_000)
const BLOCK_SIZE = Number(process.env['UDX_LAB_BLOCK_SIZE'] ?? 16 * 1024)
/** Bound on the whole transfer. */
const TIMEOUT_MS = 120_000
/** How often the writer samples its stream's window and RTT. */
const SAMPLE_MS = 250
/** How often the writer looks at its stream's MTU, to time the probing. */
const MTU_POLL_MS = 5

interface ReaderDone { type: 'done', ms: number, cpuUs: number, sysUs: number, sent: number, received: number, dataCalls: number }
type Msg = { type: 'port', port: number } | ReaderDone

function socketOnLoopback (udx: Udx): UdxSocket {
  const socket = udx.createSocket()
  socket.bind(0, '127.0.0.1')
  socket.setRecvBufferSize(UDP_SOCKET_BUFFER_BYTES)
  socket.setSendBufferSize(UDP_SOCKET_BUFFER_BYTES)
  return socket
}

const cpuNow = (): { total: number, sys: number } => { const u = process.cpuUsage(); return { total: u.user + u.system, sys: u.system } }

/** The child: reads BLOCKS × BLOCK_SIZE bytes, then reports its side. */
function reader (): void {
  const udx = new UDX()
  const socket = socketOnLoopback(udx)
  const stream = udx.createStream(2, { framed: true })
  const send = (m: Msg): void => { process.send?.(m) }
  send({ type: 'port', port: socket.address().port })
  process.once('message', (m: { port: number }) => {
    stream.connect(socket, 1, m.port, '127.0.0.1')
    let dataCalls = 0
    stream.on('data', () => { dataCalls++ })
    const secret = new NoiseSecretStream(false, stream)
    void secret.opened.then(() => {
      const c0 = cpuNow()
      const s0 = { sent: stream.packetsTransmitted, received: stream.packetsReceived, dataCalls }
      const t0 = performance.now()
      let got = 0
      secret.on('data', (chunk: Uint8Array) => {
        got += chunk.byteLength
        if (got < BLOCKS * BLOCK_SIZE) return
        const c1 = cpuNow()
        send({ type: 'done', ms: performance.now() - t0, cpuUs: c1.total - c0.total, sysUs: c1.sys - c0.sys, sent: stream.packetsTransmitted - s0.sent, received: stream.packetsReceived - s0.received, dataCalls: dataCalls - s0.dataCalls })
        setTimeout(() => { process.exit(0) }, 100)
      })
      secret.write(new Uint8Array([1]))
    })
  })
}

/** The parent: writes the blocks as fast as the stream takes them, then prints both sides. */
async function writer (): Promise<void> {
  const udx = new UDX()
  const socket = socketOnLoopback(udx)
  const child = fork(fileURLToPath(import.meta.url), ['reader'], { execArgv: ['--import', 'tsx'] })
  const port = await new Promise<number>(resolve => { child.once('message', (m: Msg) => { if (m.type === 'port') resolve(m.port) }) })
  const stream = udx.createStream(1, { framed: true })
  stream.connect(socket, 2, port, '127.0.0.1')
  child.send({ port: socket.address().port })
  const secret = new NoiseSecretStream(true, stream)
  const samples: Array<{ cwnd: number, rtt: number }> = []
  /** When the stream's MTU changed, from the first block written: how long the probing took. */
  const mtuSteps: Array<{ ms: number, mtu: number }> = []
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    const done = await Promise.race([
      new Promise<{ r: ReaderDone, cpuUs: number, sysUs: number }>(resolve => {
        secret.once('data', () => {
          const c0 = cpuNow()
          writeBlocks(secret, new Uint8Array(BLOCK_SIZE).fill(7), BLOCKS)
          const sampler = setInterval(() => { samples.push({ cwnd: stream.cwnd, rtt: stream.rtt }) }, SAMPLE_MS)
          const t0 = performance.now()
          mtuSteps.push({ ms: 0, mtu: stream.mtu })
          const mtuWatch = setInterval(() => {
            if (stream.mtu !== mtuSteps[mtuSteps.length - 1]?.mtu) mtuSteps.push({ ms: performance.now() - t0, mtu: stream.mtu })
          }, MTU_POLL_MS)
          child.on('message', (m: Msg) => {
            if (m.type !== 'done') return
            clearInterval(sampler)
            clearInterval(mtuWatch)
            const c1 = cpuNow()
            resolve({ r: m, cpuUs: c1.total - c0.total, sysUs: c1.sys - c0.sys })
          })
        })
      }),
      new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(new Error(`UDX lab timed out after ${TIMEOUT_MS} ms`)) }, TIMEOUT_MS) })
    ])
    const per = (n: number): string => (n / BLOCKS).toFixed(2)
    const us = (n: number): string => (n / BLOCKS).toFixed(0)
    const range = (xs: number[]): string => xs.length === 0 ? '-' : `${Math.min(...xs)}-${Math.max(...xs)}`
    console.log(`UDX lab: ${BLOCKS} × ${BLOCK_SIZE} bytes over a secret-stream on UDX, two processes, 127.0.0.1`)
    const last = mtuSteps[mtuSteps.length - 1]
    console.log(`  ${(BLOCKS * BLOCK_SIZE / 1e6 / (done.r.ms / 1000)).toFixed(1)} MB/s; MTU ${stream.mtu} (${mtuSteps[0]?.mtu ?? '-'} at the first block, ${last?.mtu ?? '-'} after ${last?.ms.toFixed(0) ?? '-'} ms, ${mtuSteps.length - 1} changes seen every ${MTU_POLL_MS} ms)`)
    console.log(`  CPU per block: reader ${us(done.r.cpuUs)} (system ${us(done.r.sysUs)}) + writer ${us(done.cpuUs)} (system ${us(done.sysUs)}) µs`)
    console.log(`  datagrams per block at the reader: ${per(done.r.received)} in + ${per(done.r.sent)} out; data calls into JavaScript per block: ${per(done.r.dataCalls)}`)
    console.log(`  writer's congestion window ${range(samples.map(s => s.cwnd))} datagrams, RTT ${range(samples.map(s => s.rtt))} ms (${samples.length} samples)`)
  } finally {
    clearTimeout(timer)
    child.kill()
    secret.destroy()
  }
}

if (process.argv.includes('--help')) console.log(HELP)
else if (process.argv[2] === 'reader') reader()
else {
  writer().then(() => { process.exit(0) }, (err: unknown) => { console.error(err); process.exit(1) })
}

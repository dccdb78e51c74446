/**
 * Wider kernel buffers on a HyperDHT node's UDP sockets (every Hyperswarm connection of a
 * Node process is a UDX stream over one of them).
 *
 * Why: the kernel's default UDP receive buffer is ~208 KiB (net.core.rmem_default). A reader
 * pipelining Hypercore requests gets the answers in bursts; when its process is not scheduled
 * for a few milliseconds (two cores shared by many processes) the burst overflows the buffer,
 * the kernel drops datagrams (RcvbufErrors in /proc/net/snmp), and UDX waits for its
 * retransmission timer. With Hypercore's default 16 requests in flight nothing was dropped;
 * with 256 in flight ~10,000 datagrams were per 170 MB download, and it ran at half the
 * speed. The buffers are asked for once each socket is bound; the kernel caps them at
 * net.core.rmem_max / wmem_max (4 MiB on Debian), and a smaller cap is used silently.
 */
import type HyperDHT from 'hyperdht'

/** Asked-for size of each socket's receive and send buffer: the usual rmem_max/wmem_max. */
export const UDP_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024

interface UdxSocketLike {
  once (event: 'listening', listener: () => void): unknown
  setRecvBufferSize (size: number): number
  setSendBufferSize (size: number): number
}

interface UdxLike { createSocket (opts?: unknown): UdxSocketLike }

/**
 * Makes every socket `dht` binds from now on ask for {@link UDP_SOCKET_BUFFER_BYTES}. Call it
 * right after `new HyperDHT(...)`: the node binds its sockets on `ready()`, and the ones it
 * binds later (hole-punching) go through the same factory.
 */
export function widenSocketBuffers (dht: HyperDHT, bytes = UDP_SOCKET_BUFFER_BYTES): void {
  // dht-rpc keeps the UDX instance it made as `udx` and asks it for every socket it binds
  const udx = (dht as unknown as { udx: UdxLike }).udx
  const create = udx.createSocket.bind(udx)
  udx.createSocket = (opts?: unknown) => {
    const socket = create(opts)
    socket.once('listening', () => {
      // a failure leaves the kernel's default: slower under load, never wrong
      try { socket.setRecvBufferSize(bytes) } catch {}
      try { socket.setSendBufferSize(bytes) } catch {}
    })
    return socket
  }
}

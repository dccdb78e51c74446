import { connect, type Socket } from 'node:net'

/** What a raw request got back: the status of the first response line (null: none) and the socket. */
export interface RawAnswer { status: number | null, socket: Socket, closed: boolean }

/**
 * Sends `head` (request line and headers, as an attacker would write them) on a fresh
 * loopback socket and waits up to `waitMs` for the first response line or the socket's
 * close. The socket is left open for the caller (who destroys it).
 */
export function rawRequest (port: number, head: string, waitMs = 2_000): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    let text = ''
    let closed = false
    let done = false
    const finish = (): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text)
      resolve({ status: m === null ? null : Number(m[1]), socket, closed })
    }
    const timer = setTimeout(finish, waitMs)
    socket.on('error', () => {})
    socket.on('data', (d: Buffer) => { text += d.toString('latin1'); if (text.includes('\r\n')) finish() })
    socket.on('close', () => { closed = true; finish() })
    socket.write(head)
  })
}

/** An upgrade request on `path` (a WebSocket handshake unless told otherwise). */
export function upgradeHead (path: string, protocol = 'websocket'): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: ${protocol}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n`
}

/** Polls `fn` every 50 ms until it is true, for at most `timeoutMs`; throws naming `what`. */
export async function waitUntil (what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/**
 * A client WebSocket frame header (masked with a zero mask, so the payload goes as is)
 * announcing `length` payload bytes; `fin: false` starts a fragmented message.
 */
export function wsFrameHeader (length: number, fin: boolean): Buffer {
  const head = Buffer.alloc(14)
  head[0] = (fin ? 0x80 : 0) | 0x02
  head[1] = 0x80 | 127
  head.writeBigUInt64BE(BigInt(length), 2)
  // bytes 10-13: the zero mask
  return head
}

/** Resolves true once `socket` closed, false after `ms`. */
export function closedWithin (socket: import('node:net').Socket, ms: number): Promise<boolean> {
  if (socket.destroyed || socket.closed) return Promise.resolve(true)
  return new Promise(resolve => {
    const timer = setTimeout(() => { resolve(false) }, ms)
    socket.once('close', () => { clearTimeout(timer); resolve(true) })
  })
}

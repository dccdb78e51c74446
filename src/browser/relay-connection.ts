import DHTRelay from '@hyperswarm/dht-relay'
import RelayStream from '@hyperswarm/dht-relay/ws'
import { ShadwError } from '../core/errors.ts'
import { log } from '../core/log.ts'
import { describeValue } from '../core/describe.ts'

const debug = log('relay-connection')

/** How long a browser waits for the relay's WebSocket to open before giving up. */
export const RELAY_CONNECT_TIMEOUT_MS = 5_000

/** Checks a relay URL before any socket is opened; returns it normalised. */
export function validateRelayUrl (url: unknown): string {
  if (typeof url !== 'string') throw ShadwError.INVALID_RELAY_URL(describeValue(url))
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw ShadwError.INVALID_RELAY_URL(url)
  }
  if (parsed.protocol !== 'ws:' && parsed.protocol !== 'wss:') throw ShadwError.INVALID_RELAY_URL(url)
  return parsed.href
}

/** The relay URL of the super node that served this page: same host, path `/relay`. */
export function defaultRelayUrl (location: { protocol: string, host: string }): string {
  return `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/relay`
}

/** An open relay: a DHT-compatible object for Hyperswarm and the socket under it. */
export interface RelayConnection {
  dht: DHTRelay
  socket: WebSocket
  /** resolves when the socket closes, for whatever reason */
  closed: Promise<void>
}

/**
 * Opens a WebSocket to a super node's DHT relay and wraps it as a DHT for Hyperswarm.
 *
 * Non-custodial: the relay never sees this node's secret key; Noise handshakes are signed
 * here and only their messages cross the relay.
 */
export async function connectRelay (url: string, opts: { timeoutMs?: number, signal?: AbortSignal } = {}): Promise<RelayConnection> {
  const href = validateRelayUrl(url)
  const timeoutMs = opts.timeoutMs ?? RELAY_CONNECT_TIMEOUT_MS
  opts.signal?.throwIfAborted()
  const socket = new WebSocket(href)
  socket.binaryType = 'arraybuffer'
  const closed = new Promise<void>(resolve => { socket.addEventListener('close', () => { resolve() }, { once: true }) })

  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { fail(ShadwError.TIMEOUT(`relay ${href}`, timeoutMs)) }, timeoutMs)
    const onAbort = (): void => { fail(ShadwError.ABORTED('relay connect aborted')) }
    const cleanup = (): void => {
      clearTimeout(timer)
      opts.signal?.removeEventListener('abort', onAbort)
      socket.removeEventListener('open', onOpen)
      socket.removeEventListener('close', onClose)
    }
    const fail = (err: unknown): void => {
      cleanup()
      socket.close()
      reject(ShadwError.RELAY_UNREACHABLE(href, err))
    }
    const onOpen = (): void => { cleanup(); resolve() }
    // 'error' on a WebSocket carries no reason; 'close' always follows it
    const onClose = (ev: CloseEvent): void => { fail(new Error(`closed with code ${ev.code}`)) }
    socket.addEventListener('open', onOpen)
    socket.addEventListener('close', onClose)
    opts.signal?.addEventListener('abort', onAbort, { once: true })
  })

  // The relay node gets a throwaway key pair of its own: Hyperswarm listens with the node's
  // identity through it, and the relay refuses a second server on a key already in use.
  const stream = new RelayStream(true, socket)
  stream.on('error', (err: Error) => { debug('relay stream failed:', err.message) })
  const dht = new DHTRelay(stream, { custodial: false })
  return { dht, socket, closed }
}

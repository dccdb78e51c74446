/**
 * Getting a ready `LitNodeClient`, loaded on first use only (`import()`), with every wait
 * bounded.
 *
 * - {@link connectLit}: the production path, `LitNodeClient.connect()` against a Lit network
 *   (default `datil`). Unbounded, `connect()` can hang for minutes without a network (its
 *   contract reads go through an ethers provider with a two-minute timeout); here it is raced
 *   against a deadline and the caller's AbortSignal, and fails with `LIT_UNAVAILABLE`.
 * - {@link attachLit}: a real `LitNodeClient` put into the state a completed handshake leaves
 *   (node URLs, subnet public key, threshold), for a Lit network we run ourselves (the
 *   loopback stand-in in the tests). Everything past the HTTP boundary is unmodified SDK code.
 *
 * Lit 7's crypto package `console.log`s the combined BLS signature on every decryption, and
 * that signature is the decryption key of the ciphertext: {@link loadLit} filters exactly that
 * line (and the wasm loader's deprecation warning) out of the console, nothing else.
 */
import type { AuthSig } from '@lit-protocol/types'
import { ShadwError } from '../errors.ts'
import type { AccessConditions } from './conditions.ts'

/** The Lit network used when none is named: the current production network of Lit 7. */
export const DEFAULT_LIT_NETWORK = 'datil'
/** Bound on `connect()`: a handshake with a healthy network takes one or two seconds. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000
/** The line Lit 7.4's crypto package logs on decryption, followed by the decryption key. */
const LEAKY_LOG_PREFIX = 'signature from encrypt op: '
/** The wasm-bindgen loader's warning, printed once per process by Lit's wasm package. */
const WASM_INIT_WARNING = 'using deprecated parameters for `initSync()`; pass a single object instead'

/** What shadw needs of a Lit client: the two calls, and a way to let it go. */
export interface LitClient {
  encrypt (params: AccessConditions & { dataToEncrypt: Uint8Array }): Promise<{ ciphertext: string, dataToEncryptHash: string }>
  decrypt (params: AccessConditions & { ciphertext: string, dataToEncryptHash: string, chain: string, authSig: AuthSig }): Promise<{ decryptedData: Uint8Array }>
  disconnect (): Promise<void>
}

/** Options of {@link connectLit}. */
export interface ConnectLitOptions {
  /** Lit network name (default {@link DEFAULT_LIT_NETWORK}) */
  network?: string
  /** JSON-RPC URL of the chain that holds Lit's contracts (default: the SDK's for the network) */
  rpcUrl?: string
  /** default {@link DEFAULT_CONNECT_TIMEOUT_MS} */
  timeoutMs?: number
  signal?: AbortSignal
}

/** The state a completed handshake leaves in a client: what {@link attachLit} sets. */
export interface LitNetworkState {
  /** base URLs of the Lit nodes, e.g. `http://127.0.0.1:7470` */
  nodeUrls: string[]
  /** the network's BLS public key (48-byte G1 point, hex) that ciphertexts are encrypted to */
  subnetPubKey: string
  /** how many node answers a request needs (the threshold) */
  minNodeCount: number
  /** reported by nodes in the handshake; decryption does not use it */
  latestBlockhash?: string
}

type LitModule = typeof import('@lit-protocol/lit-node-client')

let loading: Promise<LitModule> | null = null

/** Loads `@lit-protocol/lit-node-client` once, on first use. */
export async function loadLit (): Promise<LitModule> {
  if (loading === null) {
    quietLitConsole()
    loading = provideBuffer().then(async () => await import('@lit-protocol/lit-node-client')).catch((err: unknown) => {
      loading = null
      throw ShadwError.LIT_UNAVAILABLE('cannot load @lit-protocol/lit-node-client', err)
    })
  }
  return await loading
}

/**
 * Connects to a Lit network, within a deadline.
 *
 * @throws ShadwError `LIT_UNAVAILABLE` when the network does not answer in time or fails;
 *   `ABORTED` when `signal` fires.
 */
export async function connectLit (options: ConnectLitOptions = {}): Promise<LitClient> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
  const network = options.network ?? DEFAULT_LIT_NETWORK
  const { LitNodeClient } = await loadLit()
  const client = new LitNodeClient({
    litNetwork: network as never,
    debug: false,
    alertWhenUnauthorized: false,
    connectTimeout: timeoutMs,
    ...(options.rpcUrl === undefined ? {} : { rpcUrl: options.rpcUrl })
  })
  const connecting = client.connect()
  try {
    await withDeadline(connecting, timeoutMs, options.signal, `connecting to Lit network ${network}`)
  } catch (err) {
    // connect() cannot be cancelled: when it settles late, release whatever it set up
    // (it starts listening on the staking contract, which polls an RPC provider)
    connecting.then(() => client.disconnect(), () => client.disconnect()).catch(() => {})
    throw err
  }
  return client as unknown as LitClient
}

/**
 * A real `LitNodeClient` in the state a completed handshake with `state.nodeUrls` leaves,
 * without running the handshake (which also reads Lit's contracts on chain).
 */
export async function attachLit (state: LitNetworkState): Promise<LitClient> {
  if (state.nodeUrls.length === 0 || state.minNodeCount < 1 || state.minNodeCount > state.nodeUrls.length) {
    throw ShadwError.INVALID_ARGUMENT('need at least minNodeCount node URLs and minNodeCount >= 1')
  }
  if (!/^(0x)?[0-9a-fA-F]{96}$/.test(state.subnetPubKey)) throw ShadwError.INVALID_ARGUMENT('subnetPubKey must be a 48-byte hex BLS public key')
  const { LitNodeClient } = await loadLit()
  const config = { litNetwork: 'custom', debug: false, alertWhenUnauthorized: false, bootstrapUrls: state.nodeUrls, minNodeCount: state.minNodeCount }
  const client = new LitNodeClient(config as ConstructorParameters<typeof LitNodeClient>[0])
  const keys = { subnetPubKey: state.subnetPubKey, networkPubKey: state.subnetPubKey, latestBlockhash: state.latestBlockhash ?? '0x' + '00'.repeat(32) }
  // the fields LitCore._connect() assigns after _runHandshakeWithBootstrapUrls()
  Object.assign(client, {
    ...keys,
    lastBlockHashRetrieved: Date.now(),
    connectedNodes: new Set(state.nodeUrls),
    serverKeys: Object.fromEntries(state.nodeUrls.map(url => [url, { serverPubKey: '', ...keys }])),
    ready: true
  })
  return client as unknown as LitClient
}

/**
 * Resolves as `promise` does, or rejects with `LIT_UNAVAILABLE` after `ms`, or `ABORTED`
 * when `signal` fires; the timer never outlives the race.
 */
export async function withDeadline<T> (promise: Promise<T>, ms: number, signal: AbortSignal | undefined, what: string): Promise<T> {
  if (signal?.aborted === true) throw ShadwError.ABORTED()
  let timer: ReturnType<typeof setTimeout> | undefined
  let onAbort: (() => void) | undefined
  const bounded = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(ShadwError.LIT_UNAVAILABLE(`${what}: no answer within ${ms} ms`, undefined, { ms })), ms)
    onAbort = () => reject(ShadwError.ABORTED())
    signal?.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise, bounded])
  } catch (err) {
    if (err instanceof ShadwError) throw err
    throw ShadwError.LIT_UNAVAILABLE(`${what} failed: ${litMessage(err)}`, err)
  } finally {
    clearTimeout(timer)
    if (onAbort !== undefined) signal?.removeEventListener('abort', onAbort)
  }
}

/** A short, single-line description of an error thrown by the Lit SDK or a Lit node. */
export function litMessage (err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0]?.slice(0, 300) ?? ''
  try {
    return JSON.stringify(err).slice(0, 300)
  } catch {
    return String(err).slice(0, 300)
  }
}

/** Lit 7 uses Node's `Buffer` as a global (its crypto package, its client); browsers have none. */
async function provideBuffer (): Promise<void> {
  const g = globalThis as { Buffer?: unknown }
  if (g.Buffer !== undefined) return
  const { Buffer } = await import('buffer')
  g.Buffer ??= Buffer
}

let quieted = false

function quietLitConsole (): void {
  if (quieted) return
  quieted = true
  const log = console.log.bind(console)
  const warn = console.warn.bind(console)
  console.log = (...args: unknown[]) => {
    if (args[0] === LEAKY_LOG_PREFIX) return
    log(...args)
  }
  console.warn = (...args: unknown[]) => {
    if (args[0] === WASM_INIT_WARNING) return
    warn(...args)
  }
}

/**
 * Chain reads for condition checks: JSON-RPC through viem to the endpoints the operator
 * configured per chain (`shadw start --rpc CHAIN=URL[,URL…]`, chain named as Lit names it).
 *
 * - Every read is made at one block number, on every endpoint of the chain, and the answers
 *   must be identical (`CHAIN_RPC_DISAGREE` otherwise): one lying endpoint cannot grant.
 * - Each endpoint is checked once to serve the chain id Lit gives the chain's name.
 * - Every request is bounded in time (no retries) and in answer size; contract calls are
 *   bounded in gas, so a condition cannot make the node wait or allocate without limit.
 * - Reads are counted per tenant in a token bucket (`CHAIN_RATE_LIMITED`).
 */
import { LIT_CHAINS } from '@lit-protocol/constants'
import {
  type Address, type Hex, type PublicClient, BaseError, createPublicClient, hashMessage, http, HttpRequestError, TimeoutError
} from 'viem'
import { ShadwError } from '../errors.ts'
import { SolanaReader, isSolanaChain, lowestHead } from './solana-rpc.ts'

/** Bound on one JSON-RPC request (viem's default is 10 s; a condition check must be quicker). */
export const DEFAULT_RPC_TIMEOUT_MS = 5_000
/** Largest JSON-RPC answer read; a balance or a view's answer is a few hundred bytes. */
export const DEFAULT_MAX_RPC_RESPONSE_BYTES = 64 * 1024
/** Gas given to a condition's contract call: ample for a view (a token balance costs under 30 000), short for a loop. */
export const DEFAULT_CALL_GAS = 1_000_000n
/** Chain reads one tenant may make per minute on this node (cache hits are free). */
export const DEFAULT_READS_PER_MINUTE = 120
/** Tenants whose read budget is tracked at once; the least recently seen is forgotten first. */
const MAX_TRACKED_TENANTS = 10_000

/** What an endpoint map looks like: Lit chain name → JSON-RPC URLs. */
export type RpcEndpoints = Readonly<Record<string, readonly string[]>>

/** Options of {@link ChainReader}. */
export interface ChainReaderOptions {
  /** Lit chain name (EVM, or solana, solanaDevnet, solanaTestnet) → URLs */
  endpoints: RpcEndpoints
  /** default {@link DEFAULT_RPC_TIMEOUT_MS} */
  timeoutMs?: number
  /** default {@link DEFAULT_MAX_RPC_RESPONSE_BYTES} */
  maxResponseBytes?: number
  /** default {@link DEFAULT_CALL_GAS} */
  callGas?: bigint
  /** default {@link DEFAULT_READS_PER_MINUTE} */
  readsPerMinute?: number
  /** clock, ms since the epoch (default `Date.now`) */
  now?: () => number
  /** fetch to use (default `globalThis.fetch`) */
  fetch?: typeof fetch
}

/** Parses `CHAIN=URL[,URL…]` (repeatable) into an endpoint map. */
export function parseRpcOption (values: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const value of values) {
    const at = value.indexOf('=')
    const chain = value.slice(0, at).trim()
    const urls = value.slice(at + 1).split(',').map(u => u.trim()).filter(Boolean)
    if (at <= 0 || urls.length === 0) throw ShadwError.INVALID_ARGUMENT(`--rpc takes CHAIN=URL[,URL…], got ${JSON.stringify(value)}`)
    if (chainIdOf(chain) === undefined && !isSolanaChain(chain)) throw ShadwError.INVALID_ARGUMENT(`unknown chain ${JSON.stringify(chain)}: use a Lit chain name (ethereum, polygon, base, sepolia, solana, …)`)
    for (const url of urls) {
      let parsed: URL
      try { parsed = new URL(url) } catch { throw ShadwError.INVALID_ARGUMENT(`not a URL: ${JSON.stringify(url)}`) }
      if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw ShadwError.INVALID_ARGUMENT(`RPC URLs must be http(s): ${JSON.stringify(url)}`)
    }
    out[chain] = [...(out[chain] ?? []), ...urls]
  }
  return out
}

/** The EVM chain id Lit gives a chain name, or undefined for names that are not EVM chains. */
export function chainIdOf (chain: string): number | undefined {
  const entry = (LIT_CHAINS as Record<string, { chainId?: unknown, vmType?: unknown } | undefined>)[chain]
  return entry?.vmType === 'EVM' && typeof entry.chainId === 'number' ? entry.chainId : undefined
}

/** A chain call for the reader. */
export interface CallRequest { to: Address, data: Hex }

interface Endpoint { url: string, client: PublicClient, checked: Promise<void> | null }

/**
 * Reads chain state for condition checks.
 *
 * @example
 * ```ts
 * const reader = new ChainReader({ endpoints: { ethereum: ['https://rpc-a.example', 'https://rpc-b.example'] } })
 * const block = await reader.head('ethereum', tenant)
 * const wei = await reader.balance('ethereum', address, block, tenant)
 * ```
 */
export class ChainReader {
  private readonly chains = new Map<string, Endpoint[]>()
  private readonly timeoutMs: number
  private readonly maxResponseBytes: number
  readonly callGas: bigint
  private readonly readsPerMinute: number
  private readonly now: () => number
  private readonly buckets = new Map<string, { tokens: number, at: number }>()
  /** the Solana clusters' reads (solana-rpc.ts), charged to the same budgets */
  readonly solana: SolanaReader

  constructor (options: ChainReaderOptions) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_RPC_TIMEOUT_MS
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RPC_RESPONSE_BYTES
    this.callGas = options.callGas ?? DEFAULT_CALL_GAS
    this.readsPerMinute = options.readsPerMinute ?? DEFAULT_READS_PER_MINUTE
    this.now = options.now ?? Date.now
    const fetchFn = boundedFetch(options.fetch ?? globalThis.fetch.bind(globalThis), this.maxResponseBytes)
    const solana: Record<string, readonly string[]> = {}
    for (const [chain, urls] of Object.entries(options.endpoints)) {
      if (isSolanaChain(chain)) { solana[chain] = urls; continue }
      if (chainIdOf(chain) === undefined) throw ShadwError.INVALID_ARGUMENT(`unknown chain ${JSON.stringify(chain)}`)
      if (urls.length === 0) continue
      this.chains.set(chain, urls.map(url => ({
        url,
        client: createPublicClient({ transport: http(url, { timeout: this.timeoutMs, retryCount: 0, batch: false, fetchFn }) }),
        checked: null
      })))
    }
    this.solana = new SolanaReader({ endpoints: solana, fetch: fetchFn, timeoutMs: this.timeoutMs, charge: (tenant, reads) => { this.charge(tenant, reads) } })
  }

  /** The chains this reader has endpoints for. */
  get configured (): string[] {
    return [...this.chains.keys(), ...this.solana.configured]
  }

  has (chain: string): boolean {
    return this.chains.has(chain) || this.solana.has(chain)
  }

  /**
   * The newest block every endpoint of `chain` has: the lowest of their heads, refused when
   * they are more than `tolerance` blocks apart (one of them is stale).
   */
  async head (chain: string, tenant: string, tolerance = 64n): Promise<bigint> {
    if (isSolanaChain(chain)) return await this.solana.head(chain, tenant, tolerance)
    const heads = await this.each(chain, tenant, async e => await e.client.getBlockNumber({ cacheTime: 0 }))
    return lowestHead(heads, chain, tolerance, 'blocks')
  }

  /** Native balance in wei at `block`; every endpoint must agree. */
  async balance (chain: string, address: Address, block: bigint, tenant: string): Promise<bigint> {
    return await this.agreed(chain, tenant, 'a balance', async e => await e.client.getBalance({ address, blockNumber: block }))
  }

  /** The timestamp (Unix seconds) of `block`; every endpoint must agree. */
  async timestamp (chain: string, block: bigint, tenant: string): Promise<bigint> {
    return await this.agreed(chain, tenant, 'a block timestamp', async e => (await e.client.getBlock({ blockNumber: block })).timestamp)
  }

  /**
   * `eth_call` at `block` with bounded gas; every endpoint must agree.
   *
   * @throws ShadwError `CONDITION_CALL_FAILED` when the call reverts, runs out of gas or
   *   answers more than the size bound; the reader's codes.
   */
  async call (chain: string, req: CallRequest, block: bigint, tenant: string): Promise<Hex> {
    return await this.agreed(chain, tenant, 'a contract call', async e => {
      const { data } = await e.client.call({ to: req.to, data: req.data, blockNumber: block, gas: this.callGas })
      return data ?? '0x'
    })
  }

  /**
   * Whether `signature` is `address`'s over the EIP-191 `message` at `block`: EIP-1271
   * (`isValidSignature` of a deployed wallet) and EIP-6492 (a wallet not yet deployed),
   * through viem's `verifyHash`; every endpoint must agree.
   */
  async verifyMessage (chain: string, address: Address, message: string, signature: Hex, block: bigint, tenant: string): Promise<boolean> {
    const hash = hashMessage(message)
    return await this.agreed(chain, tenant, 'a signature check', async e => await e.client.verifyHash({ address, hash, signature, blockNumber: block }))
  }

  /** Charges `tenant` one read per endpoint, or throws `CHAIN_RATE_LIMITED`. */
  private charge (tenant: string, reads: number): void {
    const now = this.now()
    const key = tenant.toLowerCase()
    const perMs = this.readsPerMinute / 60_000
    const prev = this.buckets.get(key)
    const tokens = Math.min(this.readsPerMinute, prev === undefined ? this.readsPerMinute : prev.tokens + (now - prev.at) * perMs)
    if (tokens < reads) throw ShadwError.CHAIN_RATE_LIMITED(tenant, { readsPerMinute: this.readsPerMinute })
    this.buckets.delete(key)
    if (this.buckets.size >= MAX_TRACKED_TENANTS) {
      const oldest = this.buckets.keys().next()
      if (oldest.done !== true) this.buckets.delete(oldest.value)
    }
    this.buckets.set(key, { tokens: tokens - reads, at: now })
  }

  private endpoints (chain: string): Endpoint[] {
    const list = this.chains.get(chain)
    if (list === undefined) throw ShadwError.CHAIN_UNCONFIGURED(chain)
    return list
  }

  /** Runs `read` on every endpoint (each checked to serve the right chain first). */
  private async each<T> (chain: string, tenant: string, read: (e: Endpoint) => Promise<T>): Promise<T[]> {
    const list = this.endpoints(chain)
    this.charge(tenant, list.length)
    const settled = await Promise.allSettled(list.map(async e => { await this.checkChainId(chain, e); return await read(e) }))
    const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected')
    if (failed.length === settled.length) throw classify(failed[0]?.reason, chain)
    if (failed.length > 0) {
      const reason = classify(failed[0]?.reason, chain)
      // an endpoint that answers while another reverts is a disagreement; one that is down is a failure
      if (reason.code === 'CONDITION_CALL_FAILED') throw ShadwError.CHAIN_RPC_DISAGREE(chain, 'whether a call reverts')
      throw reason
    }
    return settled.map(s => (s as PromiseFulfilledResult<T>).value)
  }

  private async agreed<T> (chain: string, tenant: string, what: string, read: (e: Endpoint) => Promise<T>): Promise<T> {
    const answers = await this.each(chain, tenant, read)
    const first = answers[0] as T
    const text = stringify(first)
    if (answers.some(a => stringify(a) !== text)) throw ShadwError.CHAIN_RPC_DISAGREE(chain, what)
    return first
  }

  private async checkChainId (chain: string, e: Endpoint): Promise<void> {
    if (e.checked === null) {
      const want = chainIdOf(chain)
      const checking = e.client.getChainId().then(got => {
        if (got !== want) throw ShadwError.CHAIN_RPC_FAILED(`${e.url} serves chain id ${got}, not ${JSON.stringify(chain)} (${String(want)})`, undefined, { chain, got, want })
      })
      e.checked = checking
      // a failed check (endpoint down) is tried again on the next read
      checking.catch(() => { if (e.checked === checking) e.checked = null })
    }
    await e.checked
  }
}

/** Marks a refusal of ours inside viem's error chain. */
class ResponseTooLarge extends Error { override name = 'ResponseTooLarge' }

function classify (err: unknown, chain: string): ShadwError {
  if (err instanceof ShadwError) return err
  const chainOf = { chain }
  const found = (test: (e: unknown) => boolean): unknown => {
    let e: unknown = err
    for (let i = 0; i < 12 && e !== undefined && e !== null; i++) {
      if (test(e)) return e
      e = (e as { cause?: unknown }).cause
    }
    return undefined
  }
  if (found(e => e instanceof ResponseTooLarge) !== undefined) return ShadwError.CONDITION_CALL_FAILED('the RPC answer is larger than this node reads', chainOf)
  if (found(e => e instanceof TimeoutError) !== undefined) return ShadwError.CHAIN_RPC_FAILED(`an RPC endpoint of ${JSON.stringify(chain)} did not answer in time`, undefined, chainOf)
  const message = err instanceof BaseError ? err.details + ' ' + err.shortMessage : err instanceof Error ? err.message : String(err)
  if (/revert|out of gas|invalid opcode|execution|gas required exceeds|stack/i.test(message) && found(e => e instanceof HttpRequestError) === undefined) {
    return ShadwError.CONDITION_CALL_FAILED('the condition\'s contract call failed: ' + message.slice(0, 200), chainOf)
  }
  return ShadwError.CHAIN_RPC_FAILED(`an RPC endpoint of ${JSON.stringify(chain)} failed: ${message.slice(0, 200)}`, undefined, chainOf)
}

function stringify (value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => typeof v === 'bigint' ? `${v}n` : v)
}

/** A fetch that refuses answers above `limit` bytes without reading further. */
function boundedFetch (inner: typeof fetch, limit: number): typeof fetch {
  return async (input, init) => {
    const res = await inner(input, init)
    const declared = Number(res.headers.get('content-length') ?? NaN)
    if (Number.isFinite(declared) && declared > limit) { await res.body?.cancel(); throw new ResponseTooLarge(`${declared} bytes`) }
    if (res.body === null) return res
    const reader = res.body.getReader()
    const chunks: Uint8Array[] = []
    let size = 0
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      size += value.byteLength
      if (size > limit) { await reader.cancel(); throw new ResponseTooLarge(`over ${limit} bytes`) }
      chunks.push(value)
    }
    const body = new Uint8Array(size)
    let at = 0
    for (const c of chunks) { body.set(c, at); at += c.byteLength }
    return new Response(body, { status: res.status, statusText: res.statusText, headers: res.headers })
  }
}

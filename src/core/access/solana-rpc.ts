/**
 * Solana reads for condition checks, over the JSON-RPC endpoints the operator configured
 * (`shadw start --rpc solana=URL[,URL…]`; also `solanaDevnet`, `solanaTestnet`, Lit's names).
 *
 * Written here rather than with `@solana/kit`: that library is not a dependency of the
 * isomorphic core (only of the test runtime), and the four methods read are one POST each.
 *
 * - Each endpoint is checked once to serve the cluster Lit's name means (`getGenesisHash`).
 * - Reads use commitment `finalized` (a finalized slot is never rolled back, so a decision
 *   at it cannot change) and `minContextSlot` = the pinned slot. A Solana node cannot read
 *   a past slot: it answers from its newest finalized state and says which slot that is. So
 *   an answer must come from the pinned slot or at most `window` slots later
 *   (`CHAIN_BLOCK_INVALID` otherwise): the pin bounds how fresh the state is, it does not
 *   replay history, unlike an EVM block pin.
 * - Every read goes to every endpoint; the values must be identical (`CHAIN_RPC_DISAGREE`);
 *   the slots they answer from may differ within the window.
 * - Requests are bounded in time (no retries) and answer size, and charged to the tenant's
 *   read budget by the {@link ChainReader} that owns this reader.
 */
import { utils } from 'ethers'
import { ShadwError } from '../errors.ts'

/** Lit's Solana chain names and the genesis hash of the cluster each means. */
export const SOLANA_GENESIS: Readonly<Record<string, string>> = {
  solana: '5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d',
  solanaDevnet: 'EtWTRABZaYq6iMfeYKouRu166VU2xqa1wcaWoxPkrZBG',
  solanaTestnet: '4uhcVJyU9pJkvQyS88uRDiswHXSCkY3zQawwpjk2NsNY'
}
/** The SPL Token program: token accounts owned by another program are not counted. */
export const TOKEN_PROGRAM = 'TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA'
/** Default slots an answer may be newer than the pin (about 25 s of Solana). */
export const DEFAULT_SLOT_WINDOW = 64n
/** Token accounts of one mint summed for one owner; more is refused, not truncated. */
const MAX_TOKEN_ACCOUNTS = 64
const TOKEN_ACCOUNT_SIZE = 165

/** True for the chain names Lit gives Solana clusters. */
export function isSolanaChain (chain: unknown): chain is string {
  return typeof chain === 'string' && Object.hasOwn(SOLANA_GENESIS, chain)
}

/** True when `value` is a base58 Solana public key (32 bytes). */
export function isSolanaAddress (value: unknown): value is string {
  if (typeof value !== 'string' || !/^[1-9A-HJ-NP-Za-km-z]{32,44}$/.test(value)) return false
  try { return utils.base58.decode(value).length === 32 } catch { return false }
}

/** Options of {@link SolanaReader}. */
export interface SolanaReaderOptions {
  /** Lit Solana chain name → URLs */
  endpoints: Readonly<Record<string, readonly string[]>>
  /** a fetch that bounds the answer size */
  fetch: typeof fetch
  timeoutMs: number
  /** charges `tenant` `reads` reads, or throws `CHAIN_RATE_LIMITED` */
  charge: (tenant: string, reads: number) => void
  /** default {@link DEFAULT_SLOT_WINDOW} */
  window?: bigint
}

interface Endpoint { url: string, checked: Promise<void> | null }
interface Answer<T> { slot: bigint, value: T }

/** Reads Solana state for condition checks; see the file header. */
export class SolanaReader {
  private readonly chains = new Map<string, Endpoint[]>()
  private readonly fetch: typeof fetch
  private readonly timeoutMs: number
  private readonly charge: (tenant: string, reads: number) => void
  private readonly window: bigint
  private id = 0

  constructor (options: SolanaReaderOptions) {
    this.fetch = options.fetch
    this.timeoutMs = options.timeoutMs
    this.charge = options.charge
    this.window = options.window ?? DEFAULT_SLOT_WINDOW
    for (const [chain, urls] of Object.entries(options.endpoints)) {
      if (!isSolanaChain(chain)) throw ShadwError.INVALID_ARGUMENT(`unknown Solana chain ${JSON.stringify(chain)}`)
      if (urls.length > 0) this.chains.set(chain, urls.map(url => ({ url, checked: null })))
    }
  }

  get configured (): string[] { return [...this.chains.keys()] }

  has (chain: string): boolean { return this.chains.has(chain) }

  /** The newest finalized slot every endpoint has; refused when they are more than `tolerance` apart. */
  async head (chain: string, tenant: string, tolerance: bigint): Promise<bigint> {
    const slots = await this.each(chain, tenant, async e => toSlot(await this.rpc(e, chain, 'getSlot', [{ commitment: 'finalized' }])))
    return lowestHead(slots, chain, tolerance, 'slots')
  }

  /** Lamports of `account` (0 when it does not exist). */
  async balance (chain: string, account: string, slot: bigint, tenant: string): Promise<bigint> {
    return await this.agreed(chain, tenant, 'a balance', async e => {
      const a = await this.read(e, chain, 'getBalance', [account, this.config(slot)], slot)
      return { slot: a.slot, value: toInteger(a.value, chain) }
    })
  }

  /** The raw amount held by the SPL token account `account`. */
  async tokenAccountBalance (chain: string, account: string, slot: bigint, tenant: string): Promise<bigint> {
    return await this.agreed(chain, tenant, 'a token account balance', async e => {
      const a = await this.read(e, chain, 'getTokenAccountBalance', [account, this.config(slot)], slot)
      const amount = (a.value as { amount?: unknown } | null)?.amount
      if (typeof amount !== 'string' || !/^\d{1,20}$/.test(amount)) throw malformed(chain, 'getTokenAccountBalance')
      return { slot: a.slot, value: BigInt(amount) }
    })
  }

  /**
   * The raw amount of `mint` that `owner` holds across its SPL token accounts of that mint,
   * read from the accounts' bytes (base64), not from a node's parsed view of them.
   */
  async tokenBalance (chain: string, owner: string, mint: string, slot: bigint, tenant: string): Promise<bigint> {
    const ownerBytes = utils.base58.decode(owner)
    const mintBytes = utils.base58.decode(mint)
    return await this.agreed(chain, tenant, 'a token balance', async e => {
      const a = await this.read(e, chain, 'getTokenAccountsByOwner', [owner, { mint }, { ...this.config(slot), encoding: 'base64' }], slot)
      if (!Array.isArray(a.value)) throw malformed(chain, 'getTokenAccountsByOwner')
      if (a.value.length > MAX_TOKEN_ACCOUNTS) throw ShadwError.CONDITION_CALL_FAILED(`${owner} has more than ${MAX_TOKEN_ACCOUNTS} token accounts of ${mint}`, { chain })
      let total = 0n
      for (const item of a.value as Array<{ account?: { owner?: unknown, data?: unknown } }>) {
        const data = item.account?.data
        if (item.account?.owner !== TOKEN_PROGRAM) continue
        if (!Array.isArray(data) || data[1] !== 'base64' || typeof data[0] !== 'string') throw malformed(chain, 'getTokenAccountsByOwner')
        const bytes = fromBase64(data[0], chain)
        // the node filtered by mint and owner; the bytes are checked anyway, so one endpoint
        // cannot count another mint's tokens without being caught by the others' answers
        if (bytes.length !== TOKEN_ACCOUNT_SIZE || !same(bytes.subarray(0, 32), mintBytes) || !same(bytes.subarray(32, 64), ownerBytes)) continue
        total += new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(64, true)
      }
      return { slot: a.slot, value: total }
    })
  }

  /** The owner program, lamports and executable flag of `account`, or null when it does not exist. */
  async accountInfo (chain: string, account: string, slot: bigint, tenant: string): Promise<{ owner: string, lamports: bigint, executable: boolean } | null> {
    return await this.agreed(chain, tenant, 'an account', async e => {
      const a = await this.read(e, chain, 'getAccountInfo', [account, { ...this.config(slot), encoding: 'base64', dataSlice: { offset: 0, length: 0 } }], slot)
      if (a.value === null) return { slot: a.slot, value: null }
      const v = a.value as { owner?: unknown, lamports?: unknown, executable?: unknown }
      if (typeof v.owner !== 'string' || typeof v.executable !== 'boolean') throw malformed(chain, 'getAccountInfo')
      return { slot: a.slot, value: { owner: v.owner, lamports: toInteger(v.lamports, chain), executable: v.executable } }
    })
  }

  private config (slot: bigint): Record<string, unknown> {
    return { commitment: 'finalized', minContextSlot: Number(slot) }
  }

  /** A context-wrapped read, refused when it answers from before the pin or too long after it. */
  private async read (e: Endpoint, chain: string, method: string, params: unknown[], pin: bigint): Promise<Answer<unknown>> {
    const result = await this.rpc(e, chain, method, params)
    const context = (result as { context?: { slot?: unknown } } | null)?.context
    if (context === undefined || !('value' in (result as object))) throw malformed(chain, method)
    const slot = toSlot(context.slot)
    if (slot < pin || slot - pin > this.window) throw ShadwError.CHAIN_BLOCK_INVALID(`${e.url} answered ${method} from slot ${slot}, not within ${this.window} slots after the pinned ${pin}`, { chain, pinned: String(pin), slot: String(slot) })
    return { slot, value: (result as { value: unknown }).value }
  }

  private async rpc (e: Endpoint, chain: string, method: string, params: unknown[]): Promise<unknown> {
    await this.checkCluster(chain, e)
    return await this.post(e, chain, method, params)
  }

  private async post (e: Endpoint, chain: string, method: string, params: unknown[]): Promise<unknown> {
    const id = ++this.id
    let body: { id?: unknown, result?: unknown, error?: { code?: unknown, message?: unknown } }
    try {
      const res = await this.fetch(e.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jsonrpc: '2.0', id, method, params }),
        signal: AbortSignal.timeout(this.timeoutMs)
      })
      if (!res.ok) throw new Error(`HTTP ${res.status}`)
      body = await res.json() as typeof body
    } catch (err) {
      if (err instanceof ShadwError) throw err
      const name = (err as { name?: unknown }).name
      if (name === 'TimeoutError' || name === 'AbortError') throw ShadwError.CHAIN_RPC_FAILED(`an RPC endpoint of ${JSON.stringify(chain)} did not answer in time`, undefined, { chain })
      if (name === 'ResponseTooLarge') throw ShadwError.CONDITION_CALL_FAILED('the RPC answer is larger than this node reads', { chain })
      throw ShadwError.CHAIN_RPC_FAILED(`an RPC endpoint of ${JSON.stringify(chain)} failed: ${String(err instanceof Error ? err.message : err).slice(0, 200)}`, undefined, { chain })
    }
    if (typeof body !== 'object' || body === null || body.id !== id) throw malformed(chain, method)
    if (body.error !== undefined) {
      const message = String(body.error.message ?? '').slice(0, 200)
      // the condition names an account that is not what its method reads (e.g. not a token account)
      if (body.error.code === -32602) throw ShadwError.CONDITION_CALL_FAILED(`${method} refused the condition's account: ${message}`, { chain })
      throw ShadwError.CHAIN_RPC_FAILED(`an RPC endpoint of ${JSON.stringify(chain)} refused ${method}: ${String(body.error.code)} ${message}`, undefined, { chain })
    }
    if (!('result' in body)) throw malformed(chain, method)
    return body.result
  }

  private endpoints (chain: string): Endpoint[] {
    const list = this.chains.get(chain)
    if (list === undefined) throw ShadwError.SOLANA_UNCONFIGURED(`this node has no RPC endpoint for ${JSON.stringify(chain)}, so it cannot evaluate conditions on it`)
    return list
  }

  private async each<T> (chain: string, tenant: string, read: (e: Endpoint) => Promise<T>): Promise<T[]> {
    const list = this.endpoints(chain)
    this.charge(tenant, list.length)
    const settled = await Promise.allSettled(list.map(read))
    const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected')
    if (failed.length === settled.length) throw failed[0]?.reason
    if (failed.length > 0) {
      const reason = failed[0]?.reason as ShadwError
      // one endpoint refuses the account while another reads it: they disagree on the state
      if (reason.code === 'CONDITION_CALL_FAILED') throw ShadwError.CHAIN_RPC_DISAGREE(chain, 'whether the condition\'s account can be read')
      throw reason
    }
    return settled.map(s => (s as PromiseFulfilledResult<T>).value)
  }

  private async agreed<T> (chain: string, tenant: string, what: string, read: (e: Endpoint) => Promise<Answer<T>>): Promise<T> {
    const answers = await this.each(chain, tenant, read)
    const text = stringify(answers[0]?.value)
    if (answers.some(a => stringify(a.value) !== text)) throw ShadwError.CHAIN_RPC_DISAGREE(chain, what, { slots: answers.map(a => String(a.slot)) })
    return (answers[0] as Answer<T>).value
  }

  private async checkCluster (chain: string, e: Endpoint): Promise<void> {
    if (e.checked === null) {
      const want = SOLANA_GENESIS[chain]
      const checking = this.post(e, chain, 'getGenesisHash', []).then(got => {
        if (got !== want) throw ShadwError.CHAIN_RPC_FAILED(`${e.url} serves the cluster with genesis ${String(got).slice(0, 64)}, not ${JSON.stringify(chain)} (${String(want)})`, undefined, { chain, got, want })
      })
      e.checked = checking
      // a failed check (endpoint down) is tried again on the next read
      checking.catch(() => { if (e.checked === checking) e.checked = null })
    }
    await e.checked
  }
}

function toSlot (value: unknown): bigint {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw ShadwError.CHAIN_RPC_FAILED('an RPC endpoint answered a slot that is not a non-negative integer')
  return BigInt(value)
}

/** Lamports as JSON numbers: exact below 2^53 (9 million SOL); above, refused rather than rounded. */
function toInteger (value: unknown, chain: string): bigint {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw ShadwError.CHAIN_RPC_FAILED(`an RPC endpoint of ${JSON.stringify(chain)} answered an amount this node cannot read exactly`, undefined, { chain })
  return BigInt(value)
}

function malformed (chain: string, method: string): ShadwError {
  return ShadwError.CHAIN_RPC_FAILED(`an RPC endpoint of ${JSON.stringify(chain)} answered ${method} with something that is not its answer`, undefined, { chain, method })
}

function fromBase64 (text: string, chain: string): Uint8Array {
  try {
    const bin = atob(text)
    const out = new Uint8Array(bin.length)
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
    return out
  } catch {
    throw malformed(chain, 'getTokenAccountsByOwner')
  }
}

function same (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function stringify (value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => typeof v === 'bigint' ? `${v}n` : v)
}

/**
 * The lowest of the heads the endpoints of `chain` answered (every one of them has it),
 * refused when they are more than `tolerance` apart: one of them is stale. Shared by the EVM
 * (`unit` blocks) and Solana (`unit` slots) readers.
 */
export function lowestHead (heads: bigint[], chain: string, tolerance: bigint, unit: 'blocks' | 'slots'): bigint {
  let min = heads[0] as bigint
  let max = min
  for (const h of heads) { if (h < min) min = h; if (h > max) max = h }
  if (max - min > tolerance) throw ShadwError.CHAIN_BLOCK_INVALID(`the RPC endpoints of ${JSON.stringify(chain)} are ${max - min} ${unit} apart: one is stale`, { chain, min: String(min), max: String(max) })
  return min
}

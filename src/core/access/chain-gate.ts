/**
 * The chain gate: conditions that need chain state, decided by this node over its own RPC
 * endpoints (see chain-rpc.ts, chain-conditions.ts), at one block per chain.
 *
 * Pinning: the caller may pin a block per chain (redundant executors then decide alike);
 * otherwise the gate pins the newest block all of the chain's endpoints have. A pin ahead
 * of that head, or more than `maxPinAge` blocks behind it, is refused (`CHAIN_BLOCK_INVALID`):
 * a tenant cannot pin the block before they sold their token. The blocks used are returned,
 * so the decision can be signed and re-checked later.
 *
 * Decisions at a pinned block cannot change (short of a reorg), so they are cached per
 * (conditions hash, address, blocks) in a bounded FIFO; heads are cached for `headTtlMs`.
 */
import { ShadwError } from '../errors.ts'
import type { AccessPolicy } from './conditions.ts'
import { chainsOf, evaluateOnChain } from './chain-conditions.ts'
import type { ChainReader } from './chain-rpc.ts'
import { isSolanaChain } from './solana-rpc.ts'

/** Default bound on how old a pinned block may be, in blocks (about 13 minutes on Ethereum). */
export const DEFAULT_MAX_PIN_AGE = 64n
/** Default time a chain's head is reused: cheap, and shorter than any block interval that matters. */
export const DEFAULT_HEAD_TTL_MS = 1_000
/** Default count of cached decisions. */
export const DEFAULT_DECISION_CACHE_ENTRIES = 10_000

/** Options of {@link ChainGate}. */
export interface ChainGateOptions {
  reader: ChainReader
  /** default {@link DEFAULT_MAX_PIN_AGE} */
  maxPinAge?: bigint
  /** default {@link DEFAULT_HEAD_TTL_MS} */
  headTtlMs?: number
  /** default {@link DEFAULT_DECISION_CACHE_ENTRIES} */
  maxCacheEntries?: number
  now?: () => number
}

/** A tenant known by an Ethereum and/or a Solana account (each from its own verified auth). */
export interface TenantAddresses { ethereum?: string, solana?: string }

/** A decision: whether the tenant passes, and at which block of each chain it was read. */
export interface ChainDecision {
  pass: boolean
  /** chain → block number (decimal) */
  blocks: Record<string, string>
  /** true when the decision came from the cache */
  cached: boolean
}

/**
 * Decides chain-state conditions for a verified address.
 *
 * @example
 * ```ts
 * const gate = new ChainGate({ reader: new ChainReader({ endpoints: { ethereum: [url] } }) })
 * const { pass, blocks } = await gate.decide(policy, address, { ethereum: 21_000_000n })
 * ```
 */
export class ChainGate {
  readonly reader: ChainReader
  private readonly maxPinAge: bigint
  private readonly headTtlMs: number
  private readonly maxCacheEntries: number
  private readonly now: () => number
  private readonly heads = new Map<string, { block: bigint, at: number }>()
  private readonly decisions = new Map<string, boolean>()

  constructor (options: ChainGateOptions) {
    this.reader = options.reader
    this.maxPinAge = options.maxPinAge ?? DEFAULT_MAX_PIN_AGE
    this.headTtlMs = options.headTtlMs ?? DEFAULT_HEAD_TTL_MS
    this.maxCacheEntries = options.maxCacheEntries ?? DEFAULT_DECISION_CACHE_ENTRIES
    this.now = options.now ?? Date.now
  }

  /** Number of cached decisions. */
  get cachedDecisions (): number {
    return this.decisions.size
  }

  /**
   * The newest block every endpoint of `chain` has (reused for `headTtlMs`).
   *
   * @throws ShadwError `CHAIN_UNCONFIGURED` and the reader's codes.
   */
  async head (chain: string, tenant: string): Promise<bigint> {
    const hit = this.heads.get(chain)
    const now = this.now()
    if (hit !== undefined && now - hit.at < this.headTtlMs) return hit.block
    const block = await this.reader.head(chain, tenant, this.maxPinAge)
    this.heads.set(chain, { block, at: now })
    return block
  }

  /** The block to read `chain` at: the caller's pin once checked, else the head. */
  async pin (chain: string, tenant: string, pinned: bigint | undefined): Promise<bigint> {
    if (!this.reader.has(chain)) throw isSolanaChain(chain) ? ShadwError.SOLANA_UNCONFIGURED() : ShadwError.CHAIN_UNCONFIGURED(chain)
    if (pinned === undefined) return await this.head(chain, tenant)
    let head = await this.head(chain, tenant)
    // the pin may be a block that arrived since the head was cached
    if (pinned > head && this.headTtlMs > 0) {
      this.heads.delete(chain)
      head = await this.head(chain, tenant)
    }
    if (pinned > head) throw ShadwError.CHAIN_BLOCK_INVALID(`block ${pinned} of ${chain} is ahead of this node's endpoints (at ${head})`, { chain, pinned: String(pinned), head: String(head) })
    if (head - pinned > this.maxPinAge) throw ShadwError.CHAIN_BLOCK_INVALID(`block ${pinned} of ${chain} is more than ${this.maxPinAge} blocks old (head ${head})`, { chain, pinned: String(pinned), head: String(head) })
    return pinned
  }

  /**
   * Decides `policy` for `address`, reading each chain at its pinned block. A tenant signed in
   * with both an Ethereum and a Solana account (Lit's per-family auth) gives both: EVM
   * conditions then read `ethereum`, Solana ones `solana`.
   *
   * @throws ShadwError the codes of chain-conditions.ts and chain-rpc.ts, `CHAIN_BLOCK_INVALID`.
   */
  async decide (policy: AccessPolicy, tenant: string | TenantAddresses, pins: Readonly<Record<string, bigint>> = {}): Promise<ChainDecision> {
    if (policy.public) return { pass: true, blocks: {}, cached: false }
    const address = typeof tenant === 'string' ? tenant : tenant.ethereum ?? tenant.solana
    if (address === undefined) throw ShadwError.INVALID_ARGUMENT('a tenant needs an address')
    const solanaAddress = typeof tenant === 'string' || tenant.ethereum === undefined ? undefined : tenant.solana
    const chains = chainsOf(policy).sort()
    const blocks = new Map<string, bigint>()
    await Promise.all(chains.map(async chain => { blocks.set(chain, await this.pin(chain, address, pins[chain])) }))
    const record: Record<string, string> = {}
    for (const chain of chains) record[chain] = String(blocks.get(chain))
    // base58 is case-sensitive: only EVM addresses are folded
    const who = [address, solanaAddress ?? ''].map(a => a.startsWith('0x') ? a.toLowerCase() : a).join('+')
    const key = `${policy.hash}|${who}|${chains.map(c => `${c}:${record[c]}`).join(',')}`
    const hit = this.decisions.get(key)
    if (hit !== undefined) return { pass: hit, blocks: record, cached: true }
    const pass = await evaluateOnChain(policy, {
      reader: this.reader,
      address,
      ...(solanaAddress === undefined ? {} : { solanaAddress }),
      block: async chain => {
        const b = blocks.get(chain)
        if (b === undefined) throw ShadwError.CHAIN_UNCONFIGURED(chain)
        return b
      }
    })
    this.remember(key, pass)
    return { pass, blocks: record, cached: false }
  }

  private remember (key: string, pass: boolean): void {
    while (this.decisions.size >= this.maxCacheEntries) {
      const oldest = this.decisions.keys().next()
      if (oldest.done === true) break
      this.decisions.delete(oldest.value)
    }
    this.decisions.set(key, pass)
  }
}

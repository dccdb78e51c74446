/**
 * The one question a node asks before running a function for a tenant: may they?
 *
 * 1. public conditions: yes, no identity needed;
 * 2. otherwise verify the tenant's SIWE (or, for a Solana account, SIWS) auth offline (domain, function, expiry, nonce); the
 *    domain must be one the function's publisher listed, or, without a list, this node's own;
 *    a signature no EOA made is checked as a contract wallet's (EIP-1271/6492) over the
 *    node's RPC endpoint for the message's chain id;
 * 3. decide locally when the conditions depend only on the address and time;
 * 4. otherwise read the chain through this node's {@link ChainGate} (its `--rpc` endpoints)
 *    at a pinned block; a node without one falls back to the optional Lit adapter
 *    ({@link LitGate}) only when the operator enabled it; else `CHAIN_UNCONFIGURED`.
 */
import { untilAborted } from '../abort.ts'
import { ShadwError } from '../errors.ts'
import { type AccessPolicy, checkConditions } from './conditions.ts'
import { chainsOf } from './chain-conditions.ts'
import type { ChainGate, TenantAddresses } from './chain-gate.ts'
import { chainIdOf } from './chain-rpc.ts'
import type { FunctionId } from './function-id.ts'
import type { LitGate, LitSecret } from './lit-gate.ts'
import { evaluateLocally } from './local-conditions.ts'
import { ReplayGuard } from './replay-guard.ts'
import { isSolanaAddress, isSolanaChain } from './solana-rpc.ts'
import { type ContractSignatureCheck, verifyAuth, verifyAuthWith, type VerifiedAuth, type VerifyAuthOptions } from './siwe-auth.ts'

/** How a call was let through. */
export type AccessPath = 'public' | 'local' | 'chain' | 'lit'

/** A positive decision. */
export interface AccessGrant {
  path: AccessPath
  /** the tenant's verified address; null for public functions */
  address: string | null
  /** for path `chain`: the block each chain was read at (chain → decimal block number) */
  blocks?: Record<string, string>
}

/** Options of {@link AccessGate}. */
export interface AccessGateOptions {
  /** this node's app domain (host[:port]): what auth must name for functions whose manifest lists no domains */
  domain: string
  /** reads chain state over this node's RPC endpoints: the default path for conditions that need it */
  chain?: ChainGate
  /** the optional Lit adapter, off unless the operator enables it; used only without `chain` */
  lit?: LitGate
  /** default: a new {@link ReplayGuard} */
  replay?: ReplayGuard
  /** clock, ms since the epoch (default `Date.now`) */
  now?: () => number
}

/** One call to authorize. */
export interface AccessRequest {
  fn: FunctionId
  /** the manifest's conditions, as received (checked here unless `policy` is given) */
  access?: unknown
  /** the result of `checkConditions(access)` when the caller already has it (e.g. cached per manifest) */
  policy?: AccessPolicy
  /**
   * the manifest's `authDomains`: when given (non-empty), auth must name one of them, and
   * this node's own domain is not accepted unless listed (docs/access.md)
   */
  domains?: readonly string[]
  /** the manifest's Lit secret; required when the conditions need the Lit gate */
  litSecret?: LitSecret
  /** the tenant's auth signature (a Lit AuthSig over a SIWE message) */
  auth?: unknown
  /** blocks to read chains at (chain → block), pinned by the caller so redundant executors decide alike */
  blocks?: Readonly<Record<string, bigint>>
  /** the call the auth must be bound to (`shadw:call:`, 64 hex): a key fetched for a call */
  call?: string
  /** a key holder's check of a key fetched for a call: the auth must name this key id or be bound to `fn` (siwe-auth.ts) */
  key?: string
  /** the node asking (hex): the auth's nonce is then spent per requester (replay-guard.ts) */
  requester?: string
  signal?: AbortSignal
}

/**
 * Authorizes calls: throws a typed error for every refusal, returns how the call got through.
 *
 * @example
 * ```ts
 * const gate = new AccessGate({ domain: 'shadw.example', lit: new LitGate({ connect: s => connectLit({ signal: s }) }) })
 * await gate.authorize({ fn, access: manifest.access, domains: manifest.authDomains, litSecret, auth })
 * ```
 */
export class AccessGate {
  readonly domain: string
  private readonly lit: LitGate | undefined
  private readonly chain: ChainGate | undefined
  private readonly replay: ReplayGuard
  private readonly now: () => number

  constructor (options: AccessGateOptions) {
    if (typeof options.domain !== 'string' || options.domain === '') throw ShadwError.INVALID_ARGUMENT('domain is required')
    this.domain = options.domain
    this.lit = options.lit
    this.chain = options.chain
    this.now = options.now ?? Date.now
    this.replay = options.replay ?? new ReplayGuard({ now: this.now })
  }

  /**
   * @throws ShadwError `ACCESS_CONDITIONS_INVALID`, `AUTH_MALFORMED`, `AUTH_FORGED`,
   *   `AUTH_EXPIRED`, `AUTH_WRONG_DOMAIN`, `AUTH_WRONG_FUNCTION`, `AUTH_WRONG_CALL`, `AUTH_REPLAYED`,
   *   `ACCESS_DENIED`, `LIT_UNAVAILABLE`, `ABORTED`, `BUSY` (replay set full), and the chain
   *   gate's `CHAIN_*`, `CONDITION_*`, `SOLANA_UNCONFIGURED`.
   */
  async authorize (req: AccessRequest): Promise<AccessGrant> {
    const policy = req.policy ?? await checkConditions(req.access)
    if (policy.public) return { path: 'public', address: null }
    if (req.auth === undefined || req.auth === null) throw ShadwError.AUTH_MALFORMED('this function needs an auth signature')
    const now = this.now()
    // the publisher's signed list, when there is one, so every executor accepts the same auth
    const domain = req.domains !== undefined && req.domains.length > 0 ? req.domains : this.domain
    const bound = { ...(req.call === undefined ? {} : { call: req.call }), ...(req.key === undefined ? {} : { key: req.key }), ...(req.requester === undefined ? {} : { replayScope: req.requester }) }
    const auth = await this.identify(req.auth, { domain, fn: req.fn, now, replay: this.replay, ...bound })
    const verdict = evaluateLocally(policy, { address: auth.address, now })
    if (verdict === 'allow') return { path: 'local', address: auth.address }
    if (verdict === 'deny') throw ShadwError.ACCESS_DENIED('access conditions not met', { address: auth.address })
    if (this.chain !== undefined || this.lit === undefined) {
      if (this.chain === undefined) {
        const evm = chainsOf(policy).find(c => !isSolanaChain(c))
        throw evm === undefined && chainsOf(policy).length > 0 ? ShadwError.SOLANA_UNCONFIGURED() : ShadwError.CHAIN_UNCONFIGURED(evm ?? 'any')
      }
      if (req.signal?.aborted === true) throw ShadwError.ABORTED()
      const decision = await untilAborted(this.chain.decide(policy, auth.addresses, req.blocks), req.signal)
      if (!decision.pass) throw ShadwError.ACCESS_DENIED('access conditions not met', { address: auth.address, blocks: decision.blocks })
      return { path: 'chain', address: auth.address, blocks: decision.blocks }
    }
    if (req.litSecret === undefined) throw ShadwError.ACCESS_CONDITIONS_INVALID('these conditions need chain state, but the manifest carries no Lit secret')
    if (this.lit === undefined) throw ShadwError.LIT_UNAVAILABLE('this node has no Lit gate configured')
    await this.lit.check({ fn: req.fn, policy, auth: auth.verified, secret: req.litSecret, ...(req.signal === undefined ? {} : { signal: req.signal }) })
    return { path: 'lit', address: auth.address }
  }

  /**
   * Verifies one auth, or Lit's per-family map `{ ethereum?, solana? }` (a tenant signed in
   * with both kinds of account, for unified conditions naming `:userAddress` on both). Every
   * auth of a map gets every check; the Solana one is checked before any nonce is spent.
   */
  private async identify (value: unknown, opts: VerifyAuthOptions): Promise<{ address: string, addresses: TenantAddresses, verified: VerifiedAuth }> {
    const map = authMap(value)
    if (map === null) {
      const one = await verifyAuthWith(value, opts, this.contractCheck())
      return { address: one.address, addresses: isSolanaAddress(one.address) ? { solana: one.address } : { ethereum: one.address }, verified: one }
    }
    const { replay: _spentLater, ...dry } = opts
    if (map.solana !== undefined) verifyAuth(map.solana, dry)
    const eth = map.ethereum === undefined ? undefined : await verifyAuthWith(map.ethereum, opts, this.contractCheck())
    const sol = map.solana === undefined ? undefined : verifyAuth(map.solana, opts)
    if (eth !== undefined && isSolanaAddress(eth.address)) throw ShadwError.AUTH_MALFORMED('the auth map\'s "ethereum" entry is a Solana account\'s')
    if (sol !== undefined && !isSolanaAddress(sol.address)) throw ShadwError.AUTH_MALFORMED('the auth map\'s "solana" entry is not a Solana account\'s')
    const verified = (eth ?? sol) as VerifiedAuth
    return { address: verified.address, verified, addresses: { ...(eth === undefined ? {} : { ethereum: eth.address }), ...(sol === undefined ? {} : { solana: sol.address }) } }
  }

  /**
   * The block this node would read each chain of `access` at now (decimal), for a caller that
   * pins one block for all its redundant executors. Best effort: conditions that do not check,
   * chains without an endpoint here, and heads that cannot be read are left out (the call then
   * fails or pins as it would have). `tenant` is charged the reads, like a call's.
   */
  async heads (access: unknown, tenant: string): Promise<Record<string, string>> {
    const gate = this.chain
    if (gate === undefined) return {}
    let policy: AccessPolicy
    try {
      policy = await checkConditions(access)
    } catch {
      return {}
    }
    const chains = chainsOf(policy).filter(c => gate.reader.has(c)).sort()
    const heads = await Promise.all(chains.map(async c => await gate.head(c, tenant).then(String, () => null)))
    const out: Record<string, string> = {}
    chains.forEach((c, i) => { const h = heads[i]; if (h !== null && h !== undefined) out[c] = h })
    return out
  }

  /** EIP-1271/6492 checks over the endpoint of the SIWE message's chain id, when this node has one. */
  private contractCheck (): ContractSignatureCheck | undefined {
    const gate = this.chain
    if (gate === undefined) return undefined
    return async (address, message, signature, chainId) => {
      const chain = gate.reader.configured.find(c => chainIdOf(c) === chainId)
      if (chain === undefined) return false
      const tenant = 'auth:' + address.toLowerCase()
      const block = await gate.head(chain, tenant)
      return await gate.reader.verifyMessage(chain, address as `0x${string}`, message, signature as `0x${string}`, block, tenant)
    }
  }
}

/** Lit's per-family auth map (`{ ethereum?, solana? }`, at least one), or null for a single auth. */
function authMap (value: unknown): { ethereum?: unknown, solana?: unknown } | null {
  if (typeof value !== 'object' || value === null || 'sig' in value) return null
  const keys = Object.keys(value)
  if (keys.length === 0 || keys.some(k => k !== 'ethereum' && k !== 'solana')) return null
  return value as { ethereum?: unknown, solana?: unknown }
}

/**
 * Lit's Solana RPC conditions (`solRpcConditions`, and `conditionType: 'solRpc'` in unified
 * conditions), evaluated by this node over its Solana endpoints (solana-rpc.ts) at the
 * pinned slot, with the meaning Lit's documentation gives them:
 *
 * | condition | Lit fields | read |
 * | --- | --- | --- |
 * | wallet address | `method: ''`, `params: [':userAddress']`, value a public key | none |
 * | SOL balance | `method: 'getBalance'`, `params: [account]`, key `''`, lamports | `getBalance` |
 * | token balance | `method: 'balanceOfToken'`, `params: [mint]`, key `'$.amount'` | `getTokenAccountsByOwner` (the tenant's accounts of the mint) |
 * | token account | `method: 'getTokenAccountBalance'`, `params: [tokenAccount]`, key `'$.amount'` | `getTokenAccountBalance` |
 * | account | `method: 'getAccountInfo'`, `params: [account]`, key `'$.owner'`, `'$.lamports'` or `'$.executable'` | `getAccountInfo` |
 *
 * `balanceOfToken`: Lit derives the tenant's associated token account; this node sums every
 * token account the tenant owns for the mint (the associated one included), read from the
 * accounts' bytes: tokens held in another account of the tenant's are still the tenant's.
 * An account that does not exist (`getAccountInfo`) meets no condition. PDA parameters
 * (`pdaParams`, `pdaKey`), JSONPath keys other than those above, Lit's custom
 * `balanceOfMetaplexCollection` and any other RPC method: `CONDITION_UNSUPPORTED`.
 */
import { ShadwError } from '../errors.ts'
import type { ChainReader } from './chain-rpc.ts'
import { isSolanaAddress } from './solana-rpc.ts'

const USER = ':userAddress'

/** What a Solana leaf needs from the evaluation it is part of. */
export interface SolContext {
  reader: ChainReader
  /** the tenant's verified address */
  address: string
  /** the tenant's Solana account when `address` is its Ethereum one */
  solanaAddress?: string
  block: (chain: string) => Promise<bigint>
  /** Lit's returnValueTest comparison (chain-conditions.ts) */
  compare: (actual: unknown, comparator: string, expected: string) => boolean
}

/** True for the Solana leaf that reads nothing: the tenant's own address against a value. */
export function isSolAddressLeaf (c: Record<string, unknown>): boolean {
  return c['method'] === ''
}

/**
 * Decides one Solana condition.
 *
 * @throws ShadwError `CONDITION_UNSUPPORTED`, `ACCESS_CONDITIONS_INVALID`, `AUTH_WRONG_CHAIN`,
 *   and the Solana reader's codes.
 */
export async function evalSolRpc (c: Record<string, unknown>, ctx: SolContext): Promise<boolean> {
  const chain = String(c['chain'])
  const method = String(c['method'])
  const params = (c['params'] as unknown[] | undefined) ?? []
  const test = c['returnValueTest'] as { key?: string, comparator: string, value: string }
  const key = test.key ?? ''
  const pdaParams = c['pdaParams'] as unknown[] | undefined
  if ((pdaParams !== undefined && pdaParams.length > 0) || (c['pdaKey'] !== undefined && c['pdaKey'] !== '')) {
    throw ShadwError.CONDITION_UNSUPPORTED('Solana conditions with PDA parameters are not evaluated by shadw nodes', { method })
  }
  const expected = test.value === USER ? user(ctx) : test.value
  if (isSolAddressLeaf(c)) {
    if (params.length !== 1 || params[0] !== USER || key !== '') throw unsupported(method, key)
    if (test.comparator !== '=' && test.comparator !== '!=') throw unsupported(method, key)
    // base58 is case-sensitive: unlike EVM addresses, compared exactly
    return (user(ctx) === expected) === (test.comparator === '=')
  }
  if (params.length !== 1) throw ShadwError.ACCESS_CONDITIONS_INVALID(`${method} takes one parameter, got ${params.length}`)
  const account = accountParam(params[0], ctx)
  const slot = await ctx.block(chain)
  const tenant = ctx.address
  switch (method) {
    case 'getBalance':
      if (key !== '') throw unsupported(method, key)
      return ctx.compare(await ctx.reader.solana.balance(chain, account, slot, tenant), test.comparator, expected)
    case 'balanceOfToken':
      if (key !== '$.amount' && key !== '') throw unsupported(method, key)
      return ctx.compare(await ctx.reader.solana.tokenBalance(chain, user(ctx), account, slot, tenant), test.comparator, expected)
    case 'getTokenAccountBalance':
      if (key !== '$.amount') throw unsupported(method, key)
      return ctx.compare(await ctx.reader.solana.tokenAccountBalance(chain, account, slot, tenant), test.comparator, expected)
    case 'getAccountInfo': {
      const info = await ctx.reader.solana.accountInfo(chain, account, slot, tenant)
      const field = key === '$.owner' ? 'owner' : key === '$.lamports' ? 'lamports' : key === '$.executable' ? 'executable' : null
      if (field === null) throw unsupported(method, key)
      if (info === null) return false
      return ctx.compare(info[field], test.comparator, expected)
    }
    default:
      throw unsupported(method, key)
  }
}

/** The tenant's address as a Solana public key, or `AUTH_WRONG_CHAIN` for an Ethereum identity. */
function user (ctx: SolContext): string {
  if (ctx.solanaAddress !== undefined) return ctx.solanaAddress
  if (!isSolanaAddress(ctx.address)) throw ShadwError.AUTH_WRONG_CHAIN('a Solana condition names :userAddress, but the auth is not a Solana account\'s (sign in with Solana: derivedVia solana.signMessage)')
  return ctx.address
}

function accountParam (raw: unknown, ctx: SolContext): string {
  const value = raw === USER ? user(ctx) : raw
  if (typeof value === 'string' && value.startsWith(':')) throw ShadwError.CONDITION_UNSUPPORTED(`parameter ${JSON.stringify(value)} is Lit-only; shadw nodes substitute only ${USER}`)
  if (!isSolanaAddress(value)) throw ShadwError.ACCESS_CONDITIONS_INVALID(`${JSON.stringify(raw)} is not a Solana public key`)
  return value
}

function unsupported (method: string, key: string): ShadwError {
  return ShadwError.CONDITION_UNSUPPORTED(`Solana method ${JSON.stringify(method)} with returnValueTest.key ${JSON.stringify(key)} is not evaluated by shadw nodes`, { method, key })
}

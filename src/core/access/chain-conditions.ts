/**
 * Lit access control conditions evaluated by this node against chain state, with the
 * semantics Lit's nodes give them, at one pinned block per chain.
 *
 * | condition | Lit fields | read |
 * | --- | --- | --- |
 * | wallet address | `standardContractType: ''`, `method: ''`, `parameters: [':userAddress']` | none |
 * | native balance | `standardContractType: ''`, `method: 'eth_getBalance'`, `parameters: [':userAddress', 'latest']` | `eth_getBalance` |
 * | timestamp | `standardContractType: 'timestamp'`, `method: 'eth_getBlockByNumber'` | the pinned block's timestamp |
 * | ERC-20 | `standardContractType: 'ERC20'`, `method: 'balanceOf'`, `parameters: [':userAddress']` | `balanceOf(address)` |
 * | ERC-721 | `standardContractType: 'ERC721'`, `method: 'ownerOf'` (`[tokenId]`) or `'balanceOf'` (`[':userAddress']`) | the view |
 * | ERC-1155 | `standardContractType: 'ERC1155'`, `method: 'balanceOf'`, `parameters: [account, id]` | `balanceOf(address,uint256)` |
 * | any view | `evmContractConditions` / `conditionType: 'evmContract'`: `functionAbi`, `functionName`, `functionParams`, `returnValueTest.key` | `eth_call` |
 *
 * Groups short-circuit, skipping reads whose result cannot change the outcome. A group that
 * mixes `and` and `or` at one level is refused (`CONDITION_UNSUPPORTED`): Lit does not
 * document its precedence, and a guess could grant what the publisher meant to refuse;
 * nested groups say the same thing unambiguously. Solana conditions: sol-conditions.ts (a node
 * without a Solana endpoint refuses them with `SOLANA_UNCONFIGURED`). Anything else valid in
 * Lit's schema (Cosmos, ERC-1155 batches, Lit-only parameters) fails with
 * `CONDITION_UNSUPPORTED`: never a silent pass.
 */
import { type Abi, type AbiFunction, type Address, decodeFunctionResult, encodeFunctionData, getAddress, isAddress } from 'viem'
import { ShadwError } from '../errors.ts'
import type { AccessPolicy } from './conditions.ts'
import { type ChainReader, chainIdOf } from './chain-rpc.ts'
import { evalSolRpc, isSolAddressLeaf } from './sol-conditions.ts'
import { isSolanaChain } from './solana-rpc.ts'

/** What one evaluation needs. */
export interface ChainContext {
  reader: ChainReader
  /** the tenant's verified address (EIP-55, or a Solana public key) */
  address: string
  /** the tenant's Solana account when `address` is its Ethereum one (both signed in) */
  solanaAddress?: string
  /** the block every read on `chain` is made at (pinned once per evaluation) */
  block: (chain: string) => Promise<bigint>
}

const USER = ':userAddress'
const ERC20_ABI = [{ type: 'function', name: 'balanceOf', stateMutability: 'view', inputs: [{ name: 'owner', type: 'address' }], outputs: [{ name: '', type: 'uint256' }] }] as const
const ERC721_ABI = [
  ERC20_ABI[0],
  { type: 'function', name: 'ownerOf', stateMutability: 'view', inputs: [{ name: 'tokenId', type: 'uint256' }], outputs: [{ name: '', type: 'address' }] }
] as const
const ERC1155_ABI = [{ type: 'function', name: 'balanceOf', stateMutability: 'view', inputs: [{ name: 'account', type: 'address' }, { name: 'id', type: 'uint256' }], outputs: [{ name: '', type: 'uint256' }] }] as const

/** The chains the conditions of `policy` read (those needing no read are left out). */
export function chainsOf (policy: AccessPolicy): string[] {
  if (policy.public) return []
  const out = new Set<string>()
  const walk = (list: unknown[]): void => {
    for (let i = 0; i < list.length; i += 2) {
      const item = list[i]
      if (Array.isArray(item)) walk(item)
      else {
        const c = item as Record<string, unknown>
        // Cosmos leaves are refused when reached, with their own code
        if (typeof c['chain'] === 'string' && chainIdOf(c['chain']) !== undefined && !isAddressLeaf(c)) out.add(c['chain'])
        if (isSolanaChain(c['chain']) && !isSolAddressLeaf(c)) out.add(c['chain'])
      }
    }
  }
  walk(policy.conditions[policy.kind] as unknown[])
  return [...out]
}

/**
 * True when the tenant meets `policy` at the pinned blocks.
 *
 * @throws ShadwError `CONDITION_UNSUPPORTED`, `SOLANA_UNCONFIGURED`, `CONDITION_CALL_FAILED`,
 *   `AUTH_WRONG_CHAIN`, and the {@link ChainReader}'s codes.
 */
export async function evaluateOnChain (policy: AccessPolicy, ctx: ChainContext): Promise<boolean> {
  if (policy.public) return true
  const kind = policy.kind === 'evmContractConditions' ? 'evmContract' : policy.kind === 'accessControlConditions' ? 'evmBasic' : policy.kind === 'solRpcConditions' ? 'solRpc' : 'unified'
  return await evalGroup(policy.conditions[policy.kind] as unknown[], ctx, kind)
}

type Kind = 'evmBasic' | 'evmContract' | 'solRpc' | 'unified'

async function evalGroup (list: unknown[], ctx: ChainContext, kind: Kind): Promise<boolean> {
  const ops = new Set<string>()
  for (let i = 1; i < list.length; i += 2) ops.add(String((list[i] as { operator: unknown }).operator).toLowerCase())
  if (ops.size > 1) throw ShadwError.CONDITION_UNSUPPORTED('a group mixes "and" and "or" at one level; nest groups to say which binds first')
  const isOr = ops.has('or')
  for (let i = 0; i < list.length; i += 2) {
    // a read that cannot change the outcome is not made
    if (await evalItem(list[i], ctx, kind) === isOr) return isOr
  }
  return !isOr
}

async function evalItem (item: unknown, ctx: ChainContext, kind: Kind): Promise<boolean> {
  if (Array.isArray(item)) return await evalGroup(item, ctx, kind)
  const c = item as Record<string, unknown>
  const type = kind === 'unified' ? c['conditionType'] : kind
  switch (type) {
    case 'evmBasic': return await evalBasic(c, ctx)
    case 'evmContract': return await evalContract(c, ctx)
    case 'solRpc': {
      if (!isSolanaChain(c['chain'])) throw ShadwError.CONDITION_UNSUPPORTED(`Solana chain ${JSON.stringify(c['chain'])} is not one Lit names`)
      if (!ctx.reader.has(c['chain'])) throw ShadwError.SOLANA_UNCONFIGURED()
      return await evalSolRpc(c, { ...ctx, compare: (actual, comparator, expected) => compare(actual, comparator, expected, ctx) })
    }
    default: throw ShadwError.CONDITION_UNSUPPORTED(`conditionType ${JSON.stringify(type)} is not evaluated by shadw nodes`, { conditionType: type })
  }
}

function isAddressLeaf (c: Record<string, unknown>): boolean {
  return c['contractAddress'] === '' && c['standardContractType'] === '' && c['method'] === ''
}

async function evalBasic (c: Record<string, unknown>, ctx: ChainContext): Promise<boolean> {
  const chain = String(c['chain'])
  const params = (c['parameters'] as unknown[]).map(p => String(p))
  const test = c['returnValueTest'] as { comparator: string, value: string }
  const method = c['method']
  const std = c['standardContractType']
  const tenant = ctx.address
  if (isAddressLeaf(c)) {
    if (params.length !== 1 || params[0] !== USER) throw unsupported(c)
    return compare(evmUser(ctx), test.comparator, test.value, ctx)
  }
  if (std === '' && method === 'eth_getBalance') {
    if (params[0] !== USER) throw unsupported(c)
    evmUser(ctx)
    const block = await ctx.block(chain)
    return compare(await ctx.reader.balance(chain, ctx.address as Address, block, tenant), test.comparator, test.value, ctx)
  }
  if (std === 'timestamp' && method === 'eth_getBlockByNumber') {
    const block = await ctx.block(chain)
    return compare(await ctx.reader.timestamp(chain, block, tenant), test.comparator, test.value, ctx)
  }
  const contract = contractAddress(c['contractAddress'])
  let abi: Abi
  let args: unknown[]
  if ((std === 'ERC20' || std === 'ERC721') && method === 'balanceOf' && params.length === 1) {
    abi = ERC20_ABI as unknown as Abi
    args = [param(params[0] as string, 'address', ctx)]
  } else if (std === 'ERC721' && method === 'ownerOf' && params.length === 1) {
    abi = ERC721_ABI as unknown as Abi
    args = [param(params[0] as string, 'uint256', ctx)]
  } else if (std === 'ERC1155' && method === 'balanceOf' && params.length === 2) {
    abi = ERC1155_ABI as unknown as Abi
    args = [param(params[0] as string, 'address', ctx), param(params[1] as string, 'uint256', ctx)]
  } else {
    throw unsupported(c)
  }
  const value = await callView(ctx, chain, contract, abi, String(method), args)
  return compare(value, test.comparator, test.value, ctx)
}

async function evalContract (c: Record<string, unknown>, ctx: ChainContext): Promise<boolean> {
  const chain = String(c['chain'])
  const fnAbi = c['functionAbi'] as AbiFunction
  const name = String(c['functionName'])
  if (fnAbi.name !== name) throw ShadwError.ACCESS_CONDITIONS_INVALID(`functionName ${JSON.stringify(name)} is not the ABI's ${JSON.stringify(fnAbi.name)}`)
  const params = (c['functionParams'] as unknown[]).map(p => String(p))
  if (params.length !== fnAbi.inputs.length) throw ShadwError.ACCESS_CONDITIONS_INVALID(`${name} takes ${fnAbi.inputs.length} parameters, got ${params.length}`)
  const args = fnAbi.inputs.map((input, i) => param(params[i] as string, input.type, ctx))
  const abi = [{ ...fnAbi, type: 'function' }] as Abi
  const result = await callView(ctx, chain, contractAddress(c['contractAddress']), abi, name, args)
  const test = c['returnValueTest'] as { key?: string, comparator: string, value: string }
  let value: unknown = result
  const key = test.key ?? ''
  if (fnAbi.outputs.length > 1) {
    const at = fnAbi.outputs.findIndex(o => o.name === key)
    if (at < 0) throw ShadwError.ACCESS_CONDITIONS_INVALID(`returnValueTest.key ${JSON.stringify(key)} names no output of ${name}`)
    value = (result as unknown[])[at]
  } else if (key !== '' && fnAbi.outputs[0]?.name !== key) {
    throw ShadwError.ACCESS_CONDITIONS_INVALID(`returnValueTest.key ${JSON.stringify(key)} names no output of ${name}`)
  }
  return compare(value, test.comparator, test.value, ctx)
}

async function callView (ctx: ChainContext, chain: string, to: Address, abi: Abi, functionName: string, args: unknown[]): Promise<unknown> {
  let data: `0x${string}`
  try {
    data = encodeFunctionData({ abi, functionName, args })
  } catch (err) {
    throw ShadwError.ACCESS_CONDITIONS_INVALID(`cannot encode ${functionName}(${args.map(String).join(', ')}): ${shortReason(err)}`)
  }
  const block = await ctx.block(chain)
  const answer = await ctx.reader.call(chain, { to, data }, block, ctx.address)
  if (answer === '0x') throw ShadwError.CONDITION_CALL_FAILED(`${functionName} answered nothing: no contract at ${to} on ${chain}?`, { chain, to })
  try {
    return decodeFunctionResult({ abi, functionName, data: answer })
  } catch (err) {
    throw ShadwError.CONDITION_CALL_FAILED(`${functionName} answered a value its ABI does not declare: ${shortReason(err)}`, { chain, to })
  }
}

function contractAddress (value: unknown): Address {
  if (typeof value !== 'string' || !isAddress(value, { strict: false })) throw ShadwError.ACCESS_CONDITIONS_INVALID(`contractAddress ${JSON.stringify(value)} is not an address`)
  return getAddress(value)
}

/** A condition parameter (Lit writes them all as strings) as the ABI type wants it. */
function param (raw: string, type: string, ctx: ChainContext): unknown {
  const value = raw === USER ? evmUser(ctx) : raw
  if (value.startsWith(':')) throw ShadwError.CONDITION_UNSUPPORTED(`parameter ${JSON.stringify(raw)} is Lit-only; shadw nodes substitute only ${USER}`)
  if (/^u?int\d*$/.test(type)) {
    if (!/^-?\d{1,78}$/.test(value)) throw ShadwError.ACCESS_CONDITIONS_INVALID(`${JSON.stringify(raw)} is not an integer for ${type}`)
    return BigInt(value)
  }
  if (type === 'address') {
    if (!isAddress(value, { strict: false })) throw ShadwError.ACCESS_CONDITIONS_INVALID(`${JSON.stringify(raw)} is not an address`)
    return getAddress(value)
  }
  if (type === 'bool') {
    if (value !== 'true' && value !== 'false') throw ShadwError.ACCESS_CONDITIONS_INVALID(`${JSON.stringify(raw)} is not true or false`)
    return value === 'true'
  }
  if (type === 'string') return value
  if (/^bytes\d*$/.test(type)) {
    if (!/^0x([0-9a-fA-F]{2})*$/.test(value)) throw ShadwError.ACCESS_CONDITIONS_INVALID(`${JSON.stringify(raw)} is not hex bytes`)
    return value
  }
  throw ShadwError.CONDITION_UNSUPPORTED(`parameters of type ${type} are not supported`)
}

/** Lit's returnValueTest: numbers compare as integers, addresses case-insensitively. */
function compare (actual: unknown, comparator: string, expectedRaw: string, ctx: ChainContext): boolean {
  const expected = expectedRaw === USER ? ctx.address : expectedRaw
  if (typeof actual === 'bigint' || typeof actual === 'number') {
    if (!/^-?\d{1,78}$/.test(expected)) throw ShadwError.ACCESS_CONDITIONS_INVALID(`returnValueTest.value ${JSON.stringify(expectedRaw)} is not an integer`)
    const a = BigInt(actual)
    const b = BigInt(expected)
    switch (comparator) {
      case '=': return a === b
      case '!=': return a !== b
      case '>': return a > b
      case '>=': return a >= b
      case '<': return a < b
      case '<=': return a <= b
    }
  } else if (typeof actual === 'boolean') {
    if (expected !== 'true' && expected !== 'false') throw ShadwError.ACCESS_CONDITIONS_INVALID(`returnValueTest.value ${JSON.stringify(expectedRaw)} is not true or false`)
    if (comparator === '=') return actual === (expected === 'true')
    if (comparator === '!=') return actual !== (expected === 'true')
  } else if (typeof actual === 'string') {
    const addresses = isAddress(actual, { strict: false }) && isAddress(expected, { strict: false })
    const a = addresses ? actual.toLowerCase() : actual
    const b = addresses ? expected.toLowerCase() : expected
    if (comparator === '=') return a === b
    if (comparator === '!=') return a !== b
    if (comparator === 'contains') return a.includes(b)
  } else if (Array.isArray(actual) && comparator === 'contains') {
    return actual.some(v => String(v).toLowerCase() === expected.toLowerCase())
  }
  throw ShadwError.CONDITION_UNSUPPORTED(`comparator ${JSON.stringify(comparator)} on a ${Array.isArray(actual) ? 'list' : typeof actual} answer`)
}

/** The tenant's address as an EVM address, or `AUTH_WRONG_CHAIN` for a Solana identity. */
function evmUser (ctx: ChainContext): string {
  if (!isAddress(ctx.address, { strict: false })) throw ShadwError.AUTH_WRONG_CHAIN('an EVM condition names :userAddress, but the auth is not an Ethereum account\'s (sign in with Ethereum)')
  return ctx.address
}

function unsupported (c: Record<string, unknown>): ShadwError {
  return ShadwError.CONDITION_UNSUPPORTED(`standardContractType ${JSON.stringify(c['standardContractType'])} with method ${JSON.stringify(c['method'])} is not evaluated by shadw nodes`, {
    standardContractType: c['standardContractType'], method: c['method']
  })
}

function shortReason (err: unknown): string {
  const text = err instanceof Error ? ((err as { shortMessage?: string }).shortMessage ?? err.message) : String(err)
  return text.split('\n')[0]?.slice(0, 200) ?? ''
}

/**
 * The local fast path: conditions a node can decide by itself, from the tenant's verified
 * address and its own clock, with the semantics Lit gives them. Anything else needs chain
 * state and goes to the Lit gate.
 *
 * Local shapes (EVM basic conditions, in `accessControlConditions` or as `conditionType:
 * 'evmBasic'` in unified conditions):
 *
 * | condition | fields | local meaning |
 * | --- | --- | --- |
 * | address | `contractAddress: ''`, `standardContractType: ''`, `method: ''`, `parameters: [':userAddress']`, comparator `=` | tenant address equals `value` (case-insensitive, as addresses are) |
 * | time | `standardContractType: 'timestamp'`, `method: 'eth_getBlockByNumber'`, `parameters: ['latest']`, comparator `=`, `>`, `>=`, `<`, `<=` | node clock in Unix seconds compared with `value` |
 *
 * Lists of addresses are groups joined by `{ operator: 'or' }`. Groups combine with Kleene
 * three-valued logic, so `local-false and anything` is denied and `local-true or anything`
 * allowed without asking Lit; an undecided group goes to Lit as a whole. A group that mixes
 * `and` and `or` at one level is left to Lit, whose precedence for such lists we do not
 * reproduce.
 *
 * Time: Lit compares with the latest block's timestamp on `chain`, which trails wall-clock
 * time by up to one block interval (about 12 s on Ethereum); the node compares with its own
 * clock, so a decision at the very edge of a window may differ from Lit's by that much.
 */
import type { AccessPolicy } from './conditions.ts'

/** The verdict of {@link evaluateLocally}: decided here, or needs the Lit gate. */
export type LocalVerdict = 'allow' | 'deny' | 'needs-lit'

/** What a local decision may depend on. */
export interface LocalContext {
  /** the tenant's verified address */
  address: string
  /** ms since the epoch */
  now: number
}

type Tri = boolean | null

/**
 * Decides `policy` for a tenant without the network when the conditions allow it.
 *
 * @example
 * ```ts
 * const verdict = evaluateLocally(policy, { address: auth.address, now: Date.now() })
 * if (verdict === 'needs-lit') await litGate.check(…)
 * ```
 */
export function evaluateLocally (policy: AccessPolicy, ctx: LocalContext): LocalVerdict {
  if (policy.public) return 'allow'
  if (policy.kind !== 'accessControlConditions' && policy.kind !== 'unifiedAccessControlConditions') return 'needs-lit'
  const list = policy.conditions[policy.kind] as unknown[]
  const unified = policy.kind === 'unifiedAccessControlConditions'
  const result = evalGroup(list, ctx, unified)
  return result === null ? 'needs-lit' : result ? 'allow' : 'deny'
}

/** True when every condition of `policy` has a local shape (no chain state needed at all). */
export function isLocalPolicy (policy: AccessPolicy): boolean {
  if (policy.public) return true
  if (policy.kind !== 'accessControlConditions' && policy.kind !== 'unifiedAccessControlConditions') return false
  const unified = policy.kind === 'unifiedAccessControlConditions'
  const walk = (list: unknown[]): boolean => {
    const ops = new Set<string>()
    return list.every((item, i) => {
      if (i % 2 === 1) { ops.add(String((item as { operator: string }).operator).toLowerCase()); return ops.size === 1 }
      return Array.isArray(item) ? walk(item) : localLeaf(item, unified) !== undefined
    })
  }
  return walk(policy.conditions[policy.kind] as unknown[])
}

function evalGroup (list: unknown[], ctx: LocalContext, unified: boolean): Tri {
  const operators = new Set<string>()
  for (let i = 1; i < list.length; i += 2) operators.add(String((list[i] as { operator: string }).operator).toLowerCase())
  if (operators.size > 1) return null
  const isOr = operators.has('or')
  let acc: Tri = !isOr
  for (let i = 0; i < list.length; i += 2) {
    const item = list[i]
    const value = Array.isArray(item) ? evalGroup(item, ctx, unified) : evalLeaf(item, ctx, unified)
    acc = isOr ? or(acc, value) : and(acc, value)
    if (acc === isOr) return acc
  }
  return acc
}

function and (a: Tri, b: Tri): Tri {
  if (a === false || b === false) return false
  return a === null || b === null ? null : true
}

function or (a: Tri, b: Tri): Tri {
  if (a === true || b === true) return true
  return a === null || b === null ? null : false
}

type Leaf =
  | { type: 'address', value: string }
  | { type: 'time', comparator: string, seconds: number }

function evalLeaf (item: unknown, ctx: LocalContext, unified: boolean): Tri {
  const leaf = localLeaf(item, unified)
  if (leaf === undefined) return null
  if (leaf.type === 'address') return leaf.value.toLowerCase() === ctx.address.toLowerCase()
  const now = Math.floor(ctx.now / 1000)
  switch (leaf.comparator) {
    case '=': return now === leaf.seconds
    case '>': return now > leaf.seconds
    case '>=': return now >= leaf.seconds
    case '<': return now < leaf.seconds
    case '<=': return now <= leaf.seconds
    default: return null
  }
}

/** The local reading of one condition, or undefined when it needs chain state. */
function localLeaf (item: unknown, unified: boolean): Leaf | undefined {
  if (typeof item !== 'object' || item === null) return undefined
  const c = item as Record<string, unknown>
  if (unified && c['conditionType'] !== 'evmBasic') return undefined
  const test = c['returnValueTest'] as { comparator?: unknown, value?: unknown } | undefined
  if (typeof test !== 'object' || test === null || typeof test.value !== 'string') return undefined
  const params = c['parameters']
  if (!Array.isArray(params) || params.length !== 1) return undefined
  if (c['contractAddress'] === '' && c['standardContractType'] === '' && c['method'] === '' &&
      params[0] === ':userAddress' && test.comparator === '=') {
    return { type: 'address', value: test.value }
  }
  if (c['standardContractType'] === 'timestamp' && c['method'] === 'eth_getBlockByNumber' && params[0] === 'latest' &&
      typeof test.comparator === 'string' && /^\d{1,15}$/.test(test.value)) {
    return { type: 'time', comparator: test.comparator, seconds: Number(test.value) }
  }
  return undefined
}

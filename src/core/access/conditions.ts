/**
 * Access control conditions as a manifest carries them: checked with Lit's own schema
 * validators and hashed with Lit's own canonical hash, so the hash we store is the one the
 * Lit network computes for the same conditions (it is part of the identity a Lit ciphertext
 * is encrypted to).
 */
import * as accs from '@lit-protocol/access-control-conditions'
import type {
  AccessControlConditions,
  EvmContractConditions,
  SolRpcConditions,
  UnifiedAccessControlConditions
} from '@lit-protocol/types'
import { ShadwError } from '../errors.ts'

/**
 * The four kinds of condition list Lit accepts; the field names are those of Lit's
 * `encrypt`/`decrypt` parameters, so an {@link AccessConditions} value can be spread into them.
 */
export const CONDITION_KINDS = [
  'accessControlConditions',
  'evmContractConditions',
  'solRpcConditions',
  'unifiedAccessControlConditions'
] as const

/** One of {@link CONDITION_KINDS}. */
export type ConditionKind = (typeof CONDITION_KINDS)[number]

/**
 * Conditions as written by a publisher: at most one non-empty list. Absent or empty = public.
 * A bare array (a manifest's `access` field) is read as `unifiedAccessControlConditions`.
 */
export interface AccessConditions {
  accessControlConditions?: AccessControlConditions
  evmContractConditions?: EvmContractConditions
  solRpcConditions?: SolRpcConditions
  unifiedAccessControlConditions?: UnifiedAccessControlConditions
}

/** The outcome of {@link checkConditions}. */
export type AccessPolicy =
  | { readonly public: true }
  | {
    readonly public: false
    readonly kind: ConditionKind
    /** The conditions exactly as given (validated); what the Lit gate sends to the network. */
    readonly conditions: AccessConditions
    /** Lit's canonical SHA-256 of the conditions, lowercase hex. */
    readonly hash: string
  }

/** Serialized conditions above this size are refused: a manifest field, not a document. */
export const MAX_CONDITIONS_BYTES = 16 * 1024
/** Leaf conditions above this count are refused; each one may cost the Lit network an RPC call. */
export const MAX_CONDITIONS = 32
/** Nesting deeper than this is refused; Lit's boolean groups rarely go past two levels. */
export const MAX_CONDITION_DEPTH = 4
/** Lit's boolean operators (its condition evaluator knows no others). */
const OPERATORS: ReadonlySet<string> = new Set(['and', 'or'])

/** True when `value` names no conditions at all (the function is public). */
export function isPublic (value: AccessConditions | readonly unknown[] | undefined | null): boolean {
  if (value === undefined || value === null) return true
  if (isArray(value)) return value.length === 0
  return CONDITION_KINDS.every(k => value[k] === undefined || (Array.isArray(value[k]) && value[k].length === 0))
}

/**
 * Validates conditions with Lit's schema validator and shadw's structural limits, and hashes
 * them canonically. Absent or empty conditions give a public policy.
 *
 * @throws ShadwError `ACCESS_CONDITIONS_INVALID` with the validator's reason.
 *
 * @example
 * ```ts
 * const policy = await checkConditions({ accessControlConditions: [{
 *   contractAddress: '', standardContractType: '', chain: 'ethereum', method: '',
 *   parameters: [':userAddress'], returnValueTest: { comparator: '=', value: '0xabc…' }
 * }] })
 * if (!policy.public) manifest.conditionsHash = policy.hash
 * ```
 */
export async function checkConditions (value: unknown): Promise<AccessPolicy> {
  if (value === undefined || value === null) return { public: true }
  if (Array.isArray(value)) return await checkConditions({ unifiedAccessControlConditions: value })
  if (typeof value !== 'object') {
    throw ShadwError.ACCESS_CONDITIONS_INVALID('must be an object with one of ' + CONDITION_KINDS.join(', '))
  }
  const record = value as Record<string, unknown>
  for (const key of Object.keys(record)) {
    if (!(CONDITION_KINDS as readonly string[]).includes(key)) throw ShadwError.ACCESS_CONDITIONS_INVALID(`unknown field ${JSON.stringify(key)}`)
  }
  const present = CONDITION_KINDS.filter(k => record[k] !== undefined)
  for (const kind of present) {
    if (!Array.isArray(record[kind])) throw ShadwError.ACCESS_CONDITIONS_INVALID(`${kind} must be an array`)
  }
  const nonEmpty = present.filter(k => (record[k] as unknown[]).length > 0)
  if (nonEmpty.length === 0) return { public: true }
  if (nonEmpty.length > 1) throw ShadwError.ACCESS_CONDITIONS_INVALID(`give one kind of conditions, got ${nonEmpty.join(' and ')}`)
  const kind = nonEmpty[0] as ConditionKind
  const list = record[kind] as unknown[]

  let size: number
  try {
    size = new TextEncoder().encode(JSON.stringify(list)).byteLength
  } catch (err) {
    throw ShadwError.ACCESS_CONDITIONS_INVALID('not serializable as JSON', { cause: String(err) })
  }
  if (size > MAX_CONDITIONS_BYTES) throw ShadwError.ACCESS_CONDITIONS_INVALID(`${size} bytes exceeds ${MAX_CONDITIONS_BYTES}`, { size, limit: MAX_CONDITIONS_BYTES })
  // Lit's validators check each condition against its schema but not the boolean structure
  // around them (they accept `[a, b]` and `[a, {operator: 'xor'}, b]`), which the Lit nodes
  // would refuse only at decrypt time; refuse it here, at publish time.
  const leaves = checkStructure(list, 1)
  if (leaves > MAX_CONDITIONS) throw ShadwError.ACCESS_CONDITIONS_INVALID(`${leaves} conditions exceed ${MAX_CONDITIONS}`, { count: leaves, limit: MAX_CONDITIONS })

  try {
    await validate(kind, list)
  } catch (err) {
    throw ShadwError.ACCESS_CONDITIONS_INVALID(litReason(err))
  }
  let digest: ArrayBuffer
  try {
    digest = await hash(kind, list)
  } catch (err) {
    throw ShadwError.ACCESS_CONDITIONS_INVALID(litReason(err))
  }
  return { public: false, kind, conditions: { [kind]: list } as AccessConditions, hash: toHex(new Uint8Array(digest)) }
}

/** Checks that conditions and operators alternate, groups are non-empty; returns the leaf count. */
function checkStructure (list: unknown[], depth: number): number {
  if (depth > MAX_CONDITION_DEPTH) throw ShadwError.ACCESS_CONDITIONS_INVALID(`nested deeper than ${MAX_CONDITION_DEPTH}`)
  if (list.length === 0) throw ShadwError.ACCESS_CONDITIONS_INVALID('empty condition group')
  if (list.length % 2 === 0) throw ShadwError.ACCESS_CONDITIONS_INVALID('conditions and operators must alternate, starting and ending with a condition')
  let leaves = 0
  for (let i = 0; i < list.length; i++) {
    const item = list[i]
    const isOperator = typeof item === 'object' && item !== null && !Array.isArray(item) && 'operator' in item
    if (i % 2 === 1) {
      if (!isOperator) throw ShadwError.ACCESS_CONDITIONS_INVALID(`item ${i} must be an operator`)
      const op = (item as { operator: unknown }).operator
      if (typeof op !== 'string' || !OPERATORS.has(op.toLowerCase()) || Object.keys(item).length !== 1) {
        throw ShadwError.ACCESS_CONDITIONS_INVALID(`item ${i} must be {"operator": "and"} or {"operator": "or"}`)
      }
      continue
    }
    if (isOperator) throw ShadwError.ACCESS_CONDITIONS_INVALID(`item ${i} must be a condition, not an operator`)
    if (Array.isArray(item)) {
      leaves += checkStructure(item, depth + 1)
    } else if (typeof item === 'object' && item !== null) {
      leaves++
    } else {
      throw ShadwError.ACCESS_CONDITIONS_INVALID(`item ${i} must be a condition object or a group`)
    }
  }
  return leaves
}

async function validate (kind: ConditionKind, list: unknown[]): Promise<void> {
  switch (kind) {
    case 'accessControlConditions': await accs.validateAccessControlConditionsSchema(list as AccessControlConditions); return
    case 'evmContractConditions': await accs.validateEVMContractConditionsSchema(list as EvmContractConditions); return
    case 'solRpcConditions': await accs.validateSolRpcConditionsSchema(list as SolRpcConditions); return
    case 'unifiedAccessControlConditions': await accs.validateUnifiedAccessControlConditionsSchema(list as UnifiedAccessControlConditions)
  }
}

async function hash (kind: ConditionKind, list: unknown[]): Promise<ArrayBuffer> {
  switch (kind) {
    case 'accessControlConditions': return await accs.hashAccessControlConditions(list as AccessControlConditions)
    case 'evmContractConditions': return await accs.hashEVMContractConditions(list as EvmContractConditions)
    case 'solRpcConditions': return await accs.hashSolRpcConditions(list as SolRpcConditions)
    case 'unifiedAccessControlConditions': return await accs.hashUnifiedAccessControlConditions(list as UnifiedAccessControlConditions)
  }
}

/** Lit's schema errors say "FAILED schema validation … Errors: [ajv errors]"; keep the errors. */
function litReason (err: unknown): string {
  const message = err instanceof Error ? err.message : String(err)
  const at = message.indexOf('Errors: ')
  const reason = at >= 0 ? message.slice(at + 'Errors: '.length) : message
  return reason.length > 1000 ? reason.slice(0, 1000) + '…' : reason
}

function isArray (value: unknown): value is readonly unknown[] {
  return Array.isArray(value)
}

function toHex (bytes: Uint8Array): string {
  let out = ''
  for (const b of bytes) out += b.toString(16).padStart(2, '0')
  return out
}

/**
 * Hold confirmations: a holder's signed word that it stores every block of a drive's logs up
 * to the pinned lengths, verified against the writer's tree hashes. Holders re-sign one every
 * heartbeat, so its `time` is also the holder's last sign of life: `shadw drive status`
 * reads health from these, and the holders of a drive re-pin a replica whose holder's last
 * confirmation is older than the grace period.
 */
import b4a from 'b4a'
import { ShadwError } from '../errors.ts'
import { isHex, isHexKey } from '../hex.ts'
import { SignatureDomain } from '../signature-domain.ts'
import { MAX_PIN_LOGS, type PinnedLog } from './pin-request.ts'

/** Signature domain: a hold confirmation's signature never passes for another record's. */
export const HOLD_DOMAIN = 'shadw/hold/v1'

const HOLD_SIGNATURE = new SignatureDomain(HOLD_DOMAIN)

/** The holder's disk budget when it signed, bytes. */
export interface BudgetState { total: number, used: number }

/** The signed fields of a hold confirmation. */
export interface HoldBody {
  drive: string
  logs: Array<Omit<PinnedLog, 'byteLength'>>
  /** the holder's node key (64 hex), which signs */
  holder: string
  budget: BudgetState
  /** ms since the epoch when the holder signed */
  time: number
}

/** A hold confirmation with the holder's signature (128 hex). */
export interface HoldConfirmation extends HoldBody { signature: string }

function bad (why: string): never {
  throw ShadwError.HOLD_INVALID(why)
}

function uint (v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(`${what} must be a non-negative integer`)
  return v
}

/** The body in a fixed shape and key order, whatever the input carried: what is signed. */
function canonical (v: unknown): HoldBody {
  if (typeof v !== 'object' || v === null) bad('confirmation is not an object')
  const r = v as Record<string, unknown>
  if (!isHexKey(r.drive)) bad('drive must be 64 hex characters')
  if (!isHexKey(r.holder)) bad('holder must be 64 hex characters')
  if (!Array.isArray(r.logs) || r.logs.length === 0 || r.logs.length > MAX_PIN_LOGS) bad(`a confirmation names 1-${MAX_PIN_LOGS} logs`)
  const logs = r.logs.map((l: unknown) => {
    if (typeof l !== 'object' || l === null) bad('log is not an object')
    const x = l as Record<string, unknown>
    if (!isHexKey(x.key) || !isHexKey(x.treeHash)) bad('log key and treeHash must be 64 hex characters')
    return { key: x.key, length: uint(x.length, 'length'), treeHash: x.treeHash }
  })
  const budget = r.budget as Record<string, unknown> | null
  if (typeof budget !== 'object' || budget === null) bad('budget is not an object')
  return { drive: r.drive, logs, holder: r.holder, budget: { total: uint(budget.total, 'budget.total'), used: uint(budget.used, 'budget.used') }, time: uint(r.time, 'time') }
}

function bodyBytes (b: HoldBody): Uint8Array {
  return b4a.from(JSON.stringify(b))
}

/**
 * Signs a hold confirmation with the holder's node key pair (its swarm identity).
 *
 * @example
 * ```ts
 * const conf = signHold({ drive, logs, budget: { total, used }, time: Date.now() }, keyPair)
 * verifyHold(conf) // the same fields, checked
 * ```
 */
export function signHold (b: Omit<HoldBody, 'holder'>, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }): HoldConfirmation {
  const body = canonical({ ...b, holder: b4a.toString(keyPair.publicKey, 'hex') })
  return { ...body, signature: b4a.toString(HOLD_SIGNATURE.sign(bodyBytes(body), keyPair.secretKey), 'hex') }
}

/**
 * Checks a confirmation from a peer or a file: shape, then the holder's signature. Returns
 * it in canonical form (unknown fields dropped). @throws ShadwError `HOLD_INVALID`
 */
export function verifyHold (v: unknown): HoldConfirmation {
  const body = canonical(v)
  const signature = (v as { signature?: unknown }).signature
  if (!isHex(signature, 64)) bad('signature must be 128 hex characters')
  if (!HOLD_SIGNATURE.verify(bodyBytes(body), b4a.from(signature, 'hex'), b4a.from(body.holder, 'hex'))) bad('signature does not verify')
  return { ...body, signature }
}

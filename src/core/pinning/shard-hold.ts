/**
 * Shard holds: a holder's signed word that it stores one shard slot of an erasure pin, with
 * its budget; signed again every heartbeat, so a hold's time is its holder's sign of life.
 */
import b4a from 'b4a'
import { ShadwError } from '../errors.ts'
import { isHex, isHexKey } from '../hex.ts'
import { SignatureDomain } from '../signature-domain.ts'

/** Signature domain of shard holds. */
export const SHARD_HOLD_DOMAIN = 'shadw/shard-hold/v1'
const SIGNATURE = new SignatureDomain(SHARD_HOLD_DOMAIN)

/** A holder's signed word that it stores shard `shard` of every stripe of the pin `root`. */
export interface ShardHoldBody { drive: string, root: string, shard: number, holder: string, budget: { total: number, used: number }, time: number }
export interface ShardHold extends ShardHoldBody { signature: string }

function canonical (v: unknown): ShardHoldBody {
  const bad = (why: string): never => { throw ShadwError.HOLD_INVALID(`shard hold: ${why}`) }
  if (typeof v !== 'object' || v === null) return bad('not an object')
  const r = v as Record<string, unknown>
  if (!isHexKey(r.drive) || !isHexKey(r.root) || !isHexKey(r.holder)) return bad('drive, root and holder must be 64 hex characters')
  const uint = (x: unknown): number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 ? x : bad('numbers must be non-negative integers')
  const b = r.budget as Record<string, unknown> | null
  if (typeof b !== 'object' || b === null) return bad('budget is not an object')
  return { drive: r.drive, root: r.root, shard: uint(r.shard), holder: r.holder, budget: { total: uint(b.total), used: uint(b.used) }, time: uint(r.time) }
}

/** Signs a shard hold with the holder's key pair. */
export function signShardHold (b: Omit<ShardHoldBody, 'holder'>, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }): ShardHold {
  const body = canonical({ ...b, holder: b4a.toString(keyPair.publicKey, 'hex') })
  return { ...body, signature: b4a.toString(SIGNATURE.sign(b4a.from(JSON.stringify(body)), keyPair.secretKey), 'hex') }
}

/** Checks a shard hold. @throws ShadwError `HOLD_INVALID` */
export function verifyShardHold (v: unknown): ShardHold {
  const body = canonical(v)
  const signature = (v as { signature?: unknown }).signature
  if (!isHex(signature, 64) || !SIGNATURE.verify(b4a.from(JSON.stringify(body)), b4a.from(signature, 'hex'), b4a.from(body.holder, 'hex'))) {
    throw ShadwError.HOLD_INVALID('shard hold signature does not verify')
  }
  return { ...body, signature }
}

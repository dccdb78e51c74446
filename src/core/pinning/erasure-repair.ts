/**
 * Repair of erasure-coded pins without the uploader. A holder keeps one shard slot of a pin
 * (the same shard index of every stripe), so a loss is a slot: when its holder failed its
 * proofs or has been silent past the grace period, every live holder of the pin computes the
 * same ranking of candidates for that one loss (by hash of candidate ‖ pin root ‖ shard ‖ lost
 * holder), so one repairer acts and no repair starts twice; the next in the ranking takes over
 * after each further grace period without a signed repair record (its predecessor died
 * mid-way). The repairer rebuilds the slot's shard of every stripe from K survivors, checked
 * against the committed hashes, places it on a new holder and signs the new placement.
 */
import b4a from 'b4a'
import { ShadwError } from '../errors.ts'
import { isHex, isHexKey } from '../hex.ts'
import { sha256 } from '../sha256.ts'
import { SignatureDomain } from '../signature-domain.ts'
import { expansion, type ErasureLayout } from './erasure.ts'

/** Signature domain of repair records. */
export const REPAIR_DOMAIN = 'shadw/erasure-repair/v1'
const SIGNATURE = new SignatureDomain(REPAIR_DOMAIN)

/** The candidates for repairing one lost shard, first the one due now. */
export function repairRanking (candidates: string[], root: string, shard: number, lost: string): string[] {
  const score = (c: string): string => sha256(b4a.from(`${c}:${root}:${shard}:${lost}`))
  return [...new Set(candidates)].sort((a, b) => score(a) < score(b) ? -1 : score(a) > score(b) ? 1 : 0)
}

/**
 * The repairer due at `now` for a loss seen at `lossAt`: the first in the ranking during the
 * first grace period, the second during the next (a takeover), and so on; null when none.
 */
export function electRepairer (candidates: string[], root: string, shard: number, lost: string, lossAt: number, now: number, graceMs: number): string | null {
  const ranking = repairRanking(candidates, root, shard, lost)
  if (ranking.length === 0) return null
  const turn = Math.max(0, Math.floor((now - lossAt) / graceMs))
  return ranking[turn % ranking.length] as string
}

/** The signed new placement of one shard slot: `stripes` rebuilt (all of the pin's) moved from `from` to `to`. */
export interface RepairBody { drive: string, root: string, shard: number, stripes: number, from: string, to: string, repairer: string, time: number }
export interface RepairRecord extends RepairBody { signature: string }

function canonical (v: unknown): RepairBody {
  const bad = (why: string): never => { throw ShadwError.ERASURE_INVALID(`repair record: ${why}`) }
  if (typeof v !== 'object' || v === null) return bad('not an object')
  const r = v as Record<string, unknown>
  for (const f of ['drive', 'root', 'from', 'to', 'repairer'] as const) if (!isHexKey(r[f])) bad(`${f} must be 64 hex characters`)
  const uint = (x: unknown): number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0 ? x : bad('numbers must be non-negative integers')
  return { drive: r.drive as string, root: r.root as string, shard: uint(r.shard), stripes: uint(r.stripes), from: r.from as string, to: r.to as string, repairer: r.repairer as string, time: uint(r.time) }
}

/** Signs a repair with the repairer's key pair. */
export function signRepair (b: Omit<RepairBody, 'repairer'>, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }): RepairRecord {
  const body = canonical({ ...b, repairer: b4a.toString(keyPair.publicKey, 'hex') })
  return { ...body, signature: b4a.toString(SIGNATURE.sign(b4a.from(JSON.stringify(body)), keyPair.secretKey), 'hex') }
}

/** Checks a repair record. @throws ShadwError `ERASURE_INVALID` */
export function verifyRepair (v: unknown): RepairRecord {
  const body = canonical(v)
  const signature = (v as { signature?: unknown }).signature
  if (!isHex(signature, 64) || !SIGNATURE.verify(b4a.from(JSON.stringify(body)), b4a.from(signature, 'hex'), b4a.from(body.repairer, 'hex'))) {
    throw ShadwError.ERASURE_INVALID('repair record signature does not verify')
  }
  return { ...body, signature }
}

/** Health of an erasure-coded pin, as `shadw drive status --json` reports it. */
export interface ErasureHealth {
  health: 'healthy' | 'degraded' | 'lost'
  /** live shards of the weakest stripe */
  weakestStripeLive: number
  /** the weakest stripe's index */
  weakestStripe: number
  k: number
  m: number
  /** stored bytes over logical bytes */
  expansion: number
}

/** Health from the live shard count of each stripe: lost below K, degraded below K+M. */
export function erasureHealth (layout: ErasureLayout, liveByStripe: number[]): ErasureHealth {
  let weakestStripe = 0
  liveByStripe.forEach((n, i) => { if (n < (liveByStripe[weakestStripe] as number)) weakestStripe = i })
  const weakest = liveByStripe[weakestStripe] ?? 0
  const health = weakest < layout.k ? 'lost' : weakest < layout.k + layout.m ? 'degraded' : 'healthy'
  return { health, weakestStripeLive: weakest, weakestStripe, k: layout.k, m: layout.m, expansion: expansion(layout) }
}

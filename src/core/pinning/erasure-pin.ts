/**
 * The signed erasure pin record: what a pinner commits to when it erasure-codes a drive
 * version — the layout (size, K, M, shard and chunk bytes) and, per stripe, its shards'
 * hashes and the Merkle root over them. Holders check the shard they are given against it,
 * challengers check proofs against it, and readers and repairers check every shard they
 * fetch against it: nobody trusts a holder's bytes.
 */
import b4a from 'b4a'
import { ShadwError } from '../errors.ts'
import { isHex, isHexKey } from '../hex.ts'
import { SignatureDomain } from '../signature-domain.ts'
import { checkScheme, stripeCount, type ErasureLayout, type StripeCommitment } from './erasure.ts'
import { merkleRoot } from '../commit-merkle.ts'

/** Signature domain of erasure pin records. */
export const ERASURE_PIN_DOMAIN = 'shadw/erasure-pin/v1'
const SIGNATURE = new SignatureDomain(ERASURE_PIN_DOMAIN)
/** Stripes in one record at most (256 MiB at 4 × 64 KiB): bounds what a peer can make us hash. */
export const MAX_STRIPES = 1024

/** The signed fields. */
export interface ErasurePinBody {
  drive: string
  /** the drive version (log length) the bytes are */
  version: number
  layout: ErasureLayout
  stripes: StripeCommitment[]
  /** the root over the stripes' roots: one hash names the whole pin */
  root: string
  pinner: string
  time: number
}

/** A record with the pinner's signature (128 hex). */
export interface ErasurePin extends ErasurePinBody { signature: string }

function bad (why: string): never {
  throw ShadwError.ERASURE_INVALID(why)
}

function uint (v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(`${what} must be a non-negative integer`)
  return v
}

function canonical (v: unknown): ErasurePinBody {
  if (typeof v !== 'object' || v === null) bad('erasure pin is not an object')
  const r = v as Record<string, unknown>
  if (!isHexKey(r.drive) || !isHexKey(r.pinner)) bad('drive and pinner must be 64 hex characters')
  const l = r.layout as Record<string, unknown> | null
  if (typeof l !== 'object' || l === null) bad('layout is not an object')
  const { k, m } = checkScheme({ k: uint(l.k, 'k'), m: uint(l.m, 'm') })
  const layout: ErasureLayout = { k, m, size: uint(l.size, 'size'), shardBytes: uint(l.shardBytes, 'shardBytes'), chunkBytes: uint(l.chunkBytes, 'chunkBytes') }
  if (layout.shardBytes < 1 || layout.chunkBytes < 1) bad('shard and chunk bytes must be positive')
  if (!Array.isArray(r.stripes) || r.stripes.length > MAX_STRIPES || r.stripes.length !== stripeCount(layout)) bad(`stripes must list one commitment per stripe, at most ${MAX_STRIPES}`)
  const stripes = r.stripes.map((x: unknown, s: number) => {
    const c = x as Record<string, unknown> | null
    if (typeof c !== 'object' || c === null || !Array.isArray(c.shards) || c.shards.length !== k + m || !c.shards.every(isHexKey)) bad(`stripe ${s} must list ${k + m} shard hashes`)
    const shards = c.shards as string[]
    if (c.root !== merkleRoot(shards)) bad(`stripe ${s} root is not the root over its shards`)
    return { root: c.root, shards }
  })
  if (r.root !== merkleRoot(stripes.map(s => s.root))) bad('root is not the root over the stripes')
  return { drive: r.drive, version: uint(r.version, 'version'), layout, stripes, root: r.root, pinner: r.pinner, time: uint(r.time, 'time') }
}

function bodyBytes (b: ErasurePinBody): Uint8Array {
  return b4a.from(JSON.stringify(b))
}

/** Signs a record with the pinner's key pair. */
export function signErasurePin (b: Omit<ErasurePinBody, 'pinner' | 'root'>, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }): ErasurePin {
  const body = canonical({ ...b, root: merkleRoot(b.stripes.map(s => s.root)), pinner: b4a.toString(keyPair.publicKey, 'hex') })
  return { ...body, signature: b4a.toString(SIGNATURE.sign(bodyBytes(body), keyPair.secretKey), 'hex') }
}

/** Checks a record from a peer or a file. @throws ShadwError `ERASURE_INVALID` */
export function verifyErasurePin (v: unknown): ErasurePin {
  const body = canonical(v)
  const signature = (v as { signature?: unknown }).signature
  if (!isHex(signature, 64)) bad('signature must be 128 hex characters')
  if (!SIGNATURE.verify(bodyBytes(body), b4a.from(signature, 'hex'), b4a.from(body.pinner, 'hex'))) bad('signature does not verify')
  return { ...body, signature }
}

/**
 * Signed shard answers on the pinning side: what a holder signs when it serves a shard, how
 * a reader judges an answer, and the served-wrong record it signs when the holder's own
 * signature shows it served bytes the pin does not commit (ledger/served-wrong.ts has the
 * formats and the checks anyone can run).
 *
 * An honest holder signs the hash the pin commits for its shard — the bytes were checked
 * against it when they were put — so serving costs one signature and no hashing. A reader
 * hashes what it gets anyway: a matching shard needs no signature check; a wrong one whose
 * signature verifies over its real hash is evidence; a wrong one under a signature that does
 * not (a rotted disk, or a holder signing what it did not send) is only a bad answer, counted
 * as none: proofs of storage are what catch rot.
 */
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { merkleProof } from '../commit-merkle.ts'
import { NONCE_HEX, signServedWrong, signShardAnswer, verifyServedWrong, verifyShardAnswer, type ServedWrong } from '../ledger/index.ts'
import { shardHash } from './erasure.ts'
import type { ErasurePin } from './erasure-pin.ts'

/** A fresh nonce for a `get` (hex). */
export function shardNonce (): string {
  return b4a.toString(crypto.randomBytes(NONCE_HEX / 2), 'hex')
}

/** The holder's signature over its answer to a `get` of stripe `stripe` of its slot `shard`. */
export function signAnswer (pin: ErasurePin, shard: number, stripe: number, nonce: string, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }): string {
  const hash = pin.stripes[stripe]?.shards[shard] ?? ''
  return signShardAnswer({ drive: pin.drive, root: pin.root, stripe, stripes: pin.stripes.length, shard, width: pin.layout.k + pin.layout.m, hash, nonce, holder: b4a.toString(keyPair.publicKey, 'hex') }, keyPair).signature
}

/** How a reader takes one answer: the shard, a bad answer, or a wrong one with the record (null without a key pair to sign it). */
export type Judged =
  | { ok: true }
  | { ok: false, record: ServedWrong | null }

/** Judges what `holder` sent for shard `shard` of stripe `stripe` (see the module comment). */
export function judgeAnswer (pin: ErasurePin, holder: string, shard: number, stripe: number, nonce: string, bytes: Uint8Array, signature: string, keyPair?: { publicKey: Uint8Array, secretKey: Uint8Array }): Judged {
  const st = pin.stripes[stripe]
  if (st === undefined) return { ok: false, record: null }
  const hash = shardHash(bytes, pin.layout.chunkBytes)
  if (hash === st.shards[shard]) return { ok: true }
  if (keyPair === undefined) return { ok: false, record: null }
  try {
    const answer = verifyShardAnswer({ drive: pin.drive, root: pin.root, stripe, stripes: pin.stripes.length, shard, width: pin.layout.k + pin.layout.m, hash, nonce, holder, signature })
    const record = signServedWrong({ answer, committed: st.shards[shard]!, shardPath: merkleProof(st.shards, shard), stripeRoot: st.root, stripePath: merkleProof(pin.stripes.map(x => x.root), stripe), time: Date.now() }, keyPair)
    return { ok: false, record }
  } catch {
    return { ok: false, record: null }
  }
}

/** A served-wrong record from a peer, checked, about pin `pin`; null when it does not verify or names another pin. */
export function servedWrongOn (pin: ErasurePin, v: unknown): ServedWrong | null {
  try {
    const r = verifyServedWrong(v)
    return r.answer.root === pin.root && r.answer.drive === pin.drive ? r : null
  } catch {
    return null
  }
}

/**
 * Telling a wrong share from a good one. The dealer signs a commitment to the key: a hash of
 * the key under the key id (the key is uniformly random, 16-64 bytes, so its hash says nothing
 * usable about it), the threshold and the epoch of the current shares. A requester rebuilds
 * the key from a threshold's worth of released shares, keeps the first set whose key matches
 * the commitment, and interpolates that set's polynomial at every other released share's x:
 * a share that is off the polynomial is wrong, and its holder is named.
 *
 * Why not Feldman commitments per share: the shares live in GF(2^8) (the field of the audited
 * `shamir-secret-sharing`), which has no discrete-log group to commit in; and per-share hashes
 * signed by the dealer would not survive a rotation, where no single party ever sees the new
 * shares to hash them. A commitment to the key itself stays valid across rotations (the key
 * does not change), and the dealer re-signs it with each new epoch and threshold.
 */
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { ShadwError } from '../errors.ts'
import { SignatureDomain } from '../signature-domain.ts'
import { rebuildKey } from './key-shares.ts'
import { interpolateAt, shareX } from './key-reshare.ts'

export const KEY_COMMITMENT_DOMAIN = 'shadw/key-commitment/v1'
const COMMITMENT_SIGNATURE = new SignatureDomain(KEY_COMMITMENT_DOMAIN)
const CHECK_DOMAIN = 'shadw/key-check/v1'
/** Most threshold-sized subsets tried before giving up (C(5,3) is 10, C(16,8) is 12870). */
const MAX_SUBSETS = 4096

/** The dealer's signed word on which key the current shares rebuild. */
export interface KeyCommitment {
  keyId: string
  /** the shares' generation: 0 when dealt, one more at each rotation */
  epoch: number
  threshold: number
  /** keyCheck(keyId, key), hex */
  check: string
  /** the dealer's ed25519 over the fields above, hex */
  signature: string
}

/** The check value of `key` under `keyId`, hex. */
export function keyCheck (keyId: string, key: Uint8Array): string {
  return b4a.toString(crypto.hash(b4a.concat([b4a.from(`${CHECK_DOMAIN}\0${keyId}\0`), key])), 'hex')
}

function commitmentBody (c: Omit<KeyCommitment, 'signature'>): Uint8Array {
  return b4a.from(JSON.stringify([c.keyId, c.epoch, c.threshold, c.check]))
}

/** The dealer signs a commitment (at deal time from the key, at a rotation from the old commitment's check). */
export function signCommitment (c: Omit<KeyCommitment, 'signature'>, dealerSecretKey: Uint8Array): KeyCommitment {
  return { keyId: c.keyId, epoch: c.epoch, threshold: c.threshold, check: c.check, signature: b4a.toString(COMMITMENT_SIGNATURE.sign(commitmentBody(c), dealerSecretKey), 'hex') }
}

/** True when `c` is well formed and signed by `dealer` (hex ed25519 key). */
export function verifyCommitment (c: unknown, dealer: string): c is KeyCommitment {
  if (typeof c !== 'object' || c === null) return false
  const v = c as Record<string, unknown>
  if (typeof v.keyId !== 'string' || typeof v.check !== 'string' || typeof v.signature !== 'string') return false
  if (!Number.isSafeInteger(v.epoch) || (v.epoch as number) < 0 || !Number.isInteger(v.threshold) || (v.threshold as number) < 2 || (v.threshold as number) > 255) return false
  if (!/^[0-9a-f]{64}$/.test(v.check) || !/^[0-9a-f]{128}$/.test(v.signature) || !/^[0-9a-f]{64}$/.test(dealer)) return false
  return COMMITMENT_SIGNATURE.verify(commitmentBody(v as unknown as KeyCommitment), b4a.from(v.signature, 'hex'), b4a.from(dealer, 'hex'))
}

/** The key, and the sources whose shares are off the key's polynomial. */
export interface RecoveredKey<S> { key: Uint8Array, wrong: S[] }

/**
 * Rebuilds the committed key from released shares, naming the sources of wrong ones.
 * @throws ShadwError `KEY_SHARES_SHORT` when no threshold-sized set of the shares rebuilds the
 *   committed key (too few good shares, or too many wrong ones).
 */
export async function recoverKey<S> (released: ReadonlyArray<{ source: S, share: Uint8Array }>, commitment: KeyCommitment): Promise<RecoveredKey<S>> {
  const t = commitment.threshold
  // one share per x: two sources claiming the same x cannot both be right, and the library
  // would reject the pair; the later one is judged against the polynomial below
  const byX = new Map<number, { source: S, share: Uint8Array }>()
  const rest: Array<{ source: S, share: Uint8Array }> = []
  for (const r of released) {
    if (r.share.byteLength < 2 || shareX(r.share) === 0 || byX.has(shareX(r.share))) rest.push(r)
    else byX.set(shareX(r.share), r)
  }
  const candidates = [...byX.values()]
  let tried = 0
  for (const subset of subsets(candidates.length, t)) {
    if (++tried > MAX_SUBSETS) break
    const chosen = subset.map(i => candidates[i] as { source: S, share: Uint8Array })
    const shares = chosen.map(c => c.share)
    if (shares.some(s => s.byteLength !== (shares[0] as Uint8Array).byteLength)) continue
    const key = await rebuildKey(shares)
    if (keyCheck(commitment.keyId, key) !== commitment.check) { key.fill(0); continue }
    const wrong: S[] = []
    for (const r of [...candidates, ...rest]) {
      if (chosen.includes(r)) continue
      const ok = r.share.byteLength === (shares[0] as Uint8Array).byteLength && shareX(r.share) !== 0 && b4a.equals(interpolateAt(shares, shareX(r.share)), r.share)
      if (!ok) wrong.push(r.source)
    }
    return { key, wrong }
  }
  throw ShadwError.KEY_SHARES_SHORT(0, t, { reason: 'no set of the released shares rebuilds the committed key' })
}

/** Index subsets of size k of 0..n-1, in lexicographic order (so the first holders' shares are tried first). */
function * subsets (n: number, k: number): Generator<number[]> {
  if (k > n) return
  const idx = Array.from({ length: k }, (_, i) => i)
  while (true) {
    yield [...idx]
    let i = k - 1
    while (i >= 0 && idx[i] === n - k + i) i--
    if (i < 0) return
    idx[i] = (idx[i] as number) + 1
    for (let j = i + 1; j < k; j++) idx[j] = (idx[j - 1] as number) + 1
  }
}

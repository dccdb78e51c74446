/**
 * Share rotation without the key ever being whole: proactive re-sharing (Desmedt-Jajodia
 * style) over the same field as `shamir-secret-sharing` (GF(2^8), the AES polynomial), so the
 * new shares combine with that library. Each of t old holders scales its share by its
 * Lagrange coefficient at zero (public: it depends only on the participants' x coordinates)
 * and deals that as the secret of a fresh random polynomial of the new threshold, one
 * sub-share per new holder; each new holder adds (XOR) the sub-shares it received into its
 * new share. No participant sees more than its own share and the sub-shares addressed to it,
 * and the old shares say nothing about the new ones, so a holder that leaks an old share after
 * rotation leaks nothing usable with the new ones.
 *
 * Shares are laid out as the library lays them out: the y bytes, then one byte of x.
 */
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { ShadwError } from '../errors.ts'
import { MAX_KEY_HOLDERS } from './key-shares.ts'

/** Multiplication in GF(2^8) modulo x^8 + x^4 + x^3 + x + 1 (the field the library's tables describe). */
function mul (a: number, b: number): number {
  let out = 0
  for (let i = 0; i < 8; i++) {
    if ((b & 1) !== 0) out ^= a
    const carry = a & 0x80
    a = (a << 1) & 0xff
    if (carry !== 0) a ^= 0x1b
    b >>= 1
  }
  return out
}

/** The inverse of a non-zero element: a^254. */
function inv (a: number): number {
  let out = 1
  for (let i = 0; i < 254; i++) out = mul(out, a)
  return out
}

/** Lagrange coefficient at zero of the share at `x` among shares at `xs` (subtraction is XOR here). */
function lagrangeAtZero (x: number, xs: readonly number[]): number {
  let num = 1
  let den = 1
  for (const other of xs) {
    if (other === x) continue
    num = mul(num, other)
    den = mul(den, x ^ other)
  }
  return mul(num, inv(den))
}

function checkXs (xs: readonly number[], what: string): void {
  if (xs.length < 2 || xs.length > MAX_KEY_HOLDERS || new Set(xs).size !== xs.length || xs.some(x => !Number.isInteger(x) || x < 1 || x > 255)) {
    throw ShadwError.INVALID_ARGUMENT(`${what}: 2-${MAX_KEY_HOLDERS} distinct x coordinates in 1-255`)
  }
}

/** The x coordinate of a share (its last byte). */
export function shareX (share: Uint8Array): number {
  if (!(share instanceof Uint8Array) || share.byteLength < 2) throw ShadwError.INVALID_ARGUMENT('a share is at least 2 bytes')
  return share[share.byteLength - 1] as number
}

/** `n` distinct random x coordinates for a new set of holders. */
export function newShareXs (n: number): number[] {
  if (!Number.isInteger(n) || n < 2 || n > MAX_KEY_HOLDERS) throw ShadwError.INVALID_ARGUMENT(`need 2-${MAX_KEY_HOLDERS} holders`)
  const xs = new Set<number>()
  const byte = b4a.alloc(1)
  for (let i = 0; xs.size < n && i < 10_000; i++) {
    sodium.randombytes_buf(byte)
    if (byte[0] !== 0) xs.add(byte[0] as number)
  }
  return [...xs]
}

/**
 * One old holder's part of a rotation: its share scaled by its Lagrange coefficient among
 * `participants` (the x coordinates of exactly the old threshold's worth of holders taking
 * part, its own among them), dealt as sub-shares of a random polynomial of degree
 * `threshold - 1`, one per x of `to`. Sub-share `i` goes (sealed) to the new holder at `to[i]`.
 */
export function reshareDeal (share: Uint8Array, participants: readonly number[], to: readonly number[], threshold: number): Uint8Array[] {
  checkXs(participants, 'participants')
  checkXs(to, 'new holders')
  if (!Number.isInteger(threshold) || threshold < 2 || threshold > to.length) throw ShadwError.INVALID_ARGUMENT('need 2 <= threshold <= new holders')
  const x = shareX(share)
  if (!participants.includes(x)) throw ShadwError.INVALID_ARGUMENT('the share is not among the participants')
  const lambda = lagrangeAtZero(x, participants)
  const len = share.byteLength - 1
  const out = to.map(xj => { const s = b4a.alloc(len + 1); s[len] = xj; return s })
  const coefficients = b4a.alloc(threshold - 1)
  for (let b = 0; b < len; b++) {
    sodium.randombytes_buf(coefficients)
    const intercept = mul(lambda, share[b] as number)
    to.forEach((xj, j) => {
      // Horner: intercept + c1 x + c2 x^2 + ...
      let y = 0
      for (let k = coefficients.byteLength - 1; k >= 0; k--) y = mul(y ^ (coefficients[k] as number), xj)
      ;(out[j] as Uint8Array)[b] = y ^ intercept
    })
  }
  coefficients.fill(0)
  return out
}

/** A new holder's share: the XOR of the sub-shares every participant dealt to its x. */
export function reshareCombine (subShares: readonly Uint8Array[]): Uint8Array {
  if (subShares.length < 2) throw ShadwError.INVALID_ARGUMENT('need the sub-shares of at least two participants')
  const first = subShares[0] as Uint8Array
  const x = shareX(first)
  const out = b4a.alloc(first.byteLength)
  for (const s of subShares) {
    if (s.byteLength !== first.byteLength || shareX(s) !== x) throw ShadwError.INVALID_ARGUMENT('sub-shares differ in length or x coordinate')
    for (let b = 0; b < s.byteLength - 1; b++) out[b] = (out[b] as number) ^ (s[b] as number)
  }
  out[out.byteLength - 1] = x
  return out
}

/**
 * The share at `x` of the polynomial through `shares` (same length, distinct x): Lagrange
 * interpolation byte by byte. With exactly a threshold's worth of good shares this is what
 * an honest holder at `x` holds, so a requester can tell which released share is wrong.
 */
export function interpolateAt (shares: readonly Uint8Array[], x: number): Uint8Array {
  const xs = shares.map(shareX)
  checkXs(xs, 'shares')
  const len = (shares[0] as Uint8Array).byteLength - 1
  if (shares.some(s => s.byteLength !== len + 1)) throw ShadwError.INVALID_ARGUMENT('shares differ in length')
  // basis polynomial i at x: prod (x - xj) / (xi - xj) over j != i (subtraction is XOR)
  const basis = xs.map(xi => {
    let num = 1
    let den = 1
    for (const xj of xs) {
      if (xj === xi) continue
      num = mul(num, x ^ xj)
      den = mul(den, xi ^ xj)
    }
    return mul(num, inv(den))
  })
  const out = b4a.alloc(len + 1)
  out[len] = x
  for (let b = 0; b < len; b++) {
    let y = 0
    shares.forEach((s, i) => { y ^= mul(basis[i] as number, s[b] as number) })
    out[b] = y
  }
  return out
}

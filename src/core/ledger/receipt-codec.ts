/**
 * The executor's receipt body writer for the common case: a receipt without chain reads or
 * mounts (versions 3 and 4) whose strings are ASCII. Every call encodes one, on the node's
 * thread, and the generic two-pass writer (encoding.ts: a megamorphic codec call per field,
 * hex decoded into temporary buffers, strings written through a Node `Buffer` view made per
 * field) was the largest item of receipt work in the executor's profile. This writes the same
 * compact-encoding bytes in one pass with the size computed from the field values; anything
 * else (chain reads, mounts, a non-ASCII string) returns null and takes the generic path.
 * The record-bytes tests pin both paths to the same bytes. The canonical-form readers of the
 * decoding side are here too.
 */
import b4a from 'b4a'
import c, { type State } from 'compact-encoding'
import { ShadwError } from '../errors.ts'
import type { ReceiptBody } from './receipt.ts'

function bad (why: string): never {
  throw ShadwError.RECEIPT_INVALID(why)
}

/** Bytes of a compact-encoding `uint` holding `n`. */
function uintBytes (n: number): number {
  return n <= 0xfc ? 1 : n <= 0xffff ? 3 : n <= 0xffffffff ? 5 : 9
}

function writeUint (b: Uint8Array, at: number, n: number): number {
  if (n <= 0xfc) { b[at] = n; return at + 1 }
  if (n <= 0xffff) { b[at] = 0xfd; b[at + 1] = n & 0xff; b[at + 2] = n >>> 8; return at + 3 }
  if (n <= 0xffffffff) { b[at] = 0xfe; writeU32(b, at + 1, n); return at + 5 }
  b[at] = 0xff
  writeU32(b, at + 1, n >>> 0)
  writeU32(b, at + 5, Math.floor(n / 0x100000000))
  return at + 9
}

function writeU32 (b: Uint8Array, at: number, n: number): void {
  b[at] = n & 0xff
  b[at + 1] = (n >>> 8) & 0xff
  b[at + 2] = (n >>> 16) & 0xff
  b[at + 3] = n >>> 24
}

function isAscii (s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false
  return true
}

/** An ASCII string with its byte length first (compact-encoding's `string`). */
function writeAscii (b: Uint8Array, at: number, s: string): number {
  at = writeUint(b, at, s.length)
  for (let i = 0; i < s.length; i++) b[at + i] = s.charCodeAt(i)
  return at + s.length
}

/** Nibble values of '0'-'9' and 'a'-'f' by char code; the caller checked the hex. */
const NIBBLE = new Uint8Array(128)
for (let i = 0; i < 10; i++) NIBBLE[48 + i] = i
for (let i = 0; i < 6; i++) NIBBLE[97 + i] = 10 + i

/** Lowercase hex (checked by the caller) as bytes, in place. */
function writeHex (b: Uint8Array, at: number, h: string): number {
  const n = h.length >>> 1
  for (let i = 0; i < n; i++) b[at + i] = ((NIBBLE[h.charCodeAt(2 * i)] as number) << 4) | (NIBBLE[h.charCodeAt(2 * i + 1)] as number)
  return at + n
}

/** What the fast writer needs of a receipt body (receipt.ts's ReceiptBody, checked): the signed fields, and whether it reads chains or mounts. */
export type PlainReceiptBody = Omit<ReceiptBody, 'chainBlocks' | 'mounts'> & { chainBlocks?: unknown, mounts?: unknown }

/**
 * The body's bytes under `version` (3 or 4) with `tail` zero bytes after them, the result
 * viewing the body only; null when the body needs the generic writer (chain reads, mounts,
 * non-ASCII strings). `r` must have passed the body checks.
 */
export function encodePlainBody (r: PlainReceiptBody, version: number, tail: number): Uint8Array | null {
  if (r.chainBlocks !== undefined || r.mounts !== undefined || !isAscii(r.fn) || !isAscii(r.tenant)) return null
  const p = r.price
  const size = 1 + uintBytes(r.fn.length) + r.fn.length + 64 + 32 * 3 + uintBytes(r.fuel) + 32 +
    uintBytes(r.tenant.length) + r.tenant.length + uintBytes(r.time) + 32 + uintBytes(r.deadline) + uintBytes(r.bytes) +
    uintBytes(p.utilisationPpm) + uintBytes(p.fuelPrice) + uintBytes(p.bytePrice) + uintBytes(r.total)
  const b = new Uint8Array(size + tail)
  b[0] = version
  let at = writeAscii(b, 1, r.fn)
  at = writeHex(b, at, r.manifestSignature)
  at = writeHex(b, at, r.moduleHash)
  at = writeHex(b, at, r.inputHash)
  at = writeHex(b, at, r.outputHash)
  at = writeUint(b, at, r.fuel)
  at = writeHex(b, at, r.executor)
  at = writeAscii(b, at, r.tenant)
  at = writeUint(b, at, r.time)
  at = writeHex(b, at, r.nonce)
  at = writeUint(b, at, r.deadline)
  at = writeUint(b, at, r.bytes)
  at = writeUint(b, at, p.utilisationPpm)
  at = writeUint(b, at, p.fuelPrice)
  at = writeUint(b, at, p.bytePrice)
  at = writeUint(b, at, r.total)
  return tail === 0 ? b : b.subarray(0, at)
}

/**
 * Canonical form without encoding the receipt again: fixed-size fields have one form, so only
 * varints (shortest form) and strings (valid UTF-8, which decodes and encodes back to the same
 * bytes) can differ; together with checkBody's bounds a receipt that passes re-encodes to
 * exactly its bytes.
 */
export function canonicalUint (s: State): number {
  const at = s.start
  const v = c.uint.decode(s)
  if (s.start - at !== (v < 0xfd ? 1 : v <= 0xffff ? 3 : v <= 0xffffffff ? 5 : 9)) bad('receipt is not in canonical form (varint)')
  return v
}

export function canonicalString (s: State): string {
  const len = canonicalUint(s)
  if (len > s.end - s.start) bad('string runs past the end')
  const raw = (s.buffer as Uint8Array).subarray(s.start, s.start + len)
  const str = b4a.toString(raw, 'utf8')
  s.start += len
  // ASCII is always canonical; anything else must survive a round trip byte for byte
  let ascii = true
  for (let i = 0; i < raw.byteLength; i++) if ((raw[i] as number) >= 0x80) { ascii = false; break }
  if (!ascii && !b4a.equals(b4a.from(str, 'utf8'), raw)) bad('receipt is not in canonical form (UTF-8)')
  return str
}

/** `n` bytes at the state's position as lowercase hex (compact-encoding's fixed32/fixed64, then hex). */
export function hexField (s: State, n: number): string {
  if (s.end - s.start < n) bad('receipt runs past the end')
  const h = b4a.toString(s.buffer as Uint8Array, 'hex', s.start, s.start + n)
  s.start += n
  return h
}

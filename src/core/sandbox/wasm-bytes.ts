/**
 * LEB128 reading and writing over WebAssembly binaries.
 *
 * Every read is bounds-checked and every malformed encoding throws INVALID_MODULE: module
 * bytes come from tenants and peers, so the parser must never read past its input or loop
 * on a truncated LEB.
 */
import { ShadwError } from '../errors.ts'

/** A cursor over untrusted bytes. */
export class ByteReader {
  pos: number

  constructor (readonly bytes: Uint8Array, pos = 0, readonly end = bytes.length) {
    this.pos = pos
  }

  get done (): boolean {
    return this.pos >= this.end
  }

  byte (): number {
    if (this.pos >= this.end) throw ShadwError.INVALID_MODULE('unexpected end of module', { at: this.pos })
    return this.bytes[this.pos++] as number
  }

  peek (): number {
    if (this.pos >= this.end) throw ShadwError.INVALID_MODULE('unexpected end of module', { at: this.pos })
    return this.bytes[this.pos] as number
  }

  /** Unsigned LEB128 of at most 32 bits. */
  u32 (): number {
    let result = 0
    let shift = 0
    for (let i = 0; i < 5; i++) {
      const b = this.byte()
      result += (b & 0x7f) * 2 ** shift
      if ((b & 0x80) === 0) {
        if (result > 0xffffffff) throw ShadwError.INVALID_MODULE('u32 out of range', { at: this.pos })
        return result
      }
      shift += 7
    }
    throw ShadwError.INVALID_MODULE('u32 LEB too long', { at: this.pos })
  }

  /** Skips a signed LEB128 of at most `bits` bits (values of constants are not needed). */
  skipSleb (bits: number): void {
    const max = Math.ceil(bits / 7)
    for (let i = 0; i < max; i++) {
      if ((this.byte() & 0x80) === 0) return
    }
    throw ShadwError.INVALID_MODULE('signed LEB too long', { at: this.pos })
  }

  /** Signed LEB128 up to 33 bits, as used by block types. */
  s33 (): number {
    let result = 0
    let shift = 0
    for (let i = 0; i < 5; i++) {
      const b = this.byte()
      result += (b & 0x7f) * 2 ** shift
      shift += 7
      if ((b & 0x80) === 0) {
        if ((b & 0x40) !== 0) result -= 2 ** shift
        return result
      }
    }
    throw ShadwError.INVALID_MODULE('s33 LEB too long', { at: this.pos })
  }

  skip (n: number): void {
    if (n < 0 || this.pos + n > this.end) throw ShadwError.INVALID_MODULE('unexpected end of module', { at: this.pos })
    this.pos += n
  }

  slice (n: number): Uint8Array {
    const start = this.pos
    this.skip(n)
    return this.bytes.subarray(start, start + n)
  }

  name (): string {
    const len = this.u32()
    const raw = this.slice(len)
    let s = ''
    // names are UTF-8; imports and exports we care about are ASCII, others only compared
    for (const b of raw) s += String.fromCharCode(b)
    return s
  }
}

/** A growable byte buffer. */
export class ByteWriter {
  private buf: Uint8Array
  length = 0

  constructor (capacity = 1024) {
    this.buf = new Uint8Array(Math.max(16, capacity))
  }

  private ensure (extra: number): void {
    if (this.length + extra <= this.buf.length) return
    let cap = this.buf.length * 2
    while (cap < this.length + extra) cap *= 2
    const next = new Uint8Array(cap)
    next.set(this.buf.subarray(0, this.length))
    this.buf = next
  }

  byte (b: number): void {
    this.ensure(1)
    this.buf[this.length++] = b
  }

  bytes (b: Uint8Array): void {
    this.ensure(b.length)
    this.buf.set(b, this.length)
    this.length += b.length
  }

  u32 (value: number): void {
    let v = value >>> 0
    do {
      let b = v & 0x7f
      v >>>= 7
      if (v !== 0) b |= 0x80
      this.byte(b)
    } while (v !== 0)
  }

  /** Signed LEB128 of a safe integer. */
  sleb (value: number): void {
    let v = BigInt(value)
    for (;;) {
      const b = Number(v & 0x7fn)
      v >>= 7n
      const done = (v === 0n && (b & 0x40) === 0) || (v === -1n && (b & 0x40) !== 0)
      this.byte(done ? b : b | 0x80)
      if (done) return
    }
  }

  name (s: string): void {
    this.u32(s.length)
    for (let i = 0; i < s.length; i++) this.byte(s.charCodeAt(i) & 0xff)
  }

  finish (): Uint8Array {
    return this.buf.slice(0, this.length)
  }
}

/** Bytes of `n` as an unsigned LEB128. */
export function encodeU32 (n: number): Uint8Array {
  const w = new ByteWriter(8)
  w.u32(n)
  return w.finish()
}

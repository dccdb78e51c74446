// Base64 (raw ABI, AssemblyScript): encodes any bytes as RFC 4648 base64 text, the standard
// alphabet with `=` padding and no line breaks. Built with the npm `asc` and the stub runtime
// (a bump allocator, no garbage collector): every call gets a fresh instance, so nothing is
// ever freed, and `abort` is compiled out so the module imports nothing.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** The alphabet as 64 bytes in linear memory, written on first use. */
let table: usize = 0

function alphabet (): usize {
  if (table === 0) {
    table = heap.alloc(64)
    for (let i = 0; i < 64; i++) store<u8>(table + i, <u8>ALPHABET.charCodeAt(i))
  }
  return table
}

/** Reserves `len` bytes for the input and returns where the host writes it. */
export function alloc (len: i32): usize {
  return heap.alloc(<usize>len)
}

/** Encodes the `len` bytes at `ptr`; returns `(out_ptr << 32) | out_len`. */
export function run (ptr: usize, len: i32): i64 {
  const t = alphabet()
  const n = <usize>len
  const outLen = ((n + 2) / 3) * 4
  const out = heap.alloc(outLen > 0 ? outLen : 1)
  let i: usize = 0
  let o: usize = 0
  while (i + 3 <= n) {
    const v = (<u32>load<u8>(ptr + i) << 16) | (<u32>load<u8>(ptr + i + 1) << 8) | <u32>load<u8>(ptr + i + 2)
    store<u8>(out + o, load<u8>(t + ((v >> 18) & 63)))
    store<u8>(out + o + 1, load<u8>(t + ((v >> 12) & 63)))
    store<u8>(out + o + 2, load<u8>(t + ((v >> 6) & 63)))
    store<u8>(out + o + 3, load<u8>(t + (v & 63)))
    i += 3
    o += 4
  }
  const rest = n - i
  if (rest > 0) {
    const v = (<u32>load<u8>(ptr + i) << 16) | (rest === 2 ? <u32>load<u8>(ptr + i + 1) << 8 : 0)
    store<u8>(out + o, load<u8>(t + ((v >> 18) & 63)))
    store<u8>(out + o + 1, load<u8>(t + ((v >> 12) & 63)))
    store<u8>(out + o + 2, rest === 2 ? load<u8>(t + ((v >> 6) & 63)) : 61)
    store<u8>(out + o + 3, 61)
    o += 4
  }
  return (<i64>out << 32) | <i64>o
}

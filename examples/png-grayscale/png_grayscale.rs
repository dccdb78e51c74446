//! PNG to grayscale (raw ABI, Rust without imports): takes the bytes of a PNG (8-bit gray,
//! RGB, gray+alpha or RGBA, not interlaced) and returns a PNG of the same size in 8-bit gray
//! (gray+alpha when the input has alpha), with luma Y = (299 R + 587 G + 114 B) / 1000
//! rounded (ITU-R BT.601). The output is written with stored (uncompressed) deflate blocks:
//! simple and exact, at the cost of size. A PNG it cannot read traps (the caller sees TRAP).

#![no_main]

use std::alloc::{alloc as raw_alloc, Layout};

/// Pointer to `len` writable bytes for the host to copy the input into.
#[no_mangle]
pub extern "C" fn alloc(len: usize) -> *mut u8 {
    // a fresh instance per call: nothing is ever freed
    unsafe { raw_alloc(Layout::from_size_align(len.max(1), 16).unwrap()) }
}

/// The raw ABI's entry: input at `ptr`, output location as `(ptr << 32) | len`.
#[no_mangle]
pub extern "C" fn run(ptr: *const u8, len: usize) -> u64 {
    let input = unsafe { std::slice::from_raw_parts(ptr, len) };
    let out = match grayscale(input) {
        Some(png) => png,
        None => std::process::abort(),
    };
    let out = out.leak();
    ((out.as_ptr() as u64) << 32) | out.len() as u64
}

/// Images over this many pixels are refused: 16 Mpx of RGBA is 64 MiB, past any memory cap.
const MAX_PIXELS: u64 = 16 * 1024 * 1024;

fn be32(b: &[u8]) -> u32 {
    u32::from_be_bytes([b[0], b[1], b[2], b[3]])
}

fn grayscale(png: &[u8]) -> Option<Vec<u8>> {
    if png.len() < 8 || png[..8] != [0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a] { return None; }
    let (mut width, mut height, mut color) = (0u32, 0u32, 255u8);
    let mut idat = Vec::new();
    let mut i = 8;
    while i + 12 <= png.len() {
        let n = be32(&png[i..]) as usize;
        let kind = &png[i + 4..i + 8];
        let data = png.get(i + 8..i + 8 + n)?;
        match kind {
            b"IHDR" => {
                if n != 13 || data[8] != 8 || data[10] != 0 || data[11] != 0 || data[12] != 0 { return None; }
                width = be32(data);
                height = be32(&data[4..]);
                color = data[9];
            }
            b"IDAT" => idat.extend_from_slice(data),
            b"IEND" => break,
            _ => {}
        }
        i += 12 + n;
    }
    let channels = match color { 0 => 1, 2 => 3, 4 => 2, 6 => 4, _ => return None };
    if width == 0 || height == 0 || width as u64 * height as u64 > MAX_PIXELS { return None; }
    let (w, h) = (width as usize, height as usize);
    let stride = w * channels;
    if idat.len() < 2 || (idat[0] & 0x0f) != 8 || (idat[1] & 0x20) != 0 { return None; }
    let raw = inflate(&idat[2..], (stride + 1) * h)?;
    if raw.len() != (stride + 1) * h { return None; }
    let pixels = unfilter(&raw, stride, h, channels)?;
    let alpha = channels == 2 || channels == 4;
    let out_channels = if alpha { 2 } else { 1 };
    let mut rows = Vec::with_capacity((w * out_channels + 1) * h);
    for y in 0..h {
        rows.push(0); // filter: none
        for x in 0..w {
            let p = &pixels[y * stride + x * channels..];
            let (luma, a) = match channels {
                1 => (p[0], None),
                2 => (p[0], Some(p[1])),
                3 => (luma(p[0], p[1], p[2]), None),
                _ => (luma(p[0], p[1], p[2]), Some(p[3])),
            };
            rows.push(luma);
            if let Some(a) = a { rows.push(a); }
        }
    }
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a];
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, if alpha { 4 } else { 0 }, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &zlib_stored(&rows));
    chunk(&mut out, b"IEND", &[]);
    Some(out)
}

fn luma(r: u8, g: u8, b: u8) -> u8 {
    ((299 * r as u32 + 587 * g as u32 + 114 * b as u32 + 500) / 1000) as u8
}

fn unfilter(raw: &[u8], stride: usize, h: usize, bpp: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; stride * h];
    for y in 0..h {
        let filter = raw[y * (stride + 1)];
        let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
        for x in 0..stride {
            let a = if x >= bpp { out[y * stride + x - bpp] as i32 } else { 0 };
            let b = if y > 0 { out[(y - 1) * stride + x] as i32 } else { 0 };
            let c = if x >= bpp && y > 0 { out[(y - 1) * stride + x - bpp] as i32 } else { 0 };
            let pred = match filter {
                0 => 0,
                1 => a,
                2 => b,
                3 => (a + b) / 2,
                4 => {
                    let p = a + b - c;
                    let (pa, pb, pc) = ((p - a).abs(), (p - b).abs(), (p - c).abs());
                    if pa <= pb && pa <= pc { a } else if pb <= pc { b } else { c }
                }
                _ => return None,
            };
            out[y * stride + x] = line[x].wrapping_add(pred as u8);
        }
    }
    Some(out)
}

fn crc32(parts: &[&[u8]]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for part in parts {
        for &byte in part.iter() {
            crc ^= byte as u32;
            for _ in 0..8 { crc = if crc & 1 != 0 { 0xedb8_8320 ^ (crc >> 1) } else { crc >> 1 }; }
        }
    }
    !crc
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&(data.len() as u32).to_be_bytes());
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc32(&[kind, data]).to_be_bytes());
}

/// A zlib stream of stored blocks (RFC 1950/1951): no compression, so no encoder to trust.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let blocks: Vec<&[u8]> = if data.is_empty() { vec![&[][..]] } else { data.chunks(65535).collect() };
    for (i, block) in blocks.iter().enumerate() {
        out.push(if i + 1 == blocks.len() { 1 } else { 0 });
        let n = block.len() as u16;
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&(!n).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data { a = (a + byte as u32) % 65521; b = (b + a) % 65521; }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

struct Bits<'a> { s: &'a [u8], pos: usize, bit: u32, nbits: u32 }

impl<'a> Bits<'a> {
    fn need(&mut self, n: u32) -> Option<u32> {
        while self.nbits < n {
            let byte = *self.s.get(self.pos)? as u32;
            self.pos += 1;
            self.bit |= byte << self.nbits;
            self.nbits += 8;
        }
        let v = self.bit & ((1u32 << n) - 1);
        self.bit >>= n;
        self.nbits -= n;
        Some(v)
    }
}

/// A canonical Huffman code as counts per length and symbols in code order (as in zlib's puff.c).
struct Huffman { count: [u16; 16], symbol: Vec<u16> }

impl Huffman {
    fn new(lengths: &[u8]) -> Option<Huffman> {
        let mut count = [0u16; 16];
        for &l in lengths { count[l as usize] += 1; }
        let mut offs = [0u16; 16];
        for len in 1..15 { offs[len + 1] = offs[len] + count[len]; }
        let mut symbol = vec![0u16; lengths.len()];
        for (s, &l) in lengths.iter().enumerate() {
            if l != 0 { symbol[offs[l as usize] as usize] = s as u16; offs[l as usize] += 1; }
        }
        count[0] = 0;
        Some(Huffman { count, symbol })
    }
    fn decode(&self, bits: &mut Bits) -> Option<u16> {
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for len in 1..16 {
            code |= bits.need(1)? as i32;
            let count = self.count[len] as i32;
            if code - count < first { return self.symbol.get((index + (code - first)) as usize).copied(); }
            index += count;
            first += count;
            first <<= 1;
            code <<= 1;
        }
        None
    }
}

const LEN_BASE: [u16; 29] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258];
const LEN_EXTRA: [u8; 29] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0];
const DIST_BASE: [u16; 30] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577];
const DIST_EXTRA: [u8; 30] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13];

/// Raw deflate (RFC 1951), refusing output past `limit` bytes (a deflate bomb stops here).
fn inflate(s: &[u8], limit: usize) -> Option<Vec<u8>> {
    let mut bits = Bits { s, pos: 0, bit: 0, nbits: 0 };
    let mut out: Vec<u8> = Vec::with_capacity(limit);
    loop {
        let last = bits.need(1)?;
        match bits.need(2)? {
            0 => {
                bits.bit = 0;
                bits.nbits = 0;
                let hdr = s.get(bits.pos..bits.pos + 4)?;
                let n = u16::from_le_bytes([hdr[0], hdr[1]]) as usize;
                if n as u16 != !u16::from_le_bytes([hdr[2], hdr[3]]) { return None; }
                bits.pos += 4;
                out.extend_from_slice(s.get(bits.pos..bits.pos + n)?);
                bits.pos += n;
            }
            kind @ (1 | 2) => {
                let (lit, dist) = if kind == 1 {
                    let mut l = [0u8; 288];
                    for (i, v) in l.iter_mut().enumerate() { *v = if i < 144 { 8 } else if i < 256 { 9 } else if i < 280 { 7 } else { 8 }; }
                    (Huffman::new(&l)?, Huffman::new(&[5u8; 30])?)
                } else {
                    let nlen = bits.need(5)? as usize + 257;
                    let ndist = bits.need(5)? as usize + 1;
                    let ncode = bits.need(4)? as usize + 4;
                    const ORDER: [usize; 19] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15];
                    let mut cl = [0u8; 19];
                    for &o in ORDER.iter().take(ncode) { cl[o] = bits.need(3)? as u8; }
                    let code = Huffman::new(&cl)?;
                    let mut lengths = Vec::with_capacity(nlen + ndist);
                    while lengths.len() < nlen + ndist {
                        let sym = code.decode(&mut bits)?;
                        match sym {
                            0..=15 => lengths.push(sym as u8),
                            16 => { let prev = *lengths.last()?; for _ in 0..3 + bits.need(2)? { lengths.push(prev); } }
                            17 => { for _ in 0..3 + bits.need(3)? { lengths.push(0); } }
                            _ => { for _ in 0..11 + bits.need(7)? { lengths.push(0); } }
                        }
                    }
                    if lengths.len() != nlen + ndist { return None; }
                    (Huffman::new(&lengths[..nlen])?, Huffman::new(&lengths[nlen..])?)
                };
                loop {
                    let sym = lit.decode(&mut bits)? as usize;
                    if sym < 256 { out.push(sym as u8); } else if sym == 256 { break; } else {
                        let li = sym - 257;
                        if li >= 29 { return None; }
                        let len = LEN_BASE[li] as usize + bits.need(LEN_EXTRA[li] as u32)? as usize;
                        let di = dist.decode(&mut bits)? as usize;
                        if di >= 30 { return None; }
                        let d = DIST_BASE[di] as usize + bits.need(DIST_EXTRA[di] as u32)? as usize;
                        if d > out.len() { return None; }
                        for _ in 0..len { out.push(out[out.len() - d]); }
                    }
                    if out.len() > limit { return None; }
                }
            }
            _ => return None,
        }
        if out.len() > limit { return None; }
        if last == 1 { return Some(out); }
    }
}

/**
 * The blocks a file is written in. Hyperblobs appends each chunk it is given as one block
 * of the blob log, whatever its size, and a block is what a reader fetches and verifies at
 * once: a mounted file's 4 KiB read moves the whole block holding it. So a file's chunks are
 * cut here into blocks of one size (64 KiB, Hyperblobs' own default, unless the writer picks
 * a smaller one for a dataset read in small scattered pieces), however the bytes arrived: a
 * read stream's 256 KiB chunks or a page's 4 MiB upload chunks alike.
 */
import { ShadwError } from '../errors.ts'

/** The block size a drive's files are written in unless the writer asks for another: Hyperblobs' default. */
export const DRIVE_BLOCK_BYTES = 64 * 1024
/** Smallest block size a writer may pick: a page of the sandbox's lazy files (lazy-files.ts). */
export const MIN_DRIVE_BLOCK_BYTES = 4 * 1024

/**
 * Checks a block size a writer asked for: a power of two from 4 to 64 KiB.
 * @throws `INVALID_ARGUMENT`
 */
export function checkBlockSize (n: number): number {
  if (!Number.isInteger(n) || n < MIN_DRIVE_BLOCK_BYTES || n > DRIVE_BLOCK_BYTES || (n & (n - 1)) !== 0) {
    throw ShadwError.INVALID_ARGUMENT(`a block size is a power of two from ${MIN_DRIVE_BLOCK_BYTES} to ${DRIVE_BLOCK_BYTES} bytes, got ${n}`)
  }
  return n
}

/**
 * `source` cut into blocks of `size` bytes (the last one shorter). A chunk that is already
 * whole blocks is passed on in views of itself; only bytes that straddle chunks are copied.
 */
export async function * toBlocks (source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let carry = new Uint8Array(size)
  let held = 0
  for await (const chunk of source) {
    let at = 0
    if (held > 0) {
      const n = Math.min(size - held, chunk.byteLength)
      carry.set(chunk.subarray(0, n), held)
      held += n
      at = n
      if (held < size) continue
      yield carry
      carry = new Uint8Array(size)
      held = 0
    }
    while (chunk.byteLength - at >= size) {
      yield chunk.subarray(at, at + size)
      at += size
    }
    if (at < chunk.byteLength) {
      carry.set(chunk.subarray(at), 0)
      held = chunk.byteLength - at
    }
  }
  if (held > 0) yield carry.subarray(0, held)
}

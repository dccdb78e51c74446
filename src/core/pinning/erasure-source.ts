/**
 * The bytes of a drive version, as the erasure pinner codes them, read by range from the
 * drive's logs without holding them: a 4-byte big-endian header length, a JSON header naming
 * each log (key, length, every block's size), then every block of every log in order. That
 * is enough to rebuild the logs' blocks from any K shards per stripe; the signed pin record
 * commits to the whole.
 *
 * The header needs every block's size before the first byte: one read over the logs finds
 * them (the blocks are local; none is kept), and the header itself is small (a number per
 * block).
 */
import b4a from 'b4a'
import { ShadwError } from '../errors.ts'
import type { ByteSource } from './erasure-pinner.ts'

/** What the source reads of a log: Hypercore's own surface. */
export interface SourceLog {
  readonly key: Uint8Array | null
  readonly length: number
  get: (index: number, opts: { wait: false }) => Promise<Uint8Array | null>
}

/** A drive version as a {@link ByteSource}, with the version it names. */
export interface DriveVersionSource extends ByteSource { version: number }

/** Builds the source over `logs` at their current lengths (the first log's length is the version). */
export async function driveVersionSource (logs: SourceLog[]): Promise<DriveVersionSource> {
  const header: Array<{ key: string, length: number, blocks: number[] }> = []
  /** per block in order: its log, index and where its bytes start in the version */
  const blocks: Array<{ log: SourceLog, index: number }> = []
  const starts: number[] = []
  let body = 0
  for (const log of logs) {
    const sizes: number[] = []
    const length = log.length
    for (let i = 0; i < length; i++) {
      const b = await log.get(i, { wait: false })
      if (b === null) throw ShadwError.INTERNAL(`block ${i} of a local log is missing`)
      sizes.push(b.byteLength)
      blocks.push({ log, index: i })
      starts.push(body)
      body += b.byteLength
    }
    header.push({ key: b4a.toString(log.key ?? new Uint8Array(32), 'hex'), length, blocks: sizes })
  }
  const json = b4a.from(JSON.stringify({ logs: header }))
  const head = new Uint8Array(4 + json.byteLength)
  new DataView(head.buffer, head.byteOffset, 4).setUint32(0, json.byteLength)
  head.set(json, 4)
  const size = head.byteLength + body

  /** the last block starting at or before body offset `at` */
  const blockAt = (at: number): number => {
    let lo = 0
    let hi = starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (starts[mid]! <= at) lo = mid
      else hi = mid - 1
    }
    return lo
  }

  const read = async (offset: number, length: number): Promise<Uint8Array> => {
    const end = Math.min(size, offset + length)
    const out = new Uint8Array(Math.max(0, end - offset))
    let at = offset
    if (at < head.byteLength) {
      const part = head.subarray(at, Math.min(head.byteLength, end))
      out.set(part, 0)
      at += part.byteLength
    }
    for (let b = blocks.length === 0 ? 0 : blockAt(at - head.byteLength); at < end && b < blocks.length; b++) {
      const { log, index } = blocks[b]!
      const block = await log.get(index, { wait: false })
      if (block === null) throw ShadwError.INTERNAL(`block ${index} of a local log is missing`)
      const from = at - head.byteLength - starts[b]!
      const part = block.subarray(from, Math.min(block.byteLength, from + end - at))
      out.set(part, at - offset)
      at += part.byteLength
    }
    return out
  }
  return { size, read, version: logs[0]?.length ?? 0 }
}

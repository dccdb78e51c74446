/**
 * Streams one blob (a file's bytes) out of a drive's blob log with a bounded read-ahead.
 *
 * Why not Hyperblobs' own read stream: it asks the log for one block at a time and only
 * asks for the next once the consumer has taken the previous one (plus two stream layers in
 * Hyperdrive's wrapper), so a block that is already local still costs a disk read the
 * consumer waits for, one after another. Here a range download fetches the blob's blocks in
 * order from peers, and up to {@link READ_AHEAD_BLOCKS} `get`s are in flight ahead of the
 * consumer: local disk reads and verification overlap with the consumer's work. Memory is
 * bounded by the window (blocks a drive writes are at most 64 KiB: 1 MiB in flight).
 */
import type Hypercore from 'hypercore'
import type { BlobId } from 'hyperdrive'

/** Blob-log blocks a reader keeps requested ahead of its consumer. */
export const READ_AHEAD_BLOCKS = 16

/**
 * Bytes `start`..`end` (inclusive, within the blob) of `blob`, in block-sized chunks, in
 * order. A block no peer sends within `timeoutMs` fails the read with Hypercore's error.
 * Opens (and closes) its own session of `core`, so a consumer that stops early cancels
 * whatever is still requested.
 */
export async function * readBlob (core: Hypercore, blob: BlobId, start: number, end: number, timeoutMs: number): AsyncGenerator<Uint8Array> {
  const session = core.session({ wait: true, timeout: timeoutMs })
  const fileEnd = blob.blockOffset + blob.blockLength
  let range: { destroy (): void } | null = null
  const window: Array<Promise<Uint8Array | null>> = []
  try {
    // the block holding `start`, and where in it `start` falls
    const [first, skip] = start === 0 ? [blob.blockOffset, 0] : await seekIn(session, blob.byteOffset + start, fileEnd)
    // one past the last block holding `end`
    const last = end === blob.byteLength - 1 ? fileEnd : Math.min(fileEnd, (await seekIn(session, blob.byteOffset + end, fileEnd))[0] + 1)
    range = session.download({ start: first, end: last, linear: true })
    let next = first
    let offset = skip
    let left = end - start + 1
    const fill = (): void => {
      while (window.length < READ_AHEAD_BLOCKS && next < last) {
        const p = session.get(next++)
        // awaited in order below; a failure ahead of the consumer must not go unhandled meanwhile
        p.catch(() => {})
        window.push(p)
      }
    }
    while (left > 0) {
      fill()
      const pending = window.shift()
      if (pending === undefined) break
      let block = await pending
      if (block === null) throw Object.assign(new Error('block not available'), { code: 'REQUEST_TIMEOUT' })
      if (offset > 0 || block.byteLength - offset > left) block = block.subarray(offset, offset + left)
      offset = 0
      left -= block.byteLength
      yield block
    }
  } finally {
    range?.destroy()
    await session.close().catch(() => {})
  }
}

async function seekIn (core: Hypercore, byte: number, fileEnd: number): Promise<[number, number]> {
  const at = await core.seek(byte)
  if (at === null) throw Object.assign(new Error('block not available'), { code: 'REQUEST_TIMEOUT' })
  return at[0] >= fileEnd ? [fileEnd, 0] : at
}

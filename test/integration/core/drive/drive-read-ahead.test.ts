import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { DRIVE_BLOCK_BYTES, Drive } from '../../../../src/core/drive/index.ts'
import { testNode, testnet } from '../../../helpers/testnet.ts'

/** 40 blocks and a short tail: more than one read-ahead window, ragged at the end. */
const SIZE = 40 * DRIVE_BLOCK_BYTES + 1234

/** Bytes that differ at every offset within a block and from block to block. */
function content (): Uint8Array {
  const b = new Uint8Array(SIZE)
  for (let i = 0; i < SIZE; i++) b[i] = (i * 31 + Math.floor(i / DRIVE_BLOCK_BYTES) * 7) & 0xff
  return b
}

async function collect (it: AsyncIterable<Uint8Array>): Promise<{ bytes: Uint8Array, chunks: number[] }> {
  const parts: Uint8Array[] = []
  for await (const c of it) parts.push(c)
  return { bytes: b4a.concat(parts), chunks: parts.map(p => p.byteLength) }
}

describe('Drive.read with a read-ahead window, from a remote holder', () => {
  it('streams whole files and ranges across block edges byte for byte, fetching only the range, plain and encrypted', async () => {
    const net = await testnet()
    const writer = await testNode(net)
    const readers = [await testNode(net), await testNode(net), await testNode(net), await testNode(net)]
    const data = content()
    for (const [round, encrypt] of [false, true].entries()) {
      const { drive, encryptionKey } = await Drive.create(writer, { encrypt })
      await drive.put('/f.bin', [data.subarray(0, 100_000), data.subarray(100_000)])

      // a range in the middle fetches the blocks it spans, not the file
      const sparse = await Drive.open(readers[2 * round] as typeof writer, drive.key, { encryptionKey })
      const mid = await collect(sparse.read('/f.bin', { start: 20 * DRIVE_BLOCK_BYTES - 10, end: 20 * DRIVE_BLOCK_BYTES + 9 }))
      expect(b4a.equals(mid.bytes, data.subarray(20 * DRIVE_BLOCK_BYTES - 10, 20 * DRIVE_BLOCK_BYTES + 10))).toBe(true)
      expect(sparse.bytesFetched).toBeLessThan(4 * DRIVE_BLOCK_BYTES)
      // a consumer that stops early leaves the handle usable
      const early = sparse.read('/f.bin')
      expect((await early.next()).value?.byteLength).toBe(DRIVE_BLOCK_BYTES)
      await early.return(undefined)
      await sparse.close()

      const reader = await Drive.open(readers[2 * round + 1] as typeof writer, drive.key, { encryptionKey })
      const whole = await collect(reader.read('/f.bin'))
      expect(whole.bytes.byteLength).toBe(SIZE)
      expect(b4a.equals(whole.bytes, data)).toBe(true)
      expect(whole.chunks).toHaveLength(41)
      const ranges: Array<[number, number]> = [
        [0, 0], [SIZE - 1, SIZE - 1], [1, DRIVE_BLOCK_BYTES - 1], [DRIVE_BLOCK_BYTES - 1, DRIVE_BLOCK_BYTES],
        [DRIVE_BLOCK_BYTES, 3 * DRIVE_BLOCK_BYTES - 1], [12345, SIZE - 1], [5 * DRIVE_BLOCK_BYTES + 7, 30 * DRIVE_BLOCK_BYTES + 3]
      ]
      for (const [start, end] of ranges) {
        const got = await collect(reader.read('/f.bin', { start, end }))
        expect(b4a.equals(got.bytes, data.subarray(start, end + 1)), `${start}-${end}`).toBe(true)
      }
      await reader.close()
      await drive.close()
    }
  })
})

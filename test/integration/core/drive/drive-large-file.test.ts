import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { Drive } from '../../../../src/core/drive/index.ts'
import { tempDir } from '../../../helpers/super-node.ts'
import { testNode, testnet } from '../../../helpers/testnet.ts'

/** The file: 1 GiB unless SHADW_LARGE_FILE_MIB says otherwise (a quick local run). */
const FILE_MIB = Number(process.env['SHADW_LARGE_FILE_MIB'] ?? 1024)
const CHUNK = 1024 * 1024
/** Peak RSS growth allowed while a file of FILE_MIB streams in and out: a fraction of the file. */
const MAX_GROWTH_MIB = 192

/** A generated stream: each MiB differs (its index is stamped through it), nothing is kept. */
async function * generated (mib: number, hash: ReturnType<typeof createHash>): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < mib; i++) {
    const chunk = Buffer.alloc(CHUNK, i % 251)
    for (let o = 0; o < CHUNK; o += 4096) chunk.writeUInt32LE(i, o)
    hash.update(chunk)
    yield chunk
  }
}

describe('Drive with a large file', () => {
  it(`streams ${FILE_MIB} MiB in and out with bounded memory`, async () => {
    const net = await testnet()
    const node = await testNode(net, { storage: await tempDir() })
    const { drive } = await Drive.create(node)
    globalThis.gc?.()
    const base = process.memoryUsage().rss
    let peak = base
    const sampler = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 25)
    try {
      const inHash = createHash('sha256')
      const put = await drive.put('/big.bin', generated(FILE_MIB, inHash))
      expect(put.size).toBe(FILE_MIB * CHUNK)
      const outHash = createHash('sha256')
      let read = 0
      for await (const chunk of drive.read('/big.bin')) {
        outHash.update(chunk)
        read += chunk.byteLength
        peak = Math.max(peak, process.memoryUsage().rss)
      }
      expect(read).toBe(FILE_MIB * CHUNK)
      expect(outHash.digest('hex')).toBe(inHash.digest('hex'))
    } finally {
      clearInterval(sampler)
      await drive.close()
    }
    const growthMib = (peak - base) / CHUNK
    console.log(`large file: ${FILE_MIB} MiB through the drive, peak RSS growth ${growthMib.toFixed(1)} MiB`)
    expect(growthMib).toBeLessThan(MAX_GROWTH_MIB)
  }, 600_000)
})

import b4a from 'b4a'
import Corestore from 'corestore'
import RAM from 'random-access-memory'
import { describe, expect, it } from 'vitest'
import { driveVersionSource, pickShardBytes } from '../../../../src/core/pinning/index.ts'

describe('a drive version as a byte source', () => {
  it('reads any range of the framed version (header, then every block of every log) without holding it', async () => {
    const store = new Corestore(RAM.reusable())
    const a = store.get({ name: 'a' })
    const b = store.get({ name: 'b' })
    await a.append([b4a.alloc(5, 1), b4a.alloc(0), b4a.alloc(70_000, 2)])
    await b.append([b4a.from('hello'), b4a.alloc(3000, 3)])
    const source = await driveVersionSource([a, b])
    const json = b4a.from(JSON.stringify({ logs: [{ key: b4a.toString(a.key!, 'hex'), length: 3, blocks: [5, 0, 70_000] }, { key: b4a.toString(b.key!, 'hex'), length: 2, blocks: [5, 3000] }] }))
    const len = Buffer.alloc(4)
    len.writeUInt32BE(json.byteLength)
    const whole = b4a.concat([len, json, b4a.alloc(5, 1), b4a.alloc(70_000, 2), b4a.from('hello'), b4a.alloc(3000, 3)])
    expect(source.size).toBe(whole.byteLength)
    expect(source.version).toBe(3)
    for (const [off, n] of [[0, whole.byteLength], [0, 3], [2, 40], [json.byteLength + 2, 9], [json.byteLength + 8, 70_001], [whole.byteLength - 3005, 10], [whole.byteLength - 2, 100], [whole.byteLength, 5]] as Array<[number, number]>) {
      expect(b4a.equals(await source.read(off, n), whole.subarray(off, off + n)), `read(${off}, ${n})`).toBe(true)
    }
    await store.close()
  })

  it('picks larger shards only for a version past the record\'s stripe limit, and refuses one too large for any', () => {
    expect(pickShardBytes(256 * 1024 * 1024, 4)).toBe(64 * 1024)
    expect(pickShardBytes(1024 * 1024 * 1024, 4)).toBe(256 * 1024)
    expect(() => pickShardBytes(64 * 1024 * 1024 * 1024, 4)).toThrow(expect.objectContaining({ code: 'ERASURE_INVALID' }))
  })
})

import { describe, expect, it } from 'vitest'
import { ChunkFeed, UploadSession } from '../../../src/browser/upload-session.ts'

/** A writer like `Drive.put`: takes chunks one at a time, slowly, and records them. */
function slowPut (seen: number[], delayMs = 5): (path: string, source: AsyncIterable<Uint8Array>) => Promise<{ path: string, size: number, version: number }> {
  return async (path, source) => {
    let size = 0
    for await (const chunk of source) {
      await new Promise(resolve => setTimeout(resolve, delayMs))
      seen.push(chunk.byteLength)
      size += chunk.byteLength
    }
    return { path, size, version: 7 }
  }
}

describe('upload sessions', () => {
  it('answer each chunk once the writer took it, and end with the writer\'s result', async () => {
    const seen: number[] = []
    const session = new UploadSession({ id: 'a', drive: 'd', path: '/f', put: slowPut(seen), onIdle: () => {} })
    // a chunk is answered only once the writer is done with it and asks for the next
    expect(await session.write(new Uint8Array(3))).toBe(3)
    expect(seen).toEqual([3])
    expect(await session.write(new Uint8Array(5))).toBe(8)
    expect(seen).toEqual([3, 5])
    expect(await session.end()).toEqual({ path: '/f', size: 8, version: 7 })
    expect(seen).toEqual([3, 5])
  })

  it('refuses a second chunk while one is pending, and an abort fails the writer with ABORTED', async () => {
    const feed = new ChunkFeed()
    const first = feed.push(new Uint8Array(1))
    await expect(feed.push(new Uint8Array(1))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    const consumed: number[] = []
    const reading = (async () => { for await (const c of feed) consumed.push(c.byteLength) })()
    await first
    feed.fail(Object.assign(new Error('ABORTED: upload aborted'), { code: 'ABORTED' }))
    await expect(reading).rejects.toMatchObject({ code: 'ABORTED' })
    expect(consumed).toEqual([1])

    const session = new UploadSession({ id: 'b', drive: 'd', path: '/g', put: slowPut([]), onIdle: () => {} })
    await session.write(new Uint8Array(2))
    session.abort()
    await expect(session.end()).rejects.toMatchObject({ code: 'ABORTED' })
  })

  it('a writer that fails makes the next chunk fail with its error', async () => {
    const session = new UploadSession({
      id: 'c',
      drive: 'd',
      path: '/h',
      put: async (_path, source) => {
        const it = source[Symbol.asyncIterator]()
        await it.next()
        throw Object.assign(new Error('STORAGE_FULL: quota'), { code: 'STORAGE_FULL' })
      },
      onIdle: () => {}
    })
    await session.write(new Uint8Array(1)).catch(() => {})
    await expect(session.write(new Uint8Array(1))).rejects.toMatchObject({ code: 'STORAGE_FULL' })
  })
})

import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { testNode, testnet } from '../../../helpers/testnet.ts'

/** Blocks in the test log: several Hypercore request batches, still quick on two cores. */
const BLOCKS = 300
/** Bound on every network wait in these tests; generous for a loaded CI machine. */
const WAIT_MS = 20_000

const block = (i: number): Uint8Array => b4a.from(`block-${i}`.padEnd(100, '.'))

describe('ShadwNode.download', () => {
  it('makes a whole range local in one request, verified, and counts what it fetched', async () => {
    const net = await testnet()
    const writer = await testNode(net)
    const reader = await testNode(net)
    const log = await writer.createLog('bulk')
    await writer.append(log.key, Array.from({ length: BLOCKS }, (_, i) => block(i)))

    await reader.follow(log.key)
    await reader.waitForLength(log.key, BLOCKS, WAIT_MS)

    // a sub-range first: only those blocks are fetched
    const part = await reader.download(log.key, { start: 10, end: 20 }, { timeout: WAIT_MS })
    expect(part).toMatchObject({ blocks: 10, fetched: 10, bytes: 10 * 100 })
    expect(await reader.has(log.key, 9)).toBe(false)
    expect(await reader.has(log.key, 20)).toBe(false)

    // the whole log (end defaults to the known length); the ten already local are not fetched again
    const all = await reader.download(log.key, {}, { timeout: WAIT_MS })
    expect(all).toMatchObject({ blocks: BLOCKS, fetched: BLOCKS - 10, bytes: (BLOCKS - 10) * 100 })
    expect(all.ms).toBeGreaterThanOrEqual(0)
    for (const i of [0, 150, BLOCKS - 1]) expect(b4a.toString((await reader.get(log.key, i, { wait: false }))!)).toBe(b4a.toString(block(i)))
    expect(reader.logInfo(log.key).contiguousLength).toBe(BLOCKS)

    // nothing left to fetch
    expect(await reader.download(log.key, { start: 0, end: BLOCKS }, { timeout: WAIT_MS })).toMatchObject({ blocks: BLOCKS, fetched: 0, bytes: 0 })
    expect(await reader.download(log.key, { start: 5, end: 5 })).toMatchObject({ blocks: 0, fetched: 0 })
  })

  it('waits for the log to grow when the range ends beyond the known length', async () => {
    const net = await testnet()
    const writer = await testNode(net)
    const reader = await testNode(net)
    const log = await writer.createLog('growing')
    await writer.append(log.key, [block(0)])
    await reader.follow(log.key)
    await reader.waitForLength(log.key, 1, WAIT_MS)

    const pending = reader.download(log.key, { start: 0, end: 3 }, { timeout: WAIT_MS })
    await writer.append(log.key, [block(1), block(2)])
    expect(await pending).toMatchObject({ blocks: 3, fetched: 3 })
    expect(b4a.toString((await reader.get(log.key, 2, { wait: false }))!)).toBe(b4a.toString(block(2)))
  })

  it('gives up with a typed error within its timeout, keeping what it had', async () => {
    const net = await testnet()
    const writer = await testNode(net)
    const reader = await testNode(net)
    const log = await writer.createLog('lost')
    await writer.append(log.key, [block(0), block(1)])
    await reader.follow(log.key)
    await reader.waitForLength(log.key, 2, WAIT_MS)
    await reader.download(log.key, { start: 0, end: 1 }, { timeout: WAIT_MS })

    // a length nobody will reach
    await expect(reader.download(log.key, { start: 0, end: 50 }, { timeout: 300 })).rejects.toMatchObject({ code: 'TIMEOUT' })
    // the only peer that has block 1 is gone
    await writer.stop()
    const started = Date.now()
    await expect(reader.download(log.key, { start: 0, end: 2 }, { timeout: 500 })).rejects.toMatchObject({ code: 'TIMEOUT' })
    expect(Date.now() - started).toBeLessThan(WAIT_MS)
    expect(await reader.has(log.key, 0)).toBe(true)
    const abort = new AbortController()
    const aborted = reader.download(log.key, { start: 0, end: 2 }, { timeout: WAIT_MS, signal: abort.signal })
    abort.abort()
    await expect(aborted).rejects.toMatchObject({ code: 'ABORTED' })
  })

  it('refuses bad ranges and unknown logs', async () => {
    const net = await testnet()
    const node = await testNode(net)
    const log = await node.createLog('x')
    await node.append(log.key, [block(0)])
    await expect(node.download(log.key, { start: -1, end: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await expect(node.download(log.key, { start: 2, end: 1 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await expect(node.download(log.key, { start: 0, end: 1.5 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
    await expect(node.download('00'.repeat(32), {})).rejects.toMatchObject({ code: 'LOG_NOT_FOUND' })
    // a writer holds every block: nothing to fetch
    expect(await node.download(log.key)).toMatchObject({ blocks: 1, fetched: 0, bytes: 0 })
  })
})

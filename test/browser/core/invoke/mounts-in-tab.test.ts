import b4a from 'b4a'
import type { Testnet } from 'hyperdht/testnet'
import type { Page } from 'playwright-core'
import { describe, expect, it } from 'vitest'
import type { ContributionStatus } from '../../../../src/browser/bridge-protocol.ts'
import { Drive, type PinnedMount } from '../../../../src/core/drive/index.ts'
import { PAGE_BYTES } from '../../../../src/core/sandbox/index.ts'
import { parseBootstrap } from '../../../../src/super-node/super-node.ts'
import { cWasm } from '../../../fixtures/wasm/fixtures.ts'
import { call, openApp } from '../../../helpers/app-page.ts'
import { launchChromium, newContext } from '../../../helpers/chromium.ts'
import { callerNode, publisher } from '../../../helpers/invoke.ts'
import { startSuperNode } from '../../../helpers/super-node.ts'
import { testNode } from '../../../helpers/testnet.ts'

/** Written in Hyperdrive's own block size: one put chunk is one blob block. */
const CHUNK = 64 * 1024
const READ = 4096

function block (i: number): Uint8Array {
  const b = new Uint8Array(CHUNK)
  for (let j = 0; j < CHUNK; j += 251) b[j] = (i * 7 + j) & 0xff
  new DataView(b.buffer).setUint32(0, i)
  return b
}

function fnv (b: Uint8Array): number {
  let h = 2166136261
  for (const x of b) h = Math.imul(h ^ x, 16777619) >>> 0
  return h
}

async function contribution (page: Page): Promise<ContributionStatus> {
  return await call(page, 'contribution', {})
}

describe('drives mounted into calls that run in a contributor tab', () => {
  it('the app is cross-origin isolated, so a tab reading 4 KiB of a 32 MiB mounted file fetches about one block, not the file', async () => {
    const superNode = await startSuperNode({ workers: 0, diskBudget: 0 })
    const net = { bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet
    const owner = await testNode(net)
    const { drive } = await Drive.create(owner)
    const fileBytes = 32 * 1024 * 1024
    const version = (await drive.put('/big.bin', (function * () { for (let i = 0; i < fileBytes / CHUNK; i++) yield block(i) })())).version

    const browser = await launchChromium()
    const tab = await openApp(await newContext(browser), `${superNode.info.appUrl}?execute=1`)
    expect(await tab.evaluate(() => globalThis.crossOriginIsolated)).toBe(true)
    const tabKey = (await call(tab, 'status', {})).publicKey
    expect((await contribution(tab)).mounts).toEqual({ sharedMemory: true, bytesFetched: 0 })

    const pub = await publisher(net)
    const ref = await pub.publish(cWasm('fs-pread'), { name: 'pread', version: '1.0.0' })
    const caller = await callerNode(net)
    await caller.endpoint.waitForExecutors(1, { timeoutMs: 60_000 })

    const offset = 21 * 1024 * 1024 + 777
    const expected = `size ${fileBytes} read ${READ} fnv ${fnv(block(Math.floor(offset / CHUNK)).subarray(offset % CHUNK, offset % CHUNK + READ))}\n`
    const mounts: PinnedMount[] = [{ drive: drive.key, version, path: '/data' }]
    const res = await caller.endpoint.invoke(ref, b4a.from(`/data/big.bin ${offset} ${READ}`), { deadline: 60_000, mounts })
    expect(b4a.toString(res.output)).toBe(expected)
    expect(res.receipts.map(r => r.executor)).toEqual([tabKey])
    expect(res.receipts[0]?.mounts).toEqual([{ drive: drive.key, version }])

    const fetched = (await contribution(tab)).mounts?.bytesFetched ?? -1
    console.log(`4 KiB read of a 32 MiB mounted file in a contributor tab: ${fetched} bytes fetched`)
    // the blob block holding the range and the entry log's few blocks; never the file
    expect(fetched).toBeGreaterThanOrEqual(READ)
    expect(fetched).toBeLessThan(2 * PAGE_BYTES + 16 * 1024)
    await drive.close()
  }, 180_000)
})

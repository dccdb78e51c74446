import b4a from 'b4a'
import type { Testnet } from 'hyperdht/testnet'
import { describe, expect, it } from 'vitest'
import type { PinnedMount } from '../../../../src/core/drive/index.ts'
import { describeLogs, pinDrive } from '../../../../src/core/pinning/index.ts'
import { parseBootstrap } from '../../../../src/super-node/super-node.ts'
import { cWasm } from '../../../fixtures/wasm/fixtures.ts'
import { call, openApp } from '../../../helpers/app-page.ts'
import { launchChromium, newContext } from '../../../helpers/chromium.ts'
import { keyedNode } from '../../../helpers/holders.ts'
import { callerNode, publisher, until } from '../../../helpers/invoke.ts'
import { startSuperNode } from '../../../helpers/super-node.ts'

// hyperdrive ships no types; the test reads its two logs only
interface HyperdriveLike { key: Uint8Array, version: number, core: import('hypercore').default, ready (): Promise<void>, put (path: string, data: Uint8Array): Promise<void>, getBlobs (): Promise<{ core: import('hypercore').default }>, close (): Promise<void> }
const HYPERDRIVE = 'hyperdrive'
const { default: Hyperdrive } = await import(HYPERDRIVE) as { default: new (store: unknown) => HyperdriveLike }

const READ = 4096

function fnv (b: Uint8Array): number {
  let h = 2166136261
  for (const x of b) h = Math.imul(h ^ x, 16777619) >>> 0
  return h
}

// In a file of its own: after another app test in the same process its owner met no holder
// (found 0 within a minute), while alone it pins in seconds; the cause is not known yet.
describe('a contributor tab holding a drive', () => {
  it('a tab holding a pinned drive advertises it, and calls mounting it go to the tab rather than to an idle super node that would fetch it', async () => {
    // the super node executes but holds nothing; the tab is the drive's only holder
    const superNode = await startSuperNode({ workers: 1, diskBudget: 0 })
    const net = { bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet
    const browser = await launchChromium()
    const tab = await openApp(await newContext(browser), `${superNode.info.appUrl}?execute=1&hold=64MiB`)
    const tabKey = (await call(tab, 'status', {})).publicKey

    const owner = await keyedNode(net)
    // written on the owner's store as `shadw drive put` does, so its logs replicate on every connection
    const hd = new Hyperdrive(owner.store)
    await hd.ready()
    const data = Uint8Array.from({ length: 8 * 1024 * 1024 }, (_, i) => (i * 2654435761 >>> 24) & 0xff)
    await hd.put('/blob', data)
    const logs = await describeLogs([hd.core, (await hd.getBlobs()).core])
    const drive = { key: b4a.toString(hd.key, 'hex'), version: hd.version }
    // the tab's holder starts after its node is ready: found once it announced, on a busy machine late
    const [conf] = await pinDrive({ node: owner.node, request: { drive: drive.key, logs, replicas: 1 }, discoverMs: 60_000, timeoutMs: 120_000 })
    expect(conf?.holder).toBe(tabKey)

    const pub = await publisher(net)
    const ref = await pub.publish(cWasm('fs-pread'), { name: 'pread', version: '1.0.0' })
    const caller = await callerNode(net)
    await caller.endpoint.waitForExecutors(2, { timeoutMs: 60_000 })
    const bytes = logs.reduce((n, l) => n + l.byteLength, 0)
    // the tab's advert names the drive with the bytes it holds (re-read every couple of seconds, sent on change)
    await until('the tab advertises the drive', () => caller.endpoint.peers().some(p => p.key === tabKey && p.capacity?.holdings?.some(h => h.drive === drive.key && h.bytes === bytes) === true), 60_000)
    expect(caller.endpoint.peers().find(p => p.key === superNode.node.publicKey)?.capacity?.holdings).toBeUndefined()

    const mounts: PinnedMount[] = [{ drive: drive.key, version: drive.version, path: '/data' }]
    const offset = 5 * 1024 * 1024 + 3
    const expected = `size ${data.length} read ${READ} fnv ${fnv(data.subarray(offset, offset + READ))}\n`
    for (let i = 0; i < 3; i++) {
      const r = await caller.endpoint.invoke(ref, b4a.from(`/data/blob ${offset} ${READ}`), { deadline: 60_000, mounts })
      expect(b4a.toString(r.output)).toBe(expected)
      expect(r.receipts[0]?.executor).toBe(tabKey)
    }
    await hd.close()
  }, 240_000)
})

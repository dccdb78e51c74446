import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import type { PinnedMount } from '../../../src/core/drive/index.ts'
import type { InvokeResult } from '../../../src/core/invoke/index.ts'
import { asWasm, cWasm } from '../../fixtures/wasm/fixtures.ts'
import { describeLogs, holdersTopic } from '../../../src/core/pinning/index.ts'
import { keyedNode } from '../../helpers/holders.ts'
import { callerNode, publisher, until } from '../../helpers/invoke.ts'
import { startSuperNode } from '../../helpers/super-node.ts'
import { testnet } from '../../helpers/testnet.ts'
import { kernel } from '../../helpers/fs-kernel.ts'

// hyperdrive ships no types; the test reads its two logs only
interface HyperdriveLike { key: Uint8Array, version: number, core: import('hypercore').default, ready (): Promise<void>, put (path: string, data: Uint8Array): Promise<void>, getBlobs (): Promise<{ core: import('hypercore').default }>, close (): Promise<void> }
const HYPERDRIVE = 'hyperdrive'
const { default: Hyperdrive } = await import(HYPERDRIVE) as { default: new (store: unknown) => HyperdriveLike }

/**
 * Big enough that fetching it (≈ 500 ms at the router's assumed rate) outweighs any round
 * trip a loaded loopback shows, small enough to mount in memory.
 */
const FILE_BYTES = 8 * 1024 * 1024

describe('calls routed to the data', () => {
  it('a call over a drive runs on the executor holding it while it has room, on another (which fetches the data) when it is full or gone', async () => {
    const net = await testnet()
    const bootstrap = net.bootstrap.map(b => `${b.host}:${b.port}`)
    const holder = await startSuperNode({ workers: 1, bootstrap })
    const other = await startSuperNode({ workers: 1, bootstrap })
    const holderKey = holder.node.publicKey
    const otherKey = other.node.publicKey

    // the drive's owner executes nothing; the holder pins the drive whole
    const owner = await keyedNode(net)
    // written on the owner's store as `shadw drive put` does, so its logs replicate on every connection
    const hd = new Hyperdrive(owner.store)
    await hd.ready()
    const data = Uint8Array.from({ length: FILE_BYTES }, (_, i) => (i * 2654435761 >>> 24) & 0xff)
    await hd.put('/blob', data)
    await hd.put('/input.txt', b4a.from('hello files\n'))
    const logs = await describeLogs([hd.core, (await hd.getBlobs()).core])
    const drive = { key: b4a.toString(hd.key, 'hex'), version: hd.version }
    // as a pinner does: on the holders' topic, so the holder fetches the logs over that connection
    await owner.node.joinTopic(holdersTopic(), { server: false, client: true })
    await until('the owner connects to the holder', () => owner.node.connections().some(([, p]) => p.publicKey === holderKey), 30_000)
    await holder.holder?.pin({ drive: drive.key, logs, replicas: 1 })
    expect(holder.holder?.holdings()).toEqual([{ drive: drive.key, bytes: logs.reduce((n, l) => n + l.byteLength, 0) }])

    const pub = await publisher(net)
    const ref = await pub.publish(cWasm('fs-read-kernel'), { name: 'read-kernel', version: '1.0.0' })
    const tour = await pub.publish(asWasm('fs_tour'), { name: 'as-tour', version: '1.0.0' })
    const caller = await callerNode(net)
    await caller.endpoint.waitForExecutors(2, { timeoutMs: 120_000 })
    // the holder's advert names the drive (re-read every couple of seconds, sent on change)
    await until('the holder advertises the drive', () => caller.endpoint.peers().some(p => p.key === holderKey && p.capacity?.holdings?.some(h => h.drive === drive.key) === true), 30_000)
    expect(caller.endpoint.peers().find(p => p.key === otherKey)?.capacity?.holdings).toBeUndefined()

    const mounts: PinnedMount[] = [{ drive: drive.key, version: drive.version, path: '/data' }]
    const call = async (): Promise<InvokeResult> => await caller.endpoint.invoke(ref, new Uint8Array(0), { deadline: 60_000, mounts })
    const ran = (r: InvokeResult): string => {
      expect(b4a.toString(r.output)).toBe(kernel(data))
      expect(r.receipts[0]?.mounts).toEqual([{ drive: drive.key, version: drive.version }])
      return r.receipts[0]?.executor ?? ''
    }
    // not busy: every call goes to the holder, though the other is as near and as idle
    for (let i = 0; i < 3; i++) expect(ran(await call())).toBe(holderKey)
    // a call without mounts has no reason to prefer it: the router is free to pick either
    const plain = await pub.publish(cWasm('hello'), { name: 'hello', version: '1.0.0' })
    expect([holderKey, otherKey]).toContain((await caller.endpoint.invoke(plain, new Uint8Array(0), { deadline: 60_000 })).receipts[0]?.executor)

    // saturated: as many calls at once as the holder has slots fill it; the one more runs on
    // the other executor, which fetches the drive from the swarm
    const slots = caller.endpoint.peers().find(p => p.key === holderKey)?.capacity?.total ?? 0
    expect(slots).toBeGreaterThan(0)
    const burst = (await Promise.all(Array.from({ length: slots + 1 }, call))).map(ran)
    expect(burst.filter(k => k === holderKey)).toHaveLength(slots)
    expect(burst.filter(k => k === otherKey)).toHaveLength(1)
    // the holder says it has room again in an advert that follows its last result
    await until('the holder has room again', () => caller.endpoint.peers().some(p => p.key === holderKey && !p.full && (p.capacity?.free ?? 0) > 0), 30_000)

    // an AssemblyScript program (npm asc, WASI called directly) reads, writes, lists and stats
    // over the mount: its writes land in the call's overlay, so a second run sees the drive as
    // it was, and the kernel still reads the same bytes
    const AS_TOUR = ['read 12 bytes: hello files', 'mkdir out: 0', 'tell 12', 'stat: errno 0 filetype 4 nlink 1 size 17', 'back: HELLO FILES|MORE|',
      'ls .: . .. blob input.txt out', 'ls out: . .. upper.txt', 'rmdir non-empty: 55', 'unlink: 0', 'rmdir empty: 0', 'open missing: -44', 'escape: -63',
      'ls .: . .. blob input.txt', ''].join('\n')
    for (let i = 0; i < 2; i++) {
      const r = await caller.endpoint.invoke(tour, new Uint8Array(0), { deadline: 60_000, mounts })
      expect(b4a.toString(r.output)).toBe(AS_TOUR)
      expect(r.failures).toEqual([])
      expect(r.receipts[0]?.executor).toBe(holderKey)
    }
    expect(ran(await call())).toBe(holderKey)

    // absent: the holder leaves, and the call runs where the data is not
    await holder.stop()
    await until('the caller sees the holder gone', () => !caller.endpoint.peers().some(p => p.key === holderKey), 30_000)
    expect(ran(await call())).toBe(otherKey)
    await hd.close()
  }, 240_000)
})

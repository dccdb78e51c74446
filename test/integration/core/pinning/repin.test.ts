import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { describeLogs, driveStatus, pinDrive, type DriveStatus } from '../../../../src/core/pinning/index.ts'
import { holderNode, keyedNode } from '../../../helpers/holders.ts'
import { tempDir } from '../../../helpers/super-node.ts'
import { testnet } from '../../../helpers/testnet.ts'

// hyperdrive ships no types; the test uses its constructor, put, get and blobs only
interface Drive { key: Uint8Array, core: import('hypercore').default, ready (): Promise<void>, put (path: string, data: Uint8Array): Promise<void>, get (path: string): Promise<Uint8Array | null>, getBlobs (): Promise<{ core: import('hypercore').default }>, close (): Promise<void> }
const HYPERDRIVE = 'hyperdrive'
const { default: Hyperdrive } = await import(HYPERDRIVE) as { default: new (store: unknown, key?: Uint8Array) => Drive }

/** Polls status (bounded) until `done` holds; returns the last status. */
async function waitForStatus (read: () => Promise<DriveStatus>, done: (s: DriveStatus) => boolean, rounds = 40): Promise<DriveStatus> {
  let s = await read()
  for (let i = 0; i < rounds && !done(s); i++) {
    await new Promise(resolve => setTimeout(resolve, 500))
    s = await read()
  }
  return s
}

describe('holders that leave', () => {
  it('a hyperdrive pinned on three of five holders is re-pinned once onto another when one leaves, the uploader offline', async () => {
    const net = await testnet()
    const graceMs = 1_500
    const holders = await Promise.all([0, 1, 2, 3, 4].map(async () => await holderNode(net, { graceMs })))
    const uploader = await keyedNode(net, { tier: 'light' })
    const drive = new Hyperdrive(uploader.store)
    await drive.ready()
    const file = b4a.alloc(300_000, 7)
    await drive.put('/data.bin', file)
    const blobs = await drive.getBlobs()
    const logs = await describeLogs([drive.core, blobs.core])
    const key = b4a.toString(drive.key, 'hex')

    const confs = await pinDrive({ node: uploader.node, request: { drive: key, logs, replicas: 3 } })
    const first = new Set(confs.map(c => c.holder))
    await drive.close()
    await uploader.stop()

    const reader = await keyedNode(net, { tier: 'light' })
    const status = async (): Promise<DriveStatus> => await driveStatus({ node: reader.node, drive: key, graceMs, discoverMs: 1_000 })
    // the holders learn of each other from the uploader and then from their heartbeats
    expect((await waitForStatus(status, s => s.health === 'healthy' && s.holders.length === 3)).holders.map(h => h.holder).sort()).toEqual([...first].sort())

    const gone = holders.find(h => first.has(h.node.publicKey))!
    await gone.stop()
    const after = await waitForStatus(status, s => s.holders.filter(h => h.live).length === 3 && !s.holders.some(h => h.live && h.holder === gone.node.publicKey))
    const live = after.holders.filter(h => h.live).map(h => h.holder)
    expect(after.health).toBe('healthy')
    expect(live).toHaveLength(3)
    expect(live).not.toContain(gone.node.publicKey)
    const added = live.filter(k => !first.has(k))
    expect(added).toHaveLength(1)
    // elected once: exactly one new holder took the replica, the other spare holds nothing
    const spares = holders.filter(h => !first.has(h.node.publicKey))
    expect(spares.map(h => h.holder.status().drives.length).sort()).toEqual([0, 1])

    // the file reads back from the holders alone, verified against the drive's signed tree
    const readDrive = new Hyperdrive(reader.store, drive.key)
    await readDrive.ready()
    for (const l of logs) await reader.node.follow(l.key)
    expect(b4a.equals((await readDrive.get('/data.bin'))!, file)).toBe(true)
    await readDrive.close()
  })

  it('a restarted holder resumes its pins from its own storage, with nothing fetched again', async () => {
    const net = await testnet()
    const dir = await tempDir()
    const first = await holderNode(net, { storage: dir })
    const uploader = await keyedNode(net, { tier: 'light' })
    const core = uploader.store.get({ name: 'data' })
    await core.append(Array.from({ length: 20 }, (_, i) => b4a.alloc(1000, i)))
    await uploader.node.follow(core.key!)
    const logs = await describeLogs([core])
    const drive = logs[0]!.key
    const [conf] = await pinDrive({ node: uploader.node, request: { drive, logs, replicas: 1 } })
    expect(conf?.holder).toBe(first.node.publicKey)
    await first.stop()
    // no one else has the blocks: the restarted holder can confirm only from what it stored
    await uploader.stop()

    const again = await holderNode(net, { storage: dir })
    expect(again.node.publicKey).toBe(first.node.publicKey)
    await again.holder.settled()
    expect(again.holder.status().drives).toEqual([{ drive, held: true, holders: 1, replicas: 1 }])
    expect(again.holder.budget.used).toBe(20_000)
    const [resumed] = again.holder.confirmations(drive)
    expect(resumed?.logs).toEqual(conf?.logs)
    expect(resumed!.time).toBeGreaterThanOrEqual(conf!.time)
  })
})

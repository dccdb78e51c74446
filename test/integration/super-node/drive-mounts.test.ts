import b4a from 'b4a'
import type { Testnet } from 'hyperdht/testnet'
import { describe, expect, it } from 'vitest'
import { Drive, pinMounts, type PinnedMount } from '../../../src/core/drive/index.ts'
import { decodeReceipt } from '../../../src/core/ledger/index.ts'
import { parseBootstrap } from '../../../src/super-node/super-node.ts'
import { cWasm } from '../../fixtures/wasm/fixtures.ts'
import { callerNode, publisher } from '../../helpers/invoke.ts'
import { startSuperNode } from '../../helpers/super-node.ts'
import { testNode } from '../../helpers/testnet.ts'
import { kernel } from '../../helpers/fs-kernel.ts'

const pattern = (n: number, seed: number): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 131 + seed) % 256)

describe('a drive mounted into a function on a super node', () => {
  it('a C WASI program reads a file of a drive another node holds; the receipt names the version; "latest" moves with the drive', async () => {
    const superNode = await startSuperNode({ workers: 1 })
    const net = { bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet
    // the drive lives on another node: the super node fetches what the call mounts from it
    const holder = await testNode(net)
    const { drive } = await Drive.create(holder)
    const first = pattern(100_000, 1)
    await drive.put('/data/blob', [first])
    await drive.put('/other/big', [pattern(1_000_000, 2)])

    const pub = await publisher(net)
    const ref = await pub.publish(cWasm('fs-read-kernel'), {
      name: 'read-kernel',
      version: '1.0.0',
      mounts: [{ drive: drive.key, version: 'latest', path: '/data', from: '/data' }]
    })
    const caller = await callerNode(net)
    const view = await Drive.open(caller.node, drive.key)
    const manifestMounts = [{ drive: drive.key, version: 'latest' as const, path: '/data', from: '/data' }]

    // the caller pins "latest" before the call; the receipt signs that version. "Latest" is the
    // newest version the caller has heard of: on a loaded machine its first update may answer
    // before the holder's channel for the drive opens, so ask again until it has heard
    const pinUntil = async (version: number): Promise<PinnedMount[]> => {
      let pins: PinnedMount[] = []
      for (let i = 0; i < 100 && pins[0]?.version !== version; i++) {
        if (i > 0) await new Promise(resolve => setTimeout(resolve, 50))
        pins = await pinMounts(async () => view, manifestMounts)
      }
      return pins
    }
    const v1 = drive.version
    const pinned = await pinUntil(v1)
    expect(pinned).toEqual([{ drive: drive.key, version: v1, path: '/data', from: '/data' }])
    const one = await caller.endpoint.invoke(ref, new Uint8Array(0), { deadline: 60_000, mounts: pinned })
    expect(b4a.toString(one.output)).toBe(kernel(first))
    expect(one.receipts[0]?.mounts).toEqual([{ drive: drive.key, version: v1 }])
    // the receipt in the executor's ledger is the one the caller holds, version bytes and all
    const ledger = superNode.executor?.ledgerKey as string
    const stored = decodeReceipt(await superNode.node.get(ledger, 0) as Uint8Array)
    expect(stored.mounts).toEqual([{ drive: drive.key, version: v1 }])

    // a new version of the drive: "latest" pins it, and the call reads the new bytes
    const second = pattern(70_000, 9)
    const v2 = (await drive.put('/data/blob', [second])).version
    const again = await pinUntil(v2)
    expect(again[0]?.version).toBe(v2)
    const two = await caller.endpoint.invoke(ref, new Uint8Array(0), { deadline: 60_000, mounts: again })
    expect(b4a.toString(two.output)).toBe(kernel(second))
    expect(two.receipts[0]?.mounts).toEqual([{ drive: drive.key, version: v2 }])

    // the old version stays mountable: a caller that pins it reads the old bytes
    const old = await caller.endpoint.invoke(ref, new Uint8Array(0), { deadline: 60_000, mounts: pinned })
    expect(b4a.toString(old.output)).toBe(kernel(first))

    // the invocation may not swap the manifest's drive for another
    await expect(caller.endpoint.invoke(ref, new Uint8Array(0), { deadline: 60_000, mounts: [{ ...(pinned[0] as PinnedMount), drive: 'ab'.repeat(32) }] }))
      .rejects.toMatchObject({ code: 'MOUNT_INVALID' })

    // an invocation adds a mount of its own: a tenant's private drive, readable only with its key
    const any = await pub.publish(cWasm('fs-read-kernel'), { name: 'read-any', version: '1.0.0' })
    const priv = await Drive.create(holder, { encrypt: true })
    const secret = pattern(5000, 4)
    const pv = (await priv.drive.put('/blob', [secret])).version
    const mount = { drive: priv.drive.key, version: pv, path: '/data' }
    const mine = await caller.endpoint.invoke(any, new Uint8Array(0), { deadline: 30_000, mounts: [{ ...mount, encryptionKey: b4a.toString(priv.encryptionKey as Uint8Array, 'hex') }] })
    expect(b4a.toString(mine.output)).toBe(kernel(secret))
    expect(mine.receipts[0]?.mounts).toEqual([{ drive: priv.drive.key, version: pv }])
    // the executor's store now holds the drive's core open with its key at times: a mount
    // without the key, or with another, is still refused
    await expect(caller.endpoint.invoke(any, new Uint8Array(0), { deadline: 30_000, mounts: [mount] })).rejects.toMatchObject({ code: 'DRIVE_LOCKED' })
    await expect(caller.endpoint.invoke(any, new Uint8Array(0), { deadline: 30_000, mounts: [{ ...mount, encryptionKey: '77'.repeat(32) }] })).rejects.toMatchObject({ code: 'DRIVE_LOCKED' })
    // and the other way round: refused first without the key, then read with it
    const priv2 = await Drive.create(holder, { encrypt: true })
    const pv2 = (await priv2.drive.put('/blob', [secret.subarray(0, 3000)])).version
    const mount2 = { drive: priv2.drive.key, version: pv2, path: '/data' }
    await expect(caller.endpoint.invoke(any, new Uint8Array(0), { deadline: 30_000, mounts: [mount2] })).rejects.toMatchObject({ code: 'DRIVE_LOCKED' })
    const later = await caller.endpoint.invoke(any, new Uint8Array(0), { deadline: 30_000, mounts: [{ ...mount2, encryptionKey: b4a.toString(priv2.encryptionKey as Uint8Array, 'hex') }] })
    expect(b4a.toString(later.output)).toBe(kernel(secret.subarray(0, 3000)))
    await priv2.drive.close()
    await priv.drive.close()
    await view.close()
    await drive.close()
  }, 180_000)
})

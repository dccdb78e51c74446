import b4a from 'b4a'
import Corestore from 'corestore'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { drivePinCommand, type DriveIo } from '../../../src/cli/drive-pin.ts'
import { findErasurePin, readErasure } from '../../../src/core/pinning/index.ts'
import { reedSolomon } from '../../../src/super-node/reed-solomon-node.ts'
import { keyedNode, shardHolderNode } from '../../helpers/holders.ts'
import { tempDir } from '../../helpers/super-node.ts'
import { testnet } from '../../helpers/testnet.ts'

// hyperdrive ships no types; the test writes a file through it
interface Drive { key: Uint8Array, ready (): Promise<void>, put (path: string, data: Uint8Array): Promise<void>, close (): Promise<void> }
const HYPERDRIVE = 'hyperdrive'
const { default: Hyperdrive } = await import(HYPERDRIVE) as { default: new (store: unknown, key?: Uint8Array) => Drive }

function io (): DriveIo & { out: () => string } {
  let out = ''
  return { stdout: t => { out += t }, stderr: () => {}, tty: false, out: () => out }
}

async function status (bootstrap: string, key: string): Promise<{ health: string, weakestStripeLive: number, expansion: number, erasure: { k: number, m: number, stripes: number } }> {
  const o = io()
  expect(await drivePinCommand(['status', key, '--bootstrap', bootstrap, '--json'], o)).toBe(0)
  return JSON.parse(o.out())
}

describe('shadw drive pin --erasure and status on shard holders', () => {
  it('places 4+2 on six holders; status goes healthy → degraded → lost as holders die; reads stay exact through M losses', async () => {
    const net = await testnet()
    const bootstrap = `127.0.0.1:${net.bootstrap[0]!.port}`
    const holders = await Promise.all(Array.from({ length: 6 }, async () => await shardHolderNode(net)))
    const file = crypto.randomBytes(300 * 1024)
    const dir = await tempDir()
    const store = new Corestore(dir)
    const drive = new Hyperdrive(store)
    await drive.ready()
    await drive.put('/data.bin', file)
    const key = b4a.toString(drive.key, 'hex')
    await drive.close()
    await store.close()

    const o = io()
    expect(await drivePinCommand(['pin', key, '--erasure', '4+2', '--storage', dir, '--bootstrap', bootstrap, '--json'], o)).toBe(0)
    const pinned = JSON.parse(o.out()) as { erasure: string, pin: { root: string, layout: { size: number } }, holds: Array<{ holder: string, shard: number }> }
    expect(pinned.erasure).toBe('4+2')
    expect(new Set(pinned.holds.map(h => h.holder)).size).toBe(6)
    expect(pinned.pin.layout.size).toBeGreaterThan(file.byteLength)

    expect(await status(bootstrap, key)).toMatchObject({ health: 'healthy', weakestStripeLive: 6, expansion: 1.5, erasure: { k: 4, m: 2 } })

    const byKey = (k: string): (typeof holders)[number] => holders.find(h => h.node.publicKey === k)!
    await byKey(pinned.holds[0]!.holder).stop()
    await byKey(pinned.holds[5]!.holder).stop()
    expect(await status(bootstrap, key)).toMatchObject({ health: 'degraded', weakestStripeLive: 4 })
    // a reader with the drive key alone finds the pin and rebuilds the version's bytes
    const reader = await keyedNode(net, { tier: 'light' })
    const placement = await findErasurePin({ node: reader.node, drive: key })
    expect(placement?.pin.root).toBe(pinned.pin.root)
    const bytes = await readErasure({ node: reader.node, rs: reedSolomon(), placement: placement!, discoverMs: 2_000 })
    expect(bytes.byteLength).toBe(pinned.pin.layout.size)
    expect(Buffer.from(bytes).includes(Buffer.from(file))).toBe(true)

    await byKey(pinned.holds[2]!.holder).stop()
    expect(await status(bootstrap, key)).toMatchObject({ health: 'lost', weakestStripeLive: 3 })
  }, 180_000)

  it('refuses a bad scheme and --erasure with --replicas', async () => {
    await expect(drivePinCommand(['pin', 'ab'.repeat(32), '--erasure', '4+0'], io())).rejects.toMatchObject({ code: 'ERASURE_INVALID' })
    await expect(drivePinCommand(['pin', 'ab'.repeat(32), '--erasure', '4+2', '--replicas', '2'], io())).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' })
  })
})

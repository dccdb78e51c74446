import type { Testnet } from 'hyperdht/testnet'
import { describe, expect, it } from 'vitest'
import { findErasurePin, readErasure } from '../../../src/core/pinning/index.ts'
import { parseBootstrap } from '../../../src/super-node/super-node.ts'
import { reedSolomon } from '../../../src/super-node/reed-solomon-node.ts'
import { call, openApp, until } from '../../helpers/app-page.ts'
import { launchChromium, newContext } from '../../helpers/chromium.ts'
import { keyedNode, provingNode } from '../../helpers/holders.ts'
import { startSuperNode } from '../../helpers/super-node.ts'

/** Several stripes of 64 KiB shards at 2+1. */
const SIZE = 700 * 1024 + 333

describe('Storage view, erasure-coded pins', () => {
  it('pins a drive 2+1 from the tab onto three shard holders, streamed by its node worker; the shards read back to the drive\'s bytes', async () => {
    const superNode = await startSuperNode({ workers: 0 })
    const net = { bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet
    const storms = await Promise.all([0, 1].map(async () => await provingNode(net)))
    const file = Buffer.alloc(SIZE)
    for (let i = 0; i + 4 <= SIZE; i += 4) file.writeUInt32LE((i * 2654435761) >>> 0, i)

    const browser = await launchChromium()
    const page = await openApp(await newContext(browser), `${superNode.info.appUrl}#storage`)
    await page.locator('#drive-label').fill('coded')
    await page.locator('#drive-create').click()
    const key = await until('the drive to be created', async () => await page.locator('#drive-created').getAttribute('data-key'))
    await page.locator('#upload-files').setInputFiles({ name: 'data.bin', mimeType: 'application/octet-stream', buffer: file })
    await until('the upload to finish', async () => await page.locator('#upload-state').getAttribute('data-version'), 60_000)
    await until('the tab to meet the holders', async () => {
      const peers = (await call(page, 'status', {})).peers.map(p => p.publicKey)
      return [superNode.node.publicKey, ...storms.map(s => s.node.publicKey)].every(k => peers.includes(k))
    }, 60_000)

    await page.locator('#pin-mode').selectOption('erasure')
    await page.locator('#pin-scheme').fill('2+1')
    await page.locator('#pin-submit').click()
    await until('the erasure pin or its refusal', async () => (await page.locator('#pin-state').getAttribute('data-erasure')) ?? (await page.locator('#pin-state').getAttribute('data-code')), 120_000)
    expect(await page.locator('#pin-state').getAttribute('data-erasure')).toBe('2+1')
    expect(await page.locator('#pin-state').textContent()).toMatch(/erasure-coded 2\+1 .* 1\.5× stored\) on 3 holders, each signed/)

    // the shard holders report the pin; its shards rebuild the version, the file's bytes inside
    const reader = await keyedNode(net, { tier: 'light' })
    const found = await until('the holders to report the pin', async () => await findErasurePin({ node: reader.node, drive: key!, discoverMs: 3_000 }), 60_000)
    expect(found.pin.layout).toMatchObject({ k: 2, m: 1 })
    expect(found.holds.map(h => h.holder).sort()).toEqual([superNode.node.publicKey, ...storms.map(s => s.node.publicKey)].sort())
    const back = Buffer.from(await readErasure({ node: reader.node, rs: reedSolomon(), placement: found }))
    expect(back.length).toBe(found.pin.layout.size)
    expect(back.includes(file)).toBe(true)

    // a scheme the holders cannot take is refused with its typed error
    await expect(call(page, 'drivePinErasure', { key: key!, scheme: '2-1' })).rejects.toThrow(/ERASURE_INVALID/)
  }, 240_000)
})

import b4a from 'b4a'
import type { Testnet } from 'hyperdht/testnet'
import { describe, expect, it } from 'vitest'
import { describeLogs, pinDrive } from '../../../src/core/pinning/index.ts'
import { parseBootstrap } from '../../../src/super-node/super-node.ts'
import { call, nodeReady, openApp, until } from '../../helpers/app-page.ts'
import { launchChromium, newContext } from '../../helpers/chromium.ts'
import { keyedNode } from '../../helpers/holders.ts'
import { startSuperNode } from '../../helpers/super-node.ts'

describe('the Contribute view\'s disk offer', () => {
  it('offering disk makes the tab a holder that confirms a pin; the view shows the drive held and its storage receipt', async () => {
    // the super node holds nothing: the tab is the only holder
    const superNode = await startSuperNode({ workers: 0, diskBudget: 0 })
    const net = { bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet
    const browser = await launchChromium()
    const page = await openApp(await newContext(browser), `${superNode.info.appUrl}#contribute`)
    await nodeReady(page)
    await until('the quota to be read', async () => (await page.locator('#disk-offer').getAttribute('max')) !== null)
    expect(await page.locator('#disk-note').textContent()).toMatch(/^Not holding/)

    await page.locator('#disk-offer').fill('1')
    await Promise.all([page.waitForEvent('load'), page.locator('#disk-save').click()])
    await nodeReady(page)
    await until('the offer to show', async () => (await page.locator('#disk-note').textContent())?.startsWith('Holding up to 1.0 MiB') === true)
    const tab = (await call(page, 'status', {})).publicKey

    const pinner = await keyedNode(net, { tier: 'light' })
    const core = pinner.store.get({ name: 'site' })
    await core.append(Array.from({ length: 8 }, (_, i) => b4a.alloc(16 * 1024, i)))
    await pinner.node.follow(core.key!)
    const logs = await describeLogs([core])
    const [conf] = await pinDrive({ node: pinner.node, request: { drive: logs[0]!.key, logs, replicas: 1 }, discoverMs: 20_000, keyPair: pinner.keyPair })
    expect(conf?.holder).toBe(tab)
    expect(conf?.budget).toEqual({ total: 1024 * 1024, used: 8 * 16 * 1024 })

    // the pin, co-signed by the pinner and the tab, lands in the tab's storage ledger, and the view reads it back
    await until('the view to show the drive held', async () => await page.locator('#disk-section').getAttribute('data-drives') === '1', 30_000)
    expect(Number(await page.locator('#disk-section').getAttribute('data-receipts'))).toBeGreaterThanOrEqual(1)
    expect(await page.locator('#disk-drives li').count()).toBe(1)
    expect(await page.locator('#disk-drives li').first().getAttribute('title')).toBe(logs[0]!.key)
  })
})

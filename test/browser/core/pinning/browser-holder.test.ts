import b4a from 'b4a'
import type { Testnet } from 'hyperdht/testnet'
import { describe, expect, it } from 'vitest'
import { describeLogs, pinDrive } from '../../../../src/core/pinning/index.ts'
import { parseBootstrap } from '../../../../src/super-node/super-node.ts'
import { call, nodeReady, openApp } from '../../../helpers/app-page.ts'
import { launchChromium, newContext } from '../../../helpers/chromium.ts'
import { keyedNode } from '../../../helpers/holders.ts'
import { startSuperNode } from '../../../helpers/super-node.ts'

describe('a browser contributor that offers disk', () => {
  it('holds a pinned log in OPFS while its tab is open, confirms it signed, and is passed over for a pin past its budget', async () => {
    // the super node holds nothing here: the tab is the only holder
    const superNode = await startSuperNode({ workers: 0, diskBudget: 0 })
    const net = { bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet
    const browser = await launchChromium()
    const page = await openApp(await newContext(browser), `${superNode.info.appUrl}?hold=1MiB`)
    await nodeReady(page)
    const tab = (await call(page, 'status', {})).publicKey

    const pinner = await keyedNode(net, { tier: 'light' })
    const core = pinner.store.get({ name: 'site' })
    await core.append(Array.from({ length: 16 }, (_, i) => b4a.alloc(16 * 1024, i)))
    await pinner.node.follow(core.key!)
    const logs = await describeLogs([core])
    const [conf] = await pinDrive({ node: pinner.node, request: { drive: logs[0]!.key, logs, replicas: 1 }, discoverMs: 20_000 })
    expect(conf?.holder).toBe(tab)
    expect(conf?.budget).toEqual({ total: 1024 * 1024, used: 16 * 16 * 1024 })
    const held = (await call(page, 'status', {})).logs.find(l => l.key === logs[0]!.key)
    expect(held?.length).toBe(16)

    const big = pinner.store.get({ name: 'video' })
    await big.append(Array.from({ length: 16 }, (_, i) => b4a.alloc(64 * 1024, i)))
    await pinner.node.follow(big.key!)
    const bigLogs = await describeLogs([big])
    await expect(pinDrive({ node: pinner.node, request: { drive: bigLogs[0]!.key, logs: bigLogs, replicas: 1 }, discoverMs: 3_000 })).rejects.toMatchObject({ code: 'NOT_ENOUGH_HOLDERS', details: { candidates: 0 } })
  })
})

import crypto from 'hypercore-crypto'
import type { Testnet } from 'hyperdht/testnet'
import { describe, expect, it } from 'vitest'
import { challengeShard, findErasurePin, pinErasure, readErasure, ShardChannels, verifyVerdict, type RepairRecord } from '../../../../src/core/pinning/index.ts'
import { holdersTopic } from '../../../../src/core/pinning/pin-protocol.ts'
import { parseBootstrap } from '../../../../src/super-node/super-node.ts'
import { reedSolomon } from '../../../../src/super-node/reed-solomon-node.ts'
import { call, nodeReady, openApp } from '../../../helpers/app-page.ts'
import { launchChromium, newContext } from '../../../helpers/chromium.ts'
import { keyedNode, shardHolderNode } from '../../../helpers/holders.ts'
import { startSuperNode } from '../../../helpers/super-node.ts'

const rs = reedSolomon()
const GRACE_MS = 3_000

describe('a browser contributor that offers disk holds erasure shards', () => {
  it('keeps a 2+1 slot in OPFS within its budget and proves it; closing the tab is churn its co-holders repair', async () => {
    // the super node holds nothing: two Node shard holders and the tab take the three slots
    const superNode = await startSuperNode({ workers: 0, diskBudget: 0 })
    const net = { bootstrap: parseBootstrap(superNode.info.bootstrap) } as unknown as Testnet
    const repaired: RepairRecord[] = []
    const nodes = await Promise.all(Array.from({ length: 2 }, async () => await shardHolderNode(net, { graceMs: GRACE_MS, timeoutMs: 10_000, onrepair: e => { if (e.type === 'repaired') repaired.push(e.record) } })))
    const browser = await launchChromium()
    const context = await newContext(browser)
    const page = await openApp(context, `${superNode.info.appUrl}?hold=1MiB`)
    await nodeReady(page)
    const tab = (await call(page, 'status', {})).publicKey

    const pinner = await keyedNode(net, { tier: 'light' })
    const bytes = crypto.randomBytes(3 * 2 * 4096 - 100)
    const placement = await pinErasure({ node: pinner.node, rs, keyPair: pinner.keyPair, drive: 'cd'.repeat(32), version: 1, bytes, scheme: { k: 2, m: 1 }, shardBytes: 4096, discoverMs: 20_000 })
    const mine = placement.holds.find(h => h.holder === tab)
    expect(mine).toBeDefined()
    // its budget is the offer (under the quota), its three shards in use (the last stripe's short)
    expect(mine?.budget).toEqual({ total: 1024 * 1024, used: 2 * 4096 + (2 * 4096 - 100) / 2 })
    // the shard log is in the tab's node storage (OPFS), three blocks long
    expect((await call(page, 'status', {})).logs.some(l => l.length === 3)).toBe(true)

    // it answers proofs of storage for every stripe from OPFS
    const channels = new ShardChannels(pinner.node)
    channels.start()
    await pinner.node.joinTopic(holdersTopic(), { server: false, client: true })
    for (let i = 0; i < 100 && channels.holders().every(p => p.publicKey !== tab); i++) await new Promise(resolve => setTimeout(resolve, 100))
    for (let s = 0; s < 3; s++) {
      const v = verifyVerdict(await challengeShard(channels.holders().find(p => p.publicKey === tab), placement.pin, mine!, s, Math.random(), pinner.keyPair))
      expect(v.ok, v.reason).toBe(true)
    }
    channels.stop()
    await pinner.stop()

    // a spare holder comes; the tab closes; the Node holders repair its slot onto the spare
    const spare = await shardHolderNode(net, { graceMs: GRACE_MS })
    await context.close()
    for (let i = 0; i < 600 && repaired.length === 0; i++) await new Promise(resolve => setTimeout(resolve, 100))
    await new Promise(resolve => setTimeout(resolve, GRACE_MS))
    expect(repaired).toHaveLength(1)
    expect(repaired[0]).toMatchObject({ shard: mine!.shard, from: tab, to: spare.node.publicKey })

    const reader = await keyedNode(net, { tier: 'light' })
    const found = await findErasurePin({ node: reader.node, drive: placement.pin.drive, discoverMs: 3_000 })
    expect(found?.holds.map(h => h.holder).sort()).toEqual([...nodes.map(n => n.node.publicKey), spare.node.publicKey].sort())
    expect(Buffer.compare(await readErasure({ node: reader.node, rs, placement: found!, discoverMs: 2_000 }), bytes)).toBe(0)
  }, 180_000)
})

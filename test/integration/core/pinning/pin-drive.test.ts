import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { describeLogs, driveStatus, pinDrive, verifyHold, type PinRequest } from '../../../../src/core/pinning/index.ts'
import { holderNode, keyedNode, type KeyedNode } from '../../../helpers/holders.ts'
import { testnet } from '../../../helpers/testnet.ts'

/** Two plain Hypercores of a "drive" in the pinner's store (pinning is built on logs, not a drive format). */
async function twoLogs (pinner: KeyedNode, blocks: number, size: number): Promise<PinRequest['logs']> {
  const a = pinner.store.get({ name: 'db' })
  const b = pinner.store.get({ name: 'blobs' })
  await a.append(Array.from({ length: blocks }, (_, i) => b4a.alloc(size, i)))
  await b.append([b4a.from('x')])
  await pinner.node.follow(a.key!)
  await pinner.node.follow(b.key!)
  return await describeLogs([a, b])
}

describe('pinning a drive on holders', () => {
  it('places replicas on distinct holders that confirm, signed, that they hold every log', async () => {
    const net = await testnet()
    const holders = await Promise.all([0, 1, 2].map(async () => await holderNode(net)))
    const pinner = await keyedNode(net, { tier: 'light' })
    const logs = await twoLogs(pinner, 40, 4096)
    const drive = logs[0]!.key
    const events: string[] = []

    const confs = await pinDrive({ node: pinner.node, request: { drive, logs, replicas: 2 }, onevent: e => { events.push(e.state) } })

    expect(confs).toHaveLength(2)
    expect(new Set(confs.map(c => c.holder)).size).toBe(2)
    for (const c of confs) {
      expect(verifyHold(c)).toEqual(c)
      expect(c.logs).toEqual(logs.map(l => ({ key: l.key, length: l.length, treeHash: l.treeHash })))
      expect(c.budget).toEqual({ total: 64 * 1024 * 1024, used: 40 * 4096 + 1 })
    }
    expect(events.filter(e => e === 'held')).toHaveLength(2)
    // the confirmed holders have every block locally, and the unchosen one holds nothing
    for (const h of holders) {
      const chosen = confs.some(c => c.holder === h.node.publicKey)
      expect(h.holder.status().drives.map(d => d.drive)).toEqual(chosen ? [drive] : [])
      if (chosen) for (let i = 0; i < 40; i++) expect(await h.node.has(drive, i)).toBe(true)
    }

    // status, with the pinner gone: both holders live, the drive healthy
    await pinner.stop()
    const reader = await keyedNode(net, { tier: 'light' })
    const status = await driveStatus({ node: reader.node, drive, discoverMs: 5_000 })
    expect(status.replicas).toBe(2)
    expect(status.health).toBe('healthy')
    expect(status.holders.map(h => h.holder).sort()).toEqual(confs.map(c => c.holder).sort())
  })

  it('refuses a pin past the budget before writing anything, and the pinner moves to holders with room', async () => {
    const net = await testnet()
    const small = await holderNode(net, { budget: 10_000 })
    const pinner = await keyedNode(net, { tier: 'light' })
    const logs = await twoLogs(pinner, 8, 4096)
    const drive = logs[0]!.key

    await expect(small.holder.pin({ drive, logs, replicas: 1 })).rejects.toMatchObject({ code: 'DISK_BUDGET_EXCEEDED', details: { needed: 8 * 4096 + 1, free: 10_000 } })
    // nothing half-written: no log of the drive in the holder's store, the budget untouched
    expect(small.node.status().logs.map(l => l.key).filter(k => logs.some(l => l.key === k))).toEqual([])
    expect(small.holder.budget).toEqual({ total: 10_000, used: 0, free: 10_000 })

    // too few holders with room: a typed error, and the pin is placed nowhere
    await expect(pinDrive({ node: pinner.node, request: { drive, logs, replicas: 1 }, discoverMs: 3_000 })).rejects.toMatchObject({ code: 'NOT_ENOUGH_HOLDERS', details: { candidates: 0, needed: 1 } })
    const big = await holderNode(net, { budget: 40_000 })
    // an idle holder asks half its base price (the default curve's start), for storage and serving alike
    expect(big.holder.offer()).toEqual({ free: 40_000, price: 500, servePrice: 50 })
    const [conf] = await pinDrive({ node: pinner.node, request: { drive, logs, replicas: 1 }, discoverMs: 5_000 })
    expect(conf?.holder).toBe(big.node.publicKey)
    // 82% of its budget in use: up the bonding curve
    const offer = big.holder.offer()
    expect(offer.free).toBe(40_000 - (8 * 4096 + 1))
    expect(offer.price).toBeGreaterThan(1_000)
    expect(offer.servePrice).toBeGreaterThan(100)
  })

  it('refuses a pin whose tree hash is not the log\'s, and forgets what it fetched', async () => {
    const net = await testnet()
    const h = await holderNode(net)
    const pinner = await keyedNode(net, { tier: 'light' })
    const logs = await twoLogs(pinner, 4, 100)
    const forged = logs.map((l, i) => i === 0 ? { ...l, treeHash: 'ab'.repeat(32) } : l)
    await expect(h.holder.pin({ drive: logs[0]!.key, logs: forged, replicas: 1 })).rejects.toMatchObject({ code: 'HOLD_INVALID' })
    expect(h.holder.budget.used).toBe(0)
    expect(h.holder.status().drives).toEqual([])
    // nothing half-written: the logs it fetched are forgotten, blocks and all
    const keys = h.node.status().logs.map(l => l.key)
    for (const l of logs) expect(keys).not.toContain(l.key)
    // and the genuine pin still goes through afterwards
    const conf = await h.holder.pin({ drive: logs[0]!.key, logs, replicas: 1 })
    expect(conf.logs.map(l => l.treeHash)).toEqual(logs.map(l => l.treeHash))
  })
})

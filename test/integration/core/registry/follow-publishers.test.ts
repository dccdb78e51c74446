import b4a from 'b4a'
import { describe, expect, it, onTestFinished } from 'vitest'
import { createPublisherKeyPair, FunctionLoader, followPublishers, Registry, RegistryFollows } from '../../../../src/core/registry/index.ts'
import { testnet, testNode } from '../../../helpers/testnet.ts'
import { nodeWithStore, paddedEcho } from '../../../helpers/registry.ts'

async function until (what: string, fn: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

async function allLocal (node: Awaited<ReturnType<typeof nodeWithStore>>['node'], key: string, end: number): Promise<boolean> {
  try {
    for (let i = 0; i < end; i++) if (!(await node.has(key, i))) return false
    return true
  } catch {
    return false
  }
}

describe('following publishers', () => {
  it('a node mirrors a followed publisher (registry and every blob block, also what is published later) and serves it after the publisher left', async () => {
    const net = await testnet()
    const publisher = await nodeWithStore(net)
    const registry = await Registry.create(publisher.store, createPublisherKeyPair())
    onTestFinished(async () => { await registry.close() })
    await registry.publish(await paddedEcho(100_000, 1), { name: 'echo', version: '1.0.0' }) // blocks 0-1
    const publisherFollows = await RegistryFollows.open(publisher.store)
    await publisherFollows.add(registry.key)
    await publisherFollows.close()
    // the publisher's own node serves its registry and blob log without touching the network
    expect(await followPublishers(publisher.node, publisher.store)).toEqual([registry.key])
    const blobKey = await registry.blobKey() as string
    expect(publisher.node.status().logs.map(l => l.key).sort()).toEqual([registry.key, blobKey].sort())

    const mirror = await nodeWithStore(net)
    const follows = await RegistryFollows.open(mirror.store)
    await follows.add(registry.key)
    await follows.close()
    expect(await followPublishers(mirror.node, mirror.store)).toEqual([registry.key])
    await until('blob blocks 0-1 on the mirror', () => allLocal(mirror.node, blobKey, 2))

    const later = await paddedEcho(70_000, 2) // blocks 2-3
    await registry.publish(later, { name: 'echo', version: '1.1.0' })
    await until('blob blocks 2-3 on the mirror', () => allLocal(mirror.node, blobKey, 4))
    await until('the registry on the mirror', async () => mirror.node.logInfo(registry.key).contiguousLength === registry.core.length)

    await publisher.node.stop()
    const reader = await testNode(net)
    const loader = new FunctionLoader({ host: reader })
    onTestFinished(async () => { await loader.close() })
    const fn = await loader.load(`${registry.key}/echo@^1`)
    expect(fn.manifest.version).toBe('1.1.0')
    expect(b4a.equals(fn.module, later)).toBe(true)
  })
})

import b4a from 'b4a'
import { randomBytes } from 'node:crypto'
import { describe, expect, it, onTestFinished } from 'vitest'
import type { ShadwNode } from '../../../src/core/node/shadw-node.ts'
import { startWebrtcLinks, type WebrtcLinks } from '../../../src/super-node/webrtc-links.ts'
import { until } from '../../helpers/app-page.ts'
import { testnet } from '../../helpers/testnet.ts'
import { keyedNode } from '../../helpers/invoke.ts'

async function links (node: ShadwNode, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }): Promise<WebrtcLinks> {
  const l = await startWebrtcLinks(node, keyPair, { connectTimeoutMs: 10_000 })
  onTestFinished(() => { l.stop() })
  return l
}

function transports (node: ShadwNode, key: string): string {
  return node.status().peers.filter(p => p.publicKey === key).map(p => p.transport).sort().join()
}

/** Two Node nodes on a local HyperDHT with real WebRTC (@roamhq/wrtc) between them. */
describe('direct links between Node nodes (@roamhq/wrtc)', () => {
  it('links even when one side starts late, moves block requests onto the link, and back onto the swarm connection the moment the link closes', async () => {
    const net = await testnet()
    const a = await keyedNode(net, 'shadow')
    const b = await keyedNode(net, 'shadow')
    const la = await links(a.node, a.keyPair)
    // b starts its links only after the connection is up and a's channel open was refused
    // (Protomux refuses opens nobody listens for): the late side's open must still pair
    await until('the swarm connection', async () => transports(b.node, a.node.publicKey) === 'udx', 20_000)
    await new Promise(resolve => setTimeout(resolve, 500))
    const lb = await links(b.node, b.keyPair)
    await until('a direct link both ways', async () => transports(a.node, b.node.publicKey) === 'udx,webrtc' && transports(b.node, a.node.publicKey) === 'udx,webrtc', 30_000)

    const log = await a.node.createLog('both-ways')
    const block = randomBytes(16 * 1024)
    await a.node.append(log.key, Array.from({ length: 200 }, () => block))
    await b.node.follow(log.key)
    await b.node.waitForLength(log.key, 200, 20_000)
    expect(await b.node.download(log.key, { start: 0, end: 100 }, { timeout: 20_000 })).toMatchObject({ fetched: 100, bytes: 100 * block.length })
    const overLink = lb.stats().links.open[0]?.bytesIn ?? 0
    // every block (plus proofs and framing) came over the link, none over the swarm connection
    expect(overLink).toBeGreaterThan(100 * block.length)

    la.stop()
    await until('the link to close on both sides', async () => transports(a.node, b.node.publicKey) === 'udx' && transports(b.node, a.node.publicKey) === 'udx', 20_000)
    expect(lb.stats().links.open).toEqual([])
    // the relayed/udx twin takes over with nothing re-dialled
    expect(await b.node.download(log.key, { start: 100, end: 200 }, { timeout: 20_000 })).toMatchObject({ fetched: 100, bytes: 100 * block.length })
    expect(b4a.equals((await b.node.get(log.key, 199, { wait: false }))!, block)).toBe(true)
  })

  it('super nodes never link to each other', async () => {
    const net = await testnet()
    const a = await keyedNode(net, 'super')
    const b = await keyedNode(net, 'super')
    const la = await links(a.node, a.keyPair)
    const lb = await links(b.node, b.keyPair)
    await until('the swarm connection', async () => transports(a.node, b.node.publicKey) === 'udx', 20_000)
    await new Promise(resolve => setTimeout(resolve, 1_000))
    expect(la.stats().links).toEqual({ attempts: 0, opened: 0, failed: {}, open: [] })
    expect(lb.stats().links).toEqual({ attempts: 0, opened: 0, failed: {}, open: [] })
    expect(transports(b.node, a.node.publicKey)).toBe('udx')
  })
})

import { readdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { startSuperNode } from '../../helpers/super-node.ts'
import { rawRequest, upgradeHead, waitUntil } from '../../helpers/raw-http.ts'

/** Descriptors this process holds now (Linux). */
function descriptors (): number {
  return readdirSync('/proc/self/fd').length
}

describe('super node under hostile HTTP', () => {
  it('answers upgrades on paths it does not serve and frees their sockets, thousands of them', async () => {
    const node = await startSuperNode({ workers: 0 })
    const port = Number(new URL(node.info.appUrl).port)
    const before = descriptors()
    const statuses = new Map<number | null, number>()
    // 2,000 upgrades in batches of 100: each is answered, and the client then leaves
    for (let batch = 0; batch < 20; batch++) {
      const paths = ['/nope', '/api/status', '/fn/x/y', '/relay/', '/']
      const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => rawRequest(port, upgradeHead(paths[i % paths.length] ?? '/'))))
      for (const a of answers) {
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1)
        a.socket.destroy()
      }
    }
    expect(Object.fromEntries(statuses)).toEqual({ 404: 2000 })
    // the node let go of every socket: its descriptors are back to where they were (a few
    // more for the DHT's own sockets and timers at most)
    await waitUntil('the node to free the refused sockets', () => descriptors() <= before + 16)
    await waitUntil('the server to count its connections back down', async () => await new Promise<number>(resolve => { node.httpServer.getConnections((_err, n) => { resolve(n) }) }) === 0)
    // and it still serves
    expect((await fetch(new URL('/api/status', node.info.appUrl))).status).toBe(200)
  }, 60_000)

  it('answers an upgrade on the relay path with 503 while the relay is stopped', async () => {
    const node = await startSuperNode({ workers: 0 })
    const port = Number(new URL(node.info.appUrl).port)
    await node.stopRelay()
    const a = await rawRequest(port, upgradeHead('/relay'))
    a.socket.destroy()
    expect(a.status).toBe(503)
    await node.startRelay()
    const b = await rawRequest(port, upgradeHead('/relay'))
    b.socket.destroy()
    expect(b.status).toBe(101)
  }, 30_000)
})

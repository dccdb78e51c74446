import { readdirSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { startSuperNode } from '../../helpers/super-node.ts'
import { closedWithin, rawRequest, upgradeHead, waitUntil, wsFrameHeader } from '../../helpers/raw-http.ts'

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

  it('holds unfinished /fn bodies of all clients within one memory budget, refusing beyond it with a typed 503', async () => {
    const node = await startSuperNode({ workers: 0, memoryBudgetBytes: 1024 * 1024 })
    const port = Number(new URL(node.info.appUrl).port)
    const slow = `/fn/${'ab'.repeat(32)}/slow@1`
    const head = `POST ${slow} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\n`
    const answers = []
    // each parks 400 KiB of a body that never finishes: the third no longer fits in 1 MiB
    for (let i = 0; i < 4; i++) answers.push(await rawRequest(port, head + 'x'.repeat(400 * 1024), 1_000))
    for (const a of answers) a.socket.destroy()
    expect(answers.map(a => a.status)).toEqual([null, null, 503, 503])
    await waitUntil('the budget to be given back', () => node.status().memory.used === 0)
    expect(node.status().memory).toMatchObject({ limit: 1024 * 1024, used: 0 })
    const ok = await fetch(new URL(slow, node.info.appUrl), { method: 'POST', body: 'x', headers: { 'shadw-deadline': '1000' } })
    expect(ok.headers.get('shadw-error-code')).not.toBe('MEMORY_BUDGET_EXCEEDED')
  }, 30_000)

  it('closes a relay client that sends more than a handshake before finishing its handshake', async () => {
    const node = await startSuperNode({ workers: 0 })
    const port = Number(new URL(node.info.appUrl).port)
    const a = await rawRequest(port, upgradeHead('/relay'))
    expect(a.status).toBe(101)
    // the start of a 16 MiB message that would be buffered whole before the relay sees it
    a.socket.write(wsFrameHeader(16 * 1024 * 1024, false))
    a.socket.write(Buffer.alloc(256 * 1024))
    expect(await closedWithin(a.socket, 5_000)).toBe(true)
    await waitUntil('the budget to be given back', () => node.status().memory.used === 0)
    expect(node.status().relay.clients).toBe(0)
  }, 30_000)
})

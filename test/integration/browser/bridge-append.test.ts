/**
 * The node worker's bridge (src/browser/bridge-server.ts) lets any page of the origin append
 * to the node's logs, but never to the ones its services write: one foreign block in the
 * ledger would stop the executor service for good. Node 20 has BroadcastChannel, so the
 * bridge runs here on a real node; the page side is a channel posting bridge requests.
 */
import b4a from 'b4a'
import { describe, expect, it, onTestFinished } from 'vitest'
import { ATTESTATIONS_LOG_NAME } from '../../../src/core/attest/index.ts'
import { BridgeServer, SERVICE_LOGS } from '../../../src/browser/bridge-server.ts'
import type { BrowserNode } from '../../../src/browser/browser-node.ts'
import { LEDGER_LOG } from '../../../src/browser/invoke-host.ts'
import { Registry, createPublisherKeyPair } from '../../../src/core/registry/index.ts'
import { testnet } from '../../helpers/testnet.ts'
import { keyedNode } from '../../helpers/invoke.ts'

let channels = 0

async function bridged (): Promise<{ call (method: string, params: Record<string, unknown>): Promise<{ ok: boolean, result?: unknown, error?: { code: string, message: string } }>, node: BrowserNode['node'], store: Awaited<ReturnType<typeof keyedNode>>['store'] }> {
  const net = await testnet()
  const { node, store } = await keyedNode(net, 'shadow')
  const channelName = `shadw-bridge-test-${process.pid}-${++channels}`
  const host = { node, status: () => node.status() } as unknown as BrowserNode
  const bridge = new BridgeServer(host, {
    channelName,
    endpoint: async () => { throw new Error('no endpoint in this test') },
    createLoader: () => { throw new Error('no loader in this test') }
  })
  const page = new BroadcastChannel(channelName)
  onTestFinished(() => { page.close(); bridge.close() })
  let id = 0
  return {
    node,
    store,
    call: async (method, params) => await new Promise((resolve) => {
      const rid = `r${++id}`
      const onmessage = (ev: MessageEvent): void => {
        const msg = ev.data as { type?: string, id?: string, ok: boolean, result?: unknown, error?: { code: string, message: string } }
        if (msg.type !== 'response' || msg.id !== rid) return
        page.removeEventListener('message', onmessage as EventListener)
        resolve(msg)
      }
      page.addEventListener('message', onmessage as EventListener)
      page.postMessage({ type: 'request', id: rid, method, params })
    })
  }
}

describe('bridge appends', () => {
  it('append to a log a page created; refuse the ledger, attestations, misses, the storage ledger and a registry with INVALID_ARGUMENT, writing nothing', async () => {
    expect([...SERVICE_LOGS].sort()).toEqual([ATTESTATIONS_LOG_NAME, LEDGER_LOG, 'misses', 'storage-ledger'].sort())
    const { call, node, store } = await bridged()
    const own = await call('createLog', { name: 'notes' })
    expect(own.ok).toBe(true)
    const ownKey = (own.result as { key: string }).key
    expect(await call('append', { key: ownKey, blocks: [b4a.from('mine')] })).toEqual({ type: 'response', id: expect.any(String) as string, ok: true, result: { length: 1 } })

    for (const name of SERVICE_LOGS) {
      // a page may open it by name (reading is fine), but not write it
      const log = await call('createLog', { name })
      const key = (log.result as { key: string }).key
      const res = await call('append', { key, blocks: [b4a.from('forged receipt')] })
      expect(res.ok).toBe(false)
      expect(res.error?.code).toBe('INVALID_ARGUMENT')
      expect(res.error?.message).toBe(`INVALID_ARGUMENT: log ${key} is written by the node's own services: pages may only append to logs they created`)
      expect(node.logInfo(key).length).toBe(0)
    }

    // the publisher's registry: held by key (no name), writable here
    const registry = await Registry.create(store, createPublisherKeyPair())
    onTestFinished(async () => { await registry.close() })
    await node.follow(registry.key)
    const before = node.logInfo(registry.key)
    expect([before.writable, before.name]).toEqual([true, null])
    const res = await call('append', { key: registry.key, blocks: [b4a.from('not a registry entry')] })
    expect(res.error?.code).toBe('INVALID_ARGUMENT')
    expect(node.logInfo(registry.key).length).toBe(before.length)
  })
})

/// <reference lib="webworker" />
/**
 * The node worker: the origin's one shadw node, hosted by the leader tab. A Dedicated Worker
 * because OPFS sync access handles exist only there, and because the page's main thread must
 * never do the node's work.
 */
import { serializeError } from '../src/core/errors.ts'
import { enableLog } from '../src/core/log.ts'
import { BridgeServer } from '../src/browser/bridge-server.ts'
import { BrowserNode } from '../src/browser/browser-node.ts'
import { opfsStorage } from '../src/browser/opfs-storage.ts'
import type { NodeWorkerInit, NodeWorkerReply } from '../src/browser/node-worker-protocol.ts'
import { parseNodeWorkerInit } from '../src/browser/node-worker-protocol.ts'

declare const self: DedicatedWorkerGlobalScope

let host: BrowserNode | null = null
let bridge: BridgeServer | null = null

function reply (msg: NodeWorkerReply): void {
  self.postMessage(msg)
}

async function start (init: NodeWorkerInit): Promise<void> {
  if (init.debug !== undefined) enableLog(init.debug)
  const storage = opfsStorage(init.storageRoot)
  host = await BrowserNode.start({
    relayUrl: init.relayUrl,
    storage,
    storageKind: 'opfs',
    leader: init.leader,
    tier: init.tier,
    onEvent: (name, data) => { bridge?.publish(name, data) }
  })
  bridge = new BridgeServer(host)
  bridge.publish('ready', host.status())
  reply({ type: 'started', status: host.status() })
}

self.onmessage = (ev: MessageEvent) => {
  let init: NodeWorkerInit
  try {
    init = parseNodeWorkerInit(ev.data)
  } catch (err) {
    reply({ type: 'failed', error: serializeError(err) })
    return
  }
  if (host !== null) return
  start(init).catch(err => { reply({ type: 'failed', error: serializeError(err) }) })
}

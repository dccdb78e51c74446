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
import { LinkManager } from '../src/core/links/link-manager.ts'
import { ContributionHost } from '../src/browser/contribution-host.ts'
import { PublisherHost } from '../src/browser/publisher-host.ts'
import { parseWebrtcWorkerInit, type WebrtcWorkerInit } from '../src/core/links/link-protocol.ts'

declare const self: DedicatedWorkerGlobalScope

let host: BrowserNode | null = null
let bridge: BridgeServer | null = null
/** direct WebRTC links: the page sends their control port beside init (it owns the peer connections) */
let webrtc: WebrtcWorkerInit | null = null
let links: LinkManager | null = null

function startLinks (): void {
  if (host === null || webrtc === null || links !== null) return
  links = new LinkManager({ node: host.node, keyPair: host.keyPair, port: webrtc.port, config: webrtc.config })
  links.start()
}

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
  // the origin's invocation endpoint (and executor service when the contributor opted in);
  // tenants' SIWE auth names this app's host
  const contribution = new ContributionHost(host, { domain: self.location.host, ...(init.execute === undefined ? {} : { execute: init.execute }) })
  await contribution.start()
  const publisher = new PublisherHost(host)
  bridge = new BridgeServer(host, {
    endpoint: async () => await contribution.endpoint(),
    handlers: {
      contribute: async (p) => {
        const workers = p['workers']
        // keeps a test-only fault switch given at start: the dashboard never sets one
        await contribution.set(workers === 0 ? undefined : { ...init.execute, workers }, p['tier'])
        return contribution.status()
      },
      contribution: async (p) => contribution.status(typeof p['since'] === 'number' ? p['since'] : 0),
      publish: async (p) => await publisher.publish(p),
      publisher: async () => ({ key: await publisher.key() })
    }
  })
  bridge.publish('ready', host.status())
  startLinks()
  reply({ type: 'started', status: host.status() })
}

self.onmessage = (ev: MessageEvent) => {
  if ((ev.data as { type?: unknown } | null)?.type === 'webrtc') {
    try {
      webrtc ??= parseWebrtcWorkerInit(ev.data)
      startLinks()
    } catch (err) {
      // links stay off and the node runs on the relay; the page's init reply is not this one's to give
      console.warn('shadw: direct links disabled:', (err as Error).message)
    }
    return
  }
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

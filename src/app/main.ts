import { ShadwError } from '../core/errors.ts'
import { defaultRelayUrl, validateRelayUrl } from '../browser/relay-connection.ts'
import { NodeClient } from './node-client.ts'
import { renderStatus } from './status-view.ts'
import { registerServiceWorker } from './service-worker-client.ts'
import { LinkHost } from './webrtc/link-host.ts'
import { webrtcSettingsFromUrl } from './webrtc/webrtc-settings.ts'

/**
 * Entry of the web app. The relay defaults to the super node that served the page; `?relay=`
 * points a page at another one (tests, self-hosted apps).
 */
function relayUrlFromLocation (): string {
  const override = new URLSearchParams(location.search).get('relay')
  return validateRelayUrl(override ?? defaultRelayUrl(location))
}

/**
 * `?execute=N`: this tab's node executes functions for the swarm in N Web Workers (the
 * contributor's opt-in until the dashboard has its switch); `&fault=lie|hold` is a test-only
 * fault switch (a lying executor, one that never answers) for the quorum and retry tests.
 */
function executeFromLocation (): { execute?: { workers: number, fault?: 'lie' | 'hold' } } {
  const params = new URLSearchParams(location.search)
  const workers = params.get('execute')
  if (workers === null) return {}
  const f = params.get('fault')
  const fault: { fault?: 'lie' | 'hold' } = f === 'lie' || f === 'hold' ? { fault: f } : {}
  return { execute: { workers: Number(workers), ...fault } }
}

const root = document.getElementById('app')
if (root === null) throw ShadwError.INTERNAL('index.html has no #app element')

let client: NodeClient | null = null
// The leader tab's peer connections for direct links (RTCPeerConnection exists only in pages).
let links: LinkHost | null = null
try {
  const webrtc = webrtcSettingsFromUrl(location.search)
  client = new NodeClient({
    relayUrl: relayUrlFromLocation(),
    ...executeFromLocation(),
    createWorker: () => new Worker(new URL('../../workers/node.worker.ts', import.meta.url), { type: 'module', name: 'shadw-node' }),
    attachWorker: (worker) => {
      const { port1, port2 } = new MessageChannel()
      const host = new LinkHost(port1)
      links = host
      worker.postMessage({ type: 'webrtc', port: port2, config: webrtc }, [port2])
      return () => { host.close(); if (links === host) links = null }
    }
  })
  client.start()
} catch (err) {
  root.textContent = err instanceof Error ? err.message : String(err)
}

// Tests and power users drive the node from the console through this handle.
;(globalThis as { shadw?: unknown }).shadw = client
;(globalThis as { shadwLinks?: unknown }).shadwLinks = { stats: () => links?.stats() ?? null }

if (client !== null) renderStatus(root, client)
registerServiceWorker().catch(() => {})

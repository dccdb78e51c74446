import { ShadwError } from '../core/errors.ts'
import { defaultRelayUrl, validateRelayUrl } from '../browser/relay-connection.ts'
import { NodeClient, type NodeClientOptions } from './node-client.ts'
import { renderStatus } from './status-view.ts'
import { loadChoice, loadDiskOffer } from './contribution-settings.ts'
import { NodeFeed } from './node-feed.ts'
import { renderShell } from './views/shell.ts'
import { renderContributorView } from './views/contributor-view.ts'
import { renderPlaygroundView } from './views/playground-view.ts'
import { renderNetworkView } from './views/network-view.ts'
import { renderFunctionsView } from './views/functions-view.ts'
import { renderStorageView } from './views/storage-view.ts'
import { registerServiceWorker } from './service-worker-client.ts'
import { LinkHost, type PageLinkStats } from '../core/links/link-host.ts'
import { webrtcSettingsFromUrl } from './webrtc-settings.ts'
import { parseSize } from '../core/pinning/index.ts'

/**
 * Entry of the web app. The relay defaults to the super node that served the page; `?relay=`
 * points a page at another one (tests, self-hosted apps).
 */
function relayUrlFromLocation (): string {
  const override = new URLSearchParams(location.search).get('relay')
  return validateRelayUrl(override ?? defaultRelayUrl(location))
}

/**
 * What the node starts with: the contributor's saved opt-in (the dashboard's switch), or
 * `?execute=N` on the URL (kiosks, tests) for N Web Workers.
 */
function executeFromLocation (): { execute: NodeClientOptions['execute'] } | Record<string, never> {
  const params = new URLSearchParams(location.search)
  const workers = params.get('execute')
  if (workers === null) {
    // read when this tab starts a node, not at load: the choice may change in any tab before that
    return {
      execute: () => {
        const choice = loadChoice()
        return choice.optedIn ? { workers: choice.workers } : undefined
      }
    }
  }
  return { execute: { workers: Number(workers) } }
}

/** `?hold=SIZE` (e.g. `512MiB`): the tab holds pinned drives up to SIZE (kiosks, tests); otherwise the disk offered in the Contribute view. */
function holdFromLocation (): { diskBudget: number } | Record<string, never> {
  const size = new URLSearchParams(location.search).get('hold')
  if (size !== null) return { diskBudget: parseSize(size) }
  const offered = loadDiskOffer()
  return offered > 0 ? { diskBudget: offered } : {}
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
    ...holdFromLocation(),
    // the contributor's saved tier, read when this tab starts a node (like the opt-in)
    tier: () => loadChoice().tier,
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
;(globalThis as { shadwLinks?: unknown }).shadwLinks = {
  // the page's peer connections, with the bytes the node worker counted on their channels
  stats: async (): Promise<PageLinkStats | null> => {
    const host = links
    if (host === null) return null
    const traffic = await host.traffic()
    return { ...host.stats(), bytesIn: traffic?.bytesIn ?? 0, bytesOut: traffic?.bytesOut ?? 0 }
  }
}

if (client !== null) {
  const shell = renderShell(root)
  const feed = new NodeFeed(client)
  renderStatus(shell.state, client, feed)
  renderContributorView(shell.panels.contribute, client, feed)
  const playground = renderPlaygroundView(shell.panels.playground, client)
  renderNetworkView(shell.panels.network, client, feed)
  renderFunctionsView(shell.panels.functions, (ref, input) => { location.hash = 'playground'; playground.tryCall(ref, input) })
  renderStorageView(shell.panels.storage, client)
  feed.start()
}
registerServiceWorker().catch(() => {})

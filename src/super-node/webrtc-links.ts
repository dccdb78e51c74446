import { ShadwError } from '../core/errors.ts'
import type { ShadwNode } from '../core/node/index.ts'
import { LinkHost, type LinkHostStats } from '../core/links/link-host.ts'
import { LinkManager, type LinkStats } from '../core/links/link-manager.ts'
import { parseWebrtcConfig, type LinkPort, type WebrtcConfig } from '../core/links/link-protocol.ts'

/** A super node's direct WebRTC links, for `/api/status` and shutdown. */
export interface WebrtcLinks {
  stats (): { links: LinkStats, peerConnections: LinkHostStats }
  /** Closes every link; safe to call twice. */
  stop (): void
}

/**
 * Lets a super node take direct WebRTC links from browsers, so their replication leaves the
 * relay. The same two halves a browser runs: the {@link LinkManager} (signalling over swarm
 * connections, Noise over the data channel, attached to the node) and the {@link LinkHost}
 * (peer connections), here in one thread, joined by {@link localPorts}, with `@roamhq/wrtc`
 * (libwebrtc, shipped prebuilt in the npm package) as the WebRTC stack. wrtc is loaded only
 * when links are enabled: it is a large native module.
 */
export async function startWebrtcLinks (node: ShadwNode, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }, config: Partial<WebrtcConfig> = {}): Promise<WebrtcLinks> {
  const parsed = parseWebrtcConfig({ ...config, enabled: true })
  let wrtc: unknown
  try {
    wrtc = (await import('@roamhq/wrtc')).default
  } catch (err) {
    throw ShadwError.LINK_FAILED('cannot load @roamhq/wrtc: WebRTC links are unavailable on this platform', err)
  }
  const { port1, port2 } = localPorts()
  const host = new LinkHost(port1, { wrtc })
  const manager = new LinkManager({ node, keyPair, port: port2, config: parsed })
  manager.start()
  let stopped = false
  return {
    stats: () => ({ links: manager.stats(), peerConnections: host.stats() }),
    stop: () => {
      if (stopped) return
      stopped = true
      manager.stop()
      host.close()
    }
  }
}

/**
 * Two {@link LinkPort}s joined in one thread, passing messages as they are: a wrtc data
 * channel is a native object that a MessageChannel would clone into an empty one, where a
 * browser transfers its channel to the worker. Delivered in a microtask, as a port delivers
 * in a later task, so neither side runs inside the other's call.
 */
export function localPorts (): { port1: LinkPort, port2: LinkPort } {
  interface LocalPort extends LinkPort { peer: LocalPort | null, closed: boolean }
  const make = (): LocalPort => ({
    peer: null,
    closed: false,
    onmessage: null,
    postMessage (message: unknown): void {
      const to = this.peer
      if (this.closed || to === null) return
      queueMicrotask(() => { if (!to.closed) to.onmessage?.({ data: message }) })
    },
    start (): void {},
    close (): void { this.closed = true }
  })
  const port1 = make()
  const port2 = make()
  port1.peer = port2
  port2.peer = port1
  return { port1, port2 }
}

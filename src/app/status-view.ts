import { short } from './dom.ts'
import type { NodeClient } from './node-client.ts'
import type { NodeFeed } from './node-feed.ts'

/** Keeps the header's status line (`#node-state`) current: node, tier, role, relay, peers, network. */
export function renderStatus (state: HTMLElement, client: NodeClient, feed: NodeFeed): void {
  feed.on((s) => {
    const online = navigator.onLine ? 'online' : 'offline'
    if (!s.ok || s.staleSince !== undefined) {
      const seen = s.ok && s.staleSince !== undefined ? ` · showing what node ${short(s.status.publicKey)} reported at ${new Date(s.staleSince).toLocaleTimeString()}` : ''
      state.textContent = `${navigator.onLine ? '' : 'offline · '}node not reachable: ${s.error?.message ?? ''}${seen}`
      state.dataset['state'] = 'unreachable'
      return
    }
    const status = s.status
    const signing = s.contribution.signing
    const attested = signing === null ? '' : ` · ${signing.attestations} attestation${signing.attestations === 1 ? '' : 's'}`
    state.textContent = `node ${short(status.publicKey)} · ${status.tier}${attested} · ${client.role} tab · relay ${status.relay.state} · ${status.peers.length} peers · ${online}`
    state.dataset['publicKey'] = status.publicKey
    state.dataset['state'] = status.relay.state
  })
}

import type { BridgeStatus } from '../browser/bridge-protocol.ts'
import type { NodeClient } from './node-client.ts'

/** How often the status view refreshes while the tab is visible. */
const REFRESH_MS = 1_000

function el<K extends keyof HTMLElementTagNameMap> (tag: K, text?: string, attrs: Record<string, string> = {}): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  if (text !== undefined) node.textContent = text
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v)
  return node
}

function short (hex: string): string {
  return hex.length > 16 ? `${hex.slice(0, 8)}…${hex.slice(-6)}` : hex
}

/** Renders the node's status and keeps it fresh; the full dashboard builds on this view. */
export function renderStatus (root: HTMLElement, client: NodeClient): void {
  const heading = el('h1', 'shadw')
  const state = el('p', 'starting node…', { id: 'node-state', role: 'status', 'aria-live': 'polite' })
  const table = el('table', undefined, { id: 'logs', 'aria-label': 'Logs held by this node' })
  root.replaceChildren(heading, state, table)

  const paint = (status: BridgeStatus): void => {
    state.textContent = `node ${short(status.publicKey)} · ${status.tier} · ${client.role} tab · relay ${status.relay.state} · ${status.peers.length} peers · ${navigator.onLine ? 'online' : 'offline'}`
    state.dataset['publicKey'] = status.publicKey
    const head = el('tr')
    for (const h of ['log', 'name', 'length', 'held', 'peers']) head.append(el('th', h, { scope: 'col' }))
    const rows = status.logs.map(l => {
      const tr = el('tr')
      tr.append(el('td', short(l.key), { title: l.key }), el('td', l.name ?? '(followed)'), el('td', String(l.length)), el('td', String(l.contiguousLength)), el('td', String(l.peers)))
      return tr
    })
    if (rows.length === 0) {
      const empty = el('tr')
      empty.append(el('td', 'This node holds no logs yet: they appear here as it follows or creates them.', { colspan: '5' }))
      rows.push(empty)
    }
    table.replaceChildren(head, ...rows)
  }

  const refresh = async (): Promise<void> => {
    if (document.hidden) return
    try {
      paint(await client.call('status', {}, 5_000))
    } catch (err) {
      state.textContent = `${navigator.onLine ? '' : 'offline · '}node not reachable: ${(err as Error).message}`
    }
  }
  refresh().catch(() => {})
  setInterval(() => { refresh().catch(() => {}) }, REFRESH_MS)
}

import type { BridgeStatus } from '../../browser/bridge-protocol.ts'
import { LEDGER_LOG_NAME } from '../../core/ledger/index.ts'
import { swarmGraph, type GraphPeer } from '../charts/swarm-graph.ts'
import { box, el, short } from '../dom.ts'
import type { NodeClient } from '../node-client.ts'
import type { NodeFeed } from '../node-feed.ts'
import { ledgerExplorer } from './ledger-explorer.ts'

/** The swarm as this node sees it: a graph, the peers and executors, held logs, the ledger. */
export function renderNetworkView (panel: HTMLElement, client: NodeClient, feed: NodeFeed): void {
  const graph = swarmGraph()
  const legend = box('ul', { class: 'legend' },
    box('li', {}, el('span', '', { class: 'key key-direct', 'aria-hidden': 'true' }), 'direct link (WebRTC / UDX)'),
    box('li', {}, el('span', '', { class: 'key key-relay', 'aria-hidden': 'true' }), 'through the relay'),
    box('li', {}, el('span', '', { class: 'key tier-super', 'aria-hidden': 'true' }), 'super'),
    box('li', {}, el('span', '', { class: 'key tier-shadow', 'aria-hidden': 'true' }), 'browser (shadow / light / storm)'),
    box('li', {}, el('span', '', { class: 'key key-load', 'aria-hidden': 'true' }), 'arc: executor load'))
  const peers = el('table', undefined, { id: 'peers', 'aria-label': 'Connected peers' })
  const logs = el('table', undefined, { id: 'logs', 'aria-label': 'Logs held by this node' })
  const ledger = ledgerExplorer(client)

  panel.replaceChildren(
    box('div', { class: 'columns' },
      box('figure', { class: 'panel graph' }, graph.element, box('figcaption', {}, legend)),
      box('div', { class: 'panel' }, el('h2', 'Peers'), box('div', { class: 'scroll' }, peers))),
    box('div', { class: 'panel' }, el('h2', 'Logs this node holds'), box('div', { class: 'scroll' }, logs)),
    ledger.element)

  feed.on((state) => {
    if (!state.ok) return
    const { status, contribution } = state
    const exec = new Map(contribution.executors.map(e => [e.key, e]))
    // a peer may have two connections (relay and a direct link): one node, drawn direct if either is
    const byKey = new Map<string, GraphPeer>()
    for (const p of status.peers) {
      const e = exec.get(p.publicKey)
      const tier = e?.tier ?? (state.superKeys.has(p.publicKey) ? 'super' : null)
      const seen = byKey.get(p.publicKey)
      const transport = seen !== undefined && seen.transport !== 'relay' ? seen.transport : p.transport
      byKey.set(p.publicKey, { key: p.publicKey, transport, tier, load: e === undefined || e.total === 0 ? null : 1 - e.free / e.total })
    }
    const gp = [...byKey.values()]
    graph.update({ key: status.publicKey, tier: status.tier }, gp)
    paintPeers(peers, status, exec, state.superKeys)
    paintLogs(logs, status)
    ledger.setOwnLedger(status.logs.find(l => l.name === LEDGER_LOG_NAME)?.key ?? null)
  })
}

function header (table: HTMLTableElement, cols: string[]): HTMLTableRowElement {
  const head = el('tr')
  for (const h of cols) head.append(el('th', h, { scope: 'col' }))
  return head
}

function paintPeers (table: HTMLTableElement, status: BridgeStatus, exec: Map<string, { tier: string | null, free: number, total: number, rtt: number | null }>, supers: Set<string>): void {
  const rows = status.peers.map(p => {
    const e = exec.get(p.publicKey)
    const tr = el('tr')
    tr.append(el('td', short(p.publicKey), { title: p.publicKey }), el('td', e?.tier ?? (supers.has(p.publicKey) ? 'super' : '?')), el('td', p.transport === 'relay' ? 'relay' : `direct (${p.transport})`),
      el('td', e === undefined || e.total === 0 ? '—' : `${e.total - e.free}/${e.total}`), el('td', e?.rtt == null ? '—' : `${Math.round(e.rtt)} ms`))
    return tr
  })
  if (rows.length === 0) {
    const empty = el('tr')
    empty.append(el('td', 'No peers yet: the node is looking for the swarm.', { colspan: '5' }))
    rows.push(empty)
  }
  table.replaceChildren(header(table, ['peer', 'tier', 'link', 'busy', 'rtt']), ...rows)
}

function paintLogs (table: HTMLTableElement, status: BridgeStatus): void {
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
  table.replaceChildren(header(table, ['log', 'name', 'length', 'held', 'peers']), ...rows)
}

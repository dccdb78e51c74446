import { decodeReceipt, type SignedReceipt } from '../../core/ledger/index.ts'
import { box, el, short } from '../dom.ts'
import type { NodeClient } from '../node-client.ts'

/** Receipts listed under the contributor's figures. */
const SHOWN = 5

/**
 * What this node computed and for whom: its latest receipts, read from its own ledger log
 * (the signed record, not the live counters), newest first.
 */
export function recentWork (client: NodeClient): { element: HTMLElement, update (ledgerKey: string | null, length: number): void } {
  const table = el('table', undefined, { id: 'recent-work', 'aria-label': 'Latest calls this node executed' })
  const empty = el('p', 'Nothing executed yet: calls appear here with the tenant they ran for.', { class: 'muted' })
  const element = box('section', { class: 'panel', 'aria-labelledby': 'recent-title' }, el('h2', 'Latest work', { id: 'recent-title' }), empty, box('div', { class: 'scroll' }, table))
  table.hidden = true
  let shownLength = -1
  let busy = false

  return {
    element,
    update (ledgerKey, length) {
      if (ledgerKey === null || length === shownLength || busy) return
      busy = true
      read(client, ledgerKey, length).then((receipts) => {
        shownLength = length
        table.hidden = receipts.length === 0
        empty.hidden = receipts.length > 0
        const head = el('tr')
        for (const h of ['when', 'function', 'tenant', 'fuel']) head.append(el('th', h, { scope: 'col' }))
        table.replaceChildren(head, ...receipts.map(r => {
          const tr = el('tr')
          const [publisher, fn = ''] = r.fn.split('/')
          tr.append(el('td', new Date(r.time).toLocaleTimeString()), el('td', fn, { title: `${publisher ?? ''}/${fn}` }), el('td', short(r.tenant), { title: r.tenant }), el('td', String(r.fuel)))
          return tr
        }))
      }, () => {}).finally(() => { busy = false })
    }
  }
}

async function read (client: NodeClient, key: string, length: number): Promise<SignedReceipt[]> {
  const out: SignedReceipt[] = []
  for (let i = length - 1; i >= Math.max(0, length - SHOWN); i--) {
    const { block } = await client.call('get', { key, index: i, wait: false }, 5_000)
    if (block === null) continue
    try { out.push(decodeReceipt(block)) } catch {}
  }
  return out
}

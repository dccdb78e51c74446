import { decodeReceipt } from '../../core/ledger/index.ts'
import { box, el, field } from '../dom.ts'
import type { NodeClient } from '../node-client.ts'
import { checkReceipt, receiptCard } from '../playground/receipt-card.ts'

/** Receipts shown per page of the explorer, newest first. */
const PAGE = 10

/**
 * Reads receipts from any node's ledger log (this node's own by default), newest first; each
 * is decoded and its signature checked in the page. A remote ledger is followed and read
 * sparsely: only the blocks shown are fetched, each with its Merkle proof.
 */
export function ledgerExplorer (client: NodeClient): { element: HTMLElement, setOwnLedger (key: string | null): void } {
  const key = el('input', undefined, { id: 'ledger-key', placeholder: '64 hex characters', autocomplete: 'off', spellcheck: 'false' })
  const load = el('button', 'Show receipts', { type: 'submit' })
  const list = el('div', undefined, { id: 'ledger-list', 'aria-live': 'polite' })
  const more = el('button', 'Older receipts', { type: 'button', class: 'secondary' })
  more.hidden = true
  let next = 0

  const form = box('form', { class: 'row' }, field('Ledger log key', key, 'Defaults to this node\'s own ledger.'), load)
  const element = box('section', { class: 'panel', 'aria-labelledby': 'ledger-title' }, el('h2', 'Receipts ledger', { id: 'ledger-title' }), form, list, more)

  const show = async (from: number | null): Promise<void> => {
    const k = key.value.trim()
    if (from === null) list.replaceChildren(el('p', 'Reading the ledger…', { class: 'muted' }))
    try {
      const info = await client.call('follow', { key: k })
      const length = info.length > 0 ? info.length : (await client.call('waitForLength', { key: k, length: 1, timeout: 3_000 }).catch(() => ({ length: 0 }))).length
      const end = from ?? length
      if (from === null) list.replaceChildren()
      if (end === 0) { list.replaceChildren(el('p', 'No receipts yet: this ledger is empty.', { class: 'muted' })); more.hidden = true; return }
      const start = Math.max(0, end - PAGE)
      for (let i = end - 1; i >= start; i--) {
        const { block } = await client.call('get', { key: k, index: i, timeout: 10_000 }, 15_000)
        if (block === null) continue
        try {
          const r = decodeReceipt(block)
          list.append(receiptCard(r, checkReceipt(r), `#${i}`))
        } catch (err) {
          list.append(el('p', `#${i}: not a receipt (${(err as Error).message})`, { class: 'error' }))
        }
      }
      next = start
      more.hidden = start === 0
    } catch (err) {
      list.replaceChildren(el('p', (err as Error).message, { class: 'error' }))
    }
  }
  form.addEventListener('submit', (ev) => { ev.preventDefault(); show(null).catch(() => {}) })
  more.addEventListener('click', () => { show(next).catch(() => {}) })
  return {
    element,
    setOwnLedger (k) {
      if (k !== null && key.value === '') { key.value = k }
    }
  }
}

/**
 * The Contribute view's disk section: a visitor may offer disk for pinned drives (a size
 * within what `navigator.storage.estimate()` says the origin may still store), kept across
 * reloads. The node worker reads the offer when it starts, so a new offer reloads the page.
 * What the tab holds, the bytes used of its budget and the storage credits it earned are read
 * from its own storage ledger: the signed receipts its holder appends (docs/pricing.md).
 */
import { computeStorageCredits, readLedger, STORAGE_LEDGER_LOG_NAME, type SignedStorageReceipt } from '../../core/ledger/index.ts'
import { holderBudget } from '../../browser/holder-budget.ts'
import { loadDiskOffer, saveDiskOffer } from '../contribution-settings.ts'
import { box, compact, el, figure, short } from '../dom.ts'
import type { NodeClient } from '../node-client.ts'

const MIB = 1024 * 1024
/** The ledger is read again once it has grown: a few receipts a minute at most. */
const MAX_RECEIPTS_READ = 10_000

/** What the section shows of the tab's storage ledger. */
interface Held { drives: Map<string, number>, earned: number, receipts: number }

async function readHeld (client: NodeClient, key: string, length: number): Promise<Held> {
  const n = Math.min(length, MAX_RECEIPTS_READ)
  const from = length - n
  const entries = await readLedger({ length: n, get: async i => (await client.call('get', { key, index: from + i, wait: false })).block })
  const drives = new Map<string, number>()
  for (const e of entries) {
    if (e.kind === 'storage') drives.set(e.receipt.drive, (e.receipt as SignedStorageReceipt).bytes)
    else if (e.kind === 'storage-pin') drives.set(e.pin.drive, e.pin.bytes)
  }
  const credits = computeStorageCredits(entries)
  return { drives, earned: [...credits.earned.values()].reduce((a, b) => a + b, 0), receipts: credits.counted }
}

function size (bytes: number): string {
  return bytes >= MIB ? `${(bytes / MIB).toFixed(1)} MiB` : `${compact(bytes)} B`
}

/** Builds the section; `update` is given each fresh node status. */
export function diskOffer (client: NodeClient): { element: HTMLElement, update (status: { logs: Array<{ name?: string | null, key: string, length: number }> }): void } {
  const offered = loadDiskOffer()
  const input = el('input', undefined, { type: 'number', id: 'disk-offer', min: '0', step: '1', value: String(Math.round(offered / MIB)) })
  const save = el('button', 'Offer disk', { type: 'button', id: 'disk-save', class: 'secondary' })
  const note = el('p', '', { class: 'muted', id: 'disk-note', 'aria-live': 'polite' })
  const f = { budget: figure('disk used of budget'), drives: figure('drives held'), credits: figure('storage credits earned') }
  const list = el('ul', '', { id: 'disk-drives', class: 'small mono' })
  const element = box('div', { class: 'panel controls', id: 'disk-section' },
    el('h2', 'Disk for pinned drives'),
    box('div', { class: 'field' }, el('label', 'Disk offered (MiB, 0 for none)', { for: 'disk-offer' }), box('div', { class: 'row' }, input, save)),
    note,
    box('div', { class: 'figures' }, ...Object.values(f).map(x => x.card)),
    list,
    el('p', 'While this tab is open it holds parts of tenants\' drives in its private storage (OPFS), within your budget and the browser\'s quota, and signs a storage receipt at each re-confirmation. Closing the tab stops holding: the swarm re-pins elsewhere.', { class: 'muted small' })
  )
  let budget = 0
  const estimate = navigator.storage?.estimate === undefined ? undefined : async () => await navigator.storage.estimate()
  void (async () => {
    budget = await holderBudget(offered, estimate)
    const cap = await holderBudget(Number.MAX_SAFE_INTEGER, estimate)
    input.max = String(Math.floor(cap / MIB))
    note.textContent = offered === 0
      ? `Not holding. This browser lets the app store up to ${size(cap)} more.`
      : `Holding up to ${size(budget)}${budget < offered ? ' (capped by the browser\'s quota)' : ''}.`
  })()
  save.addEventListener('click', () => {
    const mib = Math.max(0, Math.floor(Number(input.value)))
    const max = Number(input.max)
    if (!Number.isFinite(mib) || (input.max !== '' && mib > max)) { note.textContent = `Offer at most ${max} MiB: the browser's quota.`; return }
    saveDiskOffer(mib * MIB)
    // the node worker reads the offer when it starts
    location.reload()
  })
  let read = -1
  let reading = false
  return {
    element,
    update (status) {
      const log = status.logs.find(l => l.name === STORAGE_LEDGER_LOG_NAME)
      if (log === undefined || log.length === read || reading) return
      reading = true
      const length = log.length
      readHeld(client, log.key, length).then(held => {
        read = length
        const used = [...held.drives.values()].reduce((a, b) => a + b, 0)
        f.budget.set(`${size(used)} / ${size(budget)}`)
        f.drives.set(String(held.drives.size))
        f.credits.set(held.earned === 0 ? '0' : (held.earned / 1_000_000).toFixed(6).replace(/0+$/, ''))
        list.replaceChildren(...[...held.drives].map(([d, b]) => { const li = el('li', `${short(d)} · ${size(b)}`); li.title = d; return li }))
        element.dataset['drives'] = String(held.drives.size)
        element.dataset['receipts'] = String(held.receipts)
        element.dataset['earned'] = String(held.earned)
      }).catch(() => {}).finally(() => { reading = false })
    }
  }
}

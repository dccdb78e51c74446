/**
 * The Storage view: this browser's drives (create one, encrypted on request; their secret
 * keys stay in the node's key store, derived from its primary key like the publisher key),
 * uploads of files and folders into the chosen one, pinning it on holders and watching them,
 * and browsing any drive by key and version with links to copy.
 */
import { box, el, field, short } from '../dom.ts'
import type { NodeClient } from '../node-client.ts'
import type { BridgeMethods } from '../../browser/bridge-protocol.ts'
import { driveBrowser } from './drive-browser.ts'
import { showError, showStatus } from './drive-errors.ts'
import { pinPanel } from './drive-pin-panel.ts'
import { uploadPanel } from './drive-upload-panel.ts'

type OwnedDrive = BridgeMethods['drives']['result']['drives'][number]

/** Creating a drive opens it on the node (its topic joined): a few seconds at most. */
const CREATE_TIMEOUT_MS = 30_000

export function renderStorageView (panel: HTMLElement, client: NodeClient): void {
  const label = el('input', undefined, { id: 'drive-label', type: 'text', maxlength: '80', placeholder: 'photos, site, dataset…', autocomplete: 'off' })
  const encrypt = el('input', undefined, { id: 'drive-encrypt', type: 'checkbox' })
  const create = el('button', 'Create a drive', { type: 'submit', id: 'drive-create' })
  const created = el('p', '', { id: 'drive-created', class: 'muted wrap', 'aria-live': 'polite' })
  const list = el('ul', undefined, { id: 'my-drives', class: 'fn-list', 'aria-label': 'Your drives' })
  const chosen = el('p', 'No drive chosen.', { id: 'drive-chosen', class: 'muted small wrap', 'aria-live': 'polite' })
  const form = box('form', { 'aria-label': 'Create a drive' },
    field('Name (only shown here)', label),
    box('label', { class: 'radio' }, encrypt, ' Encrypt: holders and relays store ciphertext only'),
    box('div', { class: 'row' }, create))
  const mine = box('section', { class: 'panel', id: 'my-drives-panel', 'aria-labelledby': 'my-drives-title' },
    el('h2', 'Your drives', { id: 'my-drives-title' }), form, created, list, chosen,
    el('p', 'A drive\'s secret keys never leave this browser: clearing the site\'s data loses them (what was pinned stays readable by key).', { class: 'muted small' }))

  let selected: string | null = null
  let drives: OwnedDrive[] = []
  const browser = driveBrowser(client)
  const pins = pinPanel(client)
  const uploads = uploadPanel(client, key => {
    void refresh()
    if (key === selected) browser.open(key)
  })

  const choose = (key: string | null): void => {
    selected = key
    const d = drives.find(x => x.key === key)
    chosen.textContent = d === undefined ? 'No drive chosen.' : `Chosen: ${d.label === '' ? short(d.key) : d.label} · ${d.key}${d.encrypted ? ' · encrypted' : ''}`
    for (const li of list.querySelectorAll('li')) li.classList.toggle('chosen', li.dataset['key'] === key)
    uploads.select(key)
    pins.select(key)
    if (key !== null) browser.open(key)
  }

  const paint = (): void => {
    list.replaceChildren(...drives.map(d => {
      const pick = Object.assign(el('button', d.label === '' ? short(d.key) : d.label, { type: 'button', class: 'linkish', title: d.key }), { onclick: () => { choose(d.key) } })
      return box('li', { class: 'fn-card', 'data-key': d.key }, pick, el('span', ` · v${d.version}${d.encrypted ? ' · 🔒 encrypted' : ''}`, { class: 'muted small' }))
    }))
    if (drives.length === 0) list.append(el('li', 'No drives yet.', { class: 'muted' }))
  }

  const refresh = async (): Promise<void> => {
    try {
      drives = (await client.call('drives', {})).drives
      paint()
      if (selected !== null) for (const li of list.querySelectorAll('li')) li.classList.toggle('chosen', li.dataset['key'] === selected)
    } catch (err) {
      showError(created, err)
    }
  }

  form.addEventListener('submit', ev => {
    ev.preventDefault()
    create.disabled = true
    showStatus(created, 'creating…')
    client.call('driveCreate', { encrypt: encrypt.checked, label: label.value.trim() }, CREATE_TIMEOUT_MS).then(async d => {
      showStatus(created, `Created ${d.key}${d.encrypted ? ' (encrypted)' : ''}.`)
      created.dataset['key'] = d.key
      label.value = ''
      await refresh()
      choose(d.key)
    }, err => { showError(created, err) }).finally(() => { create.disabled = false })
  })

  panel.replaceChildren(box('div', { class: 'columns' },
    box('div', {}, mine, uploads.element, pins.element),
    browser.element))
  void refresh()
}

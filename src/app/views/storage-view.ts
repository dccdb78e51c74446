import { listDrive, type DriveListing } from '../../core/gateway/index.ts'
import { box, el, field } from '../dom.ts'

/** Bytes as people read them. */
function size (n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let u = 0
  let v = n
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++ }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`
}

/**
 * Browsing drives: a drive's key (and optionally a version) opens its folders; files are
 * links to `/drive/<key>@<version>/<path>`, which this origin's service worker answers from
 * the browser's own node. Creating drives and uploading from the page are not here yet (the
 * CLI does that: `shadw drive create/put`).
 */
export function renderStorageView (panel: HTMLElement): void {
  const key = el('input', undefined, { id: 'drive-key', type: 'text', spellcheck: 'false', autocomplete: 'off', placeholder: '64 hex characters', size: '66' })
  const version = el('input', undefined, { id: 'drive-version', type: 'number', min: '1', placeholder: 'latest' })
  const open = el('button', 'Open', { type: 'submit', id: 'drive-open' })
  const form = box('form', { class: 'panel', 'aria-label': 'Open a drive' },
    el('h2', 'Browse a drive'),
    field('Drive key', key, 'printed by `shadw drive create`'),
    field('Version', version, 'empty for the latest; every earlier version stays readable'),
    open)
  const where = el('p', '', { id: 'drive-where', class: 'muted small wrap', role: 'status', 'aria-live': 'polite' })
  const table = el('table', undefined, { id: 'drive-entries', 'aria-label': 'Files and folders in the drive' })
  panel.replaceChildren(box('div', { class: 'columns' }, form, box('div', { class: 'panel' }, el('h2', 'Files'), where, box('div', { class: 'scroll' }, table))))

  let current = { key: '', dir: '/' }
  const show = async (dir: string): Promise<void> => {
    const v = version.value === '' ? undefined : Number(version.value)
    where.textContent = 'loading…'
    let listing: DriveListing
    try {
      listing = await listDrive(current.key, dir, v === undefined ? {} : { version: v })
    } catch (err) {
      where.textContent = err instanceof Error ? err.message : String(err)
      table.replaceChildren()
      return
    }
    current = { ...current, dir: listing.dir }
    where.textContent = `${listing.key} · version ${listing.version} · ${listing.dir}`
    const rows = listing.entries.map(e => {
      const name = e.path.slice(e.path.lastIndexOf('/') + 1)
      const cell = e.kind === 'dir'
        ? box('td', {}, Object.assign(el('button', `${name}/`, { type: 'button', class: 'link' }), { onclick: () => { void show(e.path) } }))
        : box('td', {}, el('a', name, { href: `/drive/${listing.key}@${listing.version}${e.path.split('/').map(encodeURIComponent).join('/')}`, target: '_blank', rel: 'noopener' }))
      return box('tr', {}, cell, el('td', e.kind === 'dir' ? '' : size(e.size)), el('td', e.kind === 'dir' ? '' : `v${e.version}`))
    })
    const up = listing.dir === '/' ? [] : [box('tr', {}, box('td', {}, Object.assign(el('button', '../', { type: 'button', class: 'link' }), { onclick: () => { void show(listing.dir.slice(0, listing.dir.lastIndexOf('/')) || '/') } })), el('td', ''), el('td', ''))]
    table.replaceChildren(box('tr', {}, el('th', 'Name'), el('th', 'Size'), el('th', 'Written at')), ...up, ...rows)
  }
  form.addEventListener('submit', ev => {
    ev.preventDefault()
    current = { key: key.value.trim().toLowerCase(), dir: '/' }
    void show('/')
  })
}

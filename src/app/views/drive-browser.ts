/**
 * Browsing a drive: its key and a version (empty: the latest, with older and newer steps)
 * open its folders; each file links to `/drive/<key>@<version>/<path>` (what this origin's
 * service worker answers from the browser's own node), and copies its latest link on this
 * origin and on the super node. Listings come over the bridge from the node, so they work
 * before the service worker controls the page and for this browser's encrypted drives.
 */
import { DRIVE_PREFIX, type DriveEntry } from '../../core/drive/index.ts'
import { box, el, field } from '../dom.ts'
import type { NodeClient } from '../node-client.ts'
import { showError, showStatus } from './drive-errors.ts'

/** Windows of one listing followed at most (1 MiB each: 10 000 entries fit in a few). */
const MAX_LISTING_WINDOWS = 32
/** Opening a drive may wait for peers to answer its length. */
const LIST_TIMEOUT_MS = 45_000

/** Bytes as people read them. */
export function size (n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let u = 0
  let v = n
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++ }
  return `${u === 0 ? v : v.toFixed(1)} ${units[u]}`
}

/** `/a b/c` as a URL path. */
function encodePath (path: string): string {
  return path.split('/').map(encodeURIComponent).join('/')
}

interface Listing { key: string, version: number, dir: string, entries: DriveEntry[] }

/** A folder's listing from the node, window after window. */
async function listOver (client: NodeClient, key: string, dir: string, version: number | undefined): Promise<Listing> {
  // `?list`: a folder with an index.html would otherwise answer with that page
  let url = `${DRIVE_PREFIX}${key}${version === undefined ? '' : `@${version}`}${encodePath(dir === '/' ? '' : dir)}/?list`
  let range: string | undefined
  const parts: Uint8Array[] = []
  for (let i = 0; i < MAX_LISTING_WINDOWS; i++) {
    const reply = await client.call('driveFetch', { url, method: 'GET', ...(range === undefined ? {} : { range }) }, LIST_TIMEOUT_MS)
    if (reply.status >= 400) {
      const body = JSON.parse(new TextDecoder().decode(reply.body ?? new Uint8Array())) as { code?: string, message?: string }
      throw Object.assign(new Error(body.message ?? `HTTP ${reply.status}`), { code: body.code ?? 'INTERNAL' })
    }
    if (reply.body !== null) parts.push(reply.body)
    if (reply.next === null) break
    url = reply.next.url
    range = `bytes=${reply.next.start}-${reply.next.last}`
  }
  const decoder = new TextDecoder()
  const text = parts.map(p => decoder.decode(p, { stream: true })).join('') + decoder.decode()
  return JSON.parse(text) as Listing
}

/** The http(s) origin of a relay URL: the super node this tab's node goes through. */
export function superNodeOrigin (relayUrl: string): string {
  const u = new URL(relayUrl)
  u.protocol = u.protocol === 'wss:' ? 'https:' : 'http:'
  return u.origin
}

/** Builds the browse panel; `open(key)` shows a drive from elsewhere in the view. */
export function driveBrowser (client: NodeClient): { element: HTMLElement, open (key: string, version?: number): void } {
  const key = el('input', undefined, { id: 'drive-key', type: 'text', spellcheck: 'false', autocomplete: 'off', placeholder: '64 hex characters' })
  const version = el('input', undefined, { id: 'drive-version', type: 'number', min: '1', placeholder: 'latest' })
  const open = el('button', 'Open', { type: 'submit', id: 'drive-open' })
  const older = el('button', '◀ older', { type: 'button', id: 'drive-older', class: 'secondary' })
  const newer = el('button', 'newer ▶', { type: 'button', id: 'drive-newer', class: 'secondary' })
  const where = el('p', '', { id: 'drive-where', class: 'muted small wrap', role: 'status', 'aria-live': 'polite' })
  const table = el('table', undefined, { id: 'drive-entries', 'aria-label': 'Files and folders in the drive' })
  const link = el('input', undefined, { id: 'drive-link', type: 'text', readonly: '', 'aria-label': 'Last link copied', class: 'mono small' })
  const copied = el('p', '', { id: 'drive-copied', class: 'muted small wrap', 'aria-live': 'polite' })
  const form = box('form', { 'aria-label': 'Open a drive' },
    field('Drive key', key, 'printed by `shadw drive create`, or one of yours above'),
    field('Version', version, 'empty for the latest; every earlier version stays readable'),
    box('div', { class: 'row' }, open, older, newer))
  const element = box('div', { class: 'panel', id: 'drive-browser' }, el('h2', 'Browse a drive'), form, where, box('div', { class: 'scroll' }, table), field('Link', link), copied)

  let current = { key: '', dir: '/', latest: 0 }
  let relay = ''
  void client.call('status', {}).then(s => { relay = s.relay.url }, () => {})

  const copy = async (url: string): Promise<void> => {
    link.value = url
    try {
      await navigator.clipboard.writeText(url)
      copied.textContent = `Copied ${url}`
    } catch {
      // a page without clipboard permission: the link is selected for the user to copy
      link.select()
      copied.textContent = 'Select the link above and copy it.'
    }
  }

  const show = async (dir: string): Promise<void> => {
    const v = version.value === '' ? undefined : Number(version.value)
    showStatus(where, 'loading…')
    let listing: Listing
    try {
      listing = await listOver(client, current.key, dir, v)
    } catch (err) {
      showError(where, err)
      table.replaceChildren()
      return
    }
    if (v === undefined || listing.version > current.latest) current.latest = listing.version
    current = { ...current, dir: listing.dir }
    showStatus(where, `${listing.key} · version ${listing.version} · ${listing.dir}`)
    older.disabled = listing.version <= 1
    newer.disabled = listing.version >= current.latest
    const here = location.origin
    const there = relay === '' ? here : superNodeOrigin(relay)
    const rows = listing.entries.map(e => {
      const name = e.path.slice(e.path.lastIndexOf('/') + 1)
      if (e.kind === 'dir') {
        const go = Object.assign(el('button', `${name}/`, { type: 'button', class: 'linkish' }), { onclick: () => { void show(e.path) } })
        return box('tr', {}, box('td', {}, go), el('td', ''), el('td', ''), el('td', ''))
      }
      const latest = `${DRIVE_PREFIX}${listing.key}${encodePath(e.path)}`
      const copyHere = Object.assign(el('button', 'copy link', { type: 'button', class: 'linkish', 'aria-label': `Copy the link to ${name} on this origin` }), { onclick: () => { void copy(here + latest) } })
      const cells: HTMLElement[] = [copyHere]
      if (there !== here) cells.push(Object.assign(el('button', 'super node', { type: 'button', class: 'linkish', 'aria-label': `Copy the link to ${name} on the super node` }), { onclick: () => { void copy(there + latest) } }))
      return box('tr', {},
        box('td', {}, el('a', name, { href: `${DRIVE_PREFIX}${listing.key}@${listing.version}${encodePath(e.path)}`, target: '_blank', rel: 'noopener' })),
        el('td', size(e.size)), el('td', `v${e.version}`), box('td', {}, box('span', { class: 'row' }, ...cells)))
    })
    const parent = listing.dir.slice(0, listing.dir.lastIndexOf('/')) || '/'
    const up = listing.dir === '/' ? [] : [box('tr', {}, box('td', {}, Object.assign(el('button', '../', { type: 'button', class: 'linkish' }), { onclick: () => { void show(parent) } })), el('td', ''), el('td', ''), el('td', ''))]
    table.replaceChildren(box('tr', {}, el('th', 'Name'), el('th', 'Size'), el('th', 'Written at'), el('th', 'Links')), ...up, ...rows)
  }
  const step = (by: number): void => {
    const from = version.value === '' ? current.latest : Number(version.value)
    const to = Math.min(current.latest, Math.max(1, from + by))
    version.value = to === current.latest ? '' : String(to)
    void show(current.dir)
  }
  older.addEventListener('click', () => { step(-1) })
  newer.addEventListener('click', () => { step(1) })
  form.addEventListener('submit', ev => {
    ev.preventDefault()
    current = { key: key.value.trim().toLowerCase(), dir: '/', latest: 0 }
    void show('/')
  })
  return {
    element,
    open: (k, v) => {
      key.value = k
      version.value = v === undefined ? '' : String(v)
      current = { key: k, dir: '/', latest: 0 }
      void show('/')
    }
  }
}

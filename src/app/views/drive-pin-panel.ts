/**
 * The Storage view's pin panel: pin the chosen drive's latest version on N holders (replica
 * count; the node returns once each has confirmed, signed, that it holds every log), and
 * see the drive's holders as they report: each one's last signed confirmation, whether it is
 * live, its disk budget, its last proof of storage (passed or failed, why, when; how many of
 * its co-holders' challenges fail it now, and FAILED once a quorum of them does), and the
 * drive's health (healthy, degraded, lost).
 *
 * Or erasure-coded K+M: the node worker streams the version stripe by stripe onto K+M
 * shard holders (any K of each stripe rebuild it), at (K+M)/K the bytes instead of N×.
 */
import type { HolderProof } from '../../core/pinning/index.ts'
import type { BridgeMethods } from '../../browser/bridge-protocol.ts'
import { box, el, field, short } from '../dom.ts'
import type { NodeClient } from '../node-client.ts'
import { size } from './drive-browser.ts'
import { showError, showStatus } from './drive-errors.ts'

/** Holders fetch every block before confirming: a big drive takes a while. */
const PIN_TIMEOUT_MS = 300_000
/** Status asks the holders on the swarm: a few seconds of discovery. */
const STATUS_TIMEOUT_MS = 30_000

function ago (ms: number): string {
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000))
  return s < 120 ? `${s} s ago` : `${Math.round(s / 60)} min ago`
}

type Status = BridgeMethods['driveStatus']['result']

/** A holder's proof cell: its last verdict, the challengers failing it, FAILED on a quorum. */
function proofCell (p: HolderProof | undefined): HTMLElement {
  if (p === undefined) return el('td', 'no proof yet', { class: 'muted', 'data-proof': 'none' })
  const last = p.last.ok ? `✓ passed ${ago(p.last.time)}` : `✗ failed (${p.last.reason}) ${ago(p.last.time)}`
  const failing = p.failing > 0 ? ` · failed by ${p.failing} of ${p.challengers} challenger${p.challengers === 1 ? '' : 's'}` : ''
  const td = box('td', { class: p.failed || !p.last.ok ? 'error' : 'ok', 'data-proof': p.last.ok ? 'passed' : 'failed', title: `${p.last.kind} proof, challenged by ${p.last.challenger} at ${new Date(p.last.time).toISOString()}` })
  if (p.failed) td.append(el('strong', 'FAILED', { class: 'error' }), ' · ')
  td.append(last + failing)
  return td
}

/** Builds the panel; `select(key)` points it at a drive (null: none). */
export function pinPanel (client: NodeClient): { element: HTMLElement, select (key: string | null): void } {
  const replicas = el('input', undefined, { id: 'pin-replicas', type: 'number', min: '1', max: '16', value: '3', inputmode: 'numeric' })
  const mode = el('select', undefined, { id: 'pin-mode' })
  mode.append(el('option', 'Replicas', { value: 'replicas' }), el('option', 'Erasure K+M', { value: 'erasure' }))
  const scheme = el('input', undefined, { id: 'pin-scheme', type: 'text', value: '4+2', pattern: '\\d{1,2}\\+\\d{1,2}', size: '5' })
  const pin = el('button', 'Pin', { type: 'submit', id: 'pin-submit' })
  const refresh = el('button', 'Refresh holders', { type: 'button', id: 'pin-refresh', class: 'secondary' })
  const busy = el('progress', undefined, { 'aria-label': 'Pinning' })
  busy.hidden = true
  const state = el('p', '', { id: 'pin-state', class: 'muted wrap', 'aria-live': 'polite' })
  const health = el('p', '', { id: 'drive-health', class: 'muted wrap', 'aria-live': 'polite' })
  const table = el('table', undefined, { id: 'drive-holders', 'aria-label': 'Holders of the drive' })
  const form = box('form', { 'aria-label': 'Pin the drive' },
    field('Redundancy', mode, 'Whole copies on N holders, or erasure coding: K data and M parity shards on K+M holders, any K rebuild it.'),
    field('Replicas', replicas, 'Distinct holders that keep a full copy (1-16); the swarm re-pins a replica whose holder leaves.'),
    field('Erasure K+M', scheme, 'e.g. 4+2: survives any 2 lost holders at 1.5× the bytes; the holders repair a lost shard among themselves.'),
    box('div', { class: 'row' }, pin, refresh, busy))
  const element = box('section', { class: 'panel', id: 'pin-panel', 'aria-labelledby': 'pin-title' },
    el('h2', 'Pin and holders', { id: 'pin-title' }), form, state, health, box('div', { class: 'scroll' }, table))

  let key: string | null = null

  const paint = (s: Status): void => {
    const live = s.holders.filter(h => h.live).length
    const proofs = new Map(s.proofs.map(p => [p.holder, p]))
    const failed = s.holders.filter(h => proofs.get(h.holder)?.failed === true).length
    health.textContent = s.replicas === 0 ? 'No holder knows this drive yet.' : `Health: ${s.health} · ${live} of ${s.replicas} replicas live${failed === 0 ? '' : ` · ${failed} FAILED by proofs`}`
    health.dataset['health'] = s.health
    table.replaceChildren(
      box('tr', {}, el('th', 'Holder'), el('th', 'State'), el('th', 'Last confirmed'), el('th', 'Disk used'), el('th', 'Last proof')),
      ...s.holders.map(h => box('tr', { 'data-holder': h.holder, ...(proofs.get(h.holder)?.failed === true ? { 'data-failed': '' } : {}) },
        el('td', short(h.holder), { title: h.holder, class: 'mono' }),
        el('td', h.live ? '✓ live' : '✗ gone', { class: h.live ? 'ok' : 'error' }),
        el('td', ago(h.confirmedAt), { title: new Date(h.confirmedAt).toISOString() }),
        el('td', `${size(h.confirmation.budget.used)} of ${size(h.confirmation.budget.total)}`),
        proofCell(proofs.get(h.holder)))))
  }

  const status = async (): Promise<void> => {
    if (key === null) return
    const asked = key
    showStatus(health, 'asking the holders…')
    // one ask at a time: the node answers them in turn, so clicks would only queue
    refresh.disabled = true
    try {
      const s = await client.call('driveStatus', { key: asked }, STATUS_TIMEOUT_MS)
      if (key === asked) paint(s)
    } catch (err) {
      if (key === asked) showError(health, err)
    } finally {
      refresh.disabled = key === null
    }
  }

  const pinErasure = (asked: string): void => {
    const s = scheme.value.trim()
    pin.disabled = true
    busy.hidden = false
    showStatus(state, `Coding ${s}: the version streams stripe by stripe to its shard holders, who check and sign…`)
    client.call('drivePinErasure', { key: asked, scheme: s, timeout: PIN_TIMEOUT_MS - 5_000 }, PIN_TIMEOUT_MS).then(async r => {
      showStatus(state, `Pinned ${size(r.size)} erasure-coded ${r.k}+${r.m} (${r.stripes} stripe${r.stripes === 1 ? '' : 's'}, ${(r.k + r.m) / r.k}× stored) on ${r.holds.length} holders, each signed.`)
      state.dataset['erasure'] = `${r.k}+${r.m}`
      await status()
    }, err => { showError(state, err) }).finally(() => {
      pin.disabled = key === null
      busy.hidden = true
    })
  }

  form.addEventListener('submit', ev => {
    ev.preventDefault()
    if (key === null) return
    if (mode.value === 'erasure') { pinErasure(key); return }
    const n = Number(replicas.value)
    const asked = key
    pin.disabled = true
    busy.hidden = false
    showStatus(state, `Placing ${n} replica${n === 1 ? '' : 's'}: holders fetch every block, then sign…`)
    client.call('drivePin', { key: asked, replicas: n, timeout: PIN_TIMEOUT_MS - 5_000 }, PIN_TIMEOUT_MS).then(async r => {
      const bytes = r.logs.reduce((s, l) => s + l.byteLength, 0)
      showStatus(state, `Pinned ${size(bytes)} on ${r.confirmations.length} holder${r.confirmations.length === 1 ? '' : 's'}, each confirmed and signed.`)
      await status()
    }, err => { showError(state, err) }).finally(() => {
      pin.disabled = key === null
      busy.hidden = true
    })
  })
  refresh.addEventListener('click', () => { void status() })

  const select = (k: string | null): void => {
    key = k
    pin.disabled = k === null
    refresh.disabled = k === null
    table.replaceChildren()
    showStatus(state, k === null ? 'Choose one of your drives first.' : '')
    showStatus(health, '')
    if (k !== null) void status()
  }
  select(null)
  return { element, select }
}

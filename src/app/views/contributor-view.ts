import { LEDGER_LOG_NAME } from '../../core/ledger/index.ts'
import { barChart } from '../charts/bar-chart.ts'
import { bucketise } from '../charts/buckets.ts'
import { loadChoice, maxWorkers, saveChoice, type ContributionChoice } from '../contribution-settings.ts'
import { box, compact, duration, el, figure, short } from '../dom.ts'
import type { NodeClient } from '../node-client.ts'
import type { NodeFeed } from '../node-feed.ts'
import { isSuper } from '../super-nodes.ts'
import { watchBattery } from './battery-policy.ts'
import { recentWork } from './recent-work.ts'
import { diskOffer } from './disk-offer.ts'

/** Chart window: 30 buckets of 10 s, the last five minutes. */
const BUCKETS = 30
const BUCKET_MS = 10_000
/** A slider dragged across several stops sends one switch, not one per stop. */
const BUDGET_DEBOUNCE_MS = 250

/** What each tier a browser may pick does, as the dashboard says it. */
const TIER_LABELS = {
  shadow: 'Shadow: execute functions for tenants',
  light: 'Light: verify and co-sign others\' results (executes nothing for tenants)'
} as const

/**
 * The contributor's dashboard: the explicit opt-in (nothing executes or signs before it), the
 * tier (shadow computes, light co-signs; switched on the running node), the CPU budget
 * (applied at once), pause/resume, and what the node did.
 */
export function renderContributorView (panel: HTMLElement, client: NodeClient, feed: NodeFeed): void {
  let choice: ContributionChoice = loadChoice()
  let paused = false
  let batteryLow = false
  const cores = navigator.hardwareConcurrency ?? 1

  const optIn = el('input', undefined, { type: 'checkbox', role: 'switch', id: 'contribute-switch' })
  optIn.checked = choice.optedIn
  const optInLabel = box('label', { class: 'switch', for: 'contribute-switch' }, optIn, el('span', 'Contribute this device\'s idle CPU to the swarm'))

  const tierInputs = (['shadow', 'light'] as const).map(t => {
    const input = el('input', undefined, { type: 'radio', name: 'tier', id: `tier-${t}`, value: t })
    input.checked = choice.tier === t
    return input
  })
  const tierChoice = box('fieldset', { class: 'modes', id: 'tier-choice' }, el('legend', 'Role in the swarm'),
    ...tierInputs.map(input => box('label', { for: input.id, class: 'radio' }, input, ` ${TIER_LABELS[input.value as 'shadow' | 'light']}`)))

  const budget = el('input', undefined, { type: 'range', id: 'budget', min: '1', max: String(maxWorkers()), step: '1' })
  budget.value = String(choice.workers)
  const budgetText = el('output', '', { for: 'budget', id: 'budget-text' })
  const pause = el('button', 'Pause', { type: 'button', id: 'pause', class: 'secondary' })
  const note = el('p', '', { class: 'muted', id: 'contribute-note', 'aria-live': 'polite' })
  const nodeLine = el('p', '', { class: 'muted small mono', id: 'contribute-node' })

  const apply = async (): Promise<void> => {
    const workers = choice.optedIn && !paused && !batteryLow ? choice.workers : 0
    try {
      await client.call('contribute', { workers, tier: choice.tier })
      const plural = workers === 1 ? '' : 's'
      note.textContent = workers === 0
        ? (choice.optedIn ? (batteryLow ? 'Paused: battery below 20% and not charging. Resumes when charging.' : 'Paused: nothing runs until you resume.') : 'Not contributing: this node stores and relays logs but executes and signs nothing.')
        : choice.tier === 'light'
          ? `Verifying for the swarm: co-signing receipts, re-running audited calls in up to ${Math.min(2, workers)} worker${Math.min(2, workers) === 1 ? '' : 's'}.`
          : `Executing for the swarm in ${workers} worker${plural}.`
    } catch (err) {
      note.textContent = `Could not switch: ${(err as Error).message}`
    }
    await feed.refresh()
  }

  const paintControls = (): void => {
    budget.value = String(choice.workers)
    budgetText.textContent = `${choice.workers} of ${cores} cores (${Math.round((choice.workers / cores) * 100)}%)`
    pause.disabled = !choice.optedIn
    pause.textContent = paused ? 'Resume' : 'Pause'
    pause.setAttribute('aria-pressed', String(paused))
  }

  optIn.addEventListener('change', () => {
    choice = { ...choice, optedIn: optIn.checked }
    paused = false
    saveChoice(choice)
    paintControls()
    apply().catch(() => {})
  })
  for (const input of tierInputs) {
    input.addEventListener('change', () => {
      if (!input.checked) return
      choice = { ...choice, tier: input.value === 'light' ? 'light' : 'shadow' }
      saveChoice(choice)
      apply().catch(() => {})
    })
  }
  let debounce: ReturnType<typeof setTimeout> | null = null
  budget.addEventListener('input', () => {
    choice = { ...choice, workers: Number(budget.value) }
    saveChoice(choice)
    paintControls()
    if (debounce !== null) clearTimeout(debounce)
    debounce = setTimeout(() => { if (choice.optedIn) apply().catch(() => {}) }, BUDGET_DEBOUNCE_MS)
  })
  pause.addEventListener('click', () => {
    paused = !paused
    paintControls()
    apply().catch(() => {})
  })
  watchBattery((low) => {
    if (low === batteryLow) return
    batteryLow = low
    if (choice.optedIn) apply().catch(() => {})
  })

  const controls = box('div', { class: 'panel controls' },
    el('h2', 'Your contribution'),
    optInLabel,
    tierChoice,
    box('div', { class: 'field' }, el('label', 'CPU budget (executor workers)', { for: 'budget' }), box('div', { class: 'row' }, budget, budgetText)),
    box('div', { class: 'row' }, pause),
    note,
    nodeLine,
    el('p', 'Functions run in Web Workers, never on this page, so the page stays responsive. A hidden tab keeps computing within your budget; on battery below 20% the node pauses until the device charges. Switching off stops work at once: calls in flight end and the swarm retries them elsewhere.', { class: 'muted small' })
  )

  const f = {
    calls: figure('calls executed'),
    success: figure('succeeded / failed'),
    fuel: figure('fuel contributed'),
    cpu: figure('CPU time'),
    credits: figure('credits earned'),
    attestations: figure('attestations made (agree / disagree)'),
    peers: figure('peers: super · browsers · direct')
  }

  const figures = box('div', { class: 'figures' }, ...Object.values(f).map(x => x.card))
  const callsChart = barChart('Calls per 10 seconds, last 5 minutes', v => `${v.at(-1) ?? 0} in the last 10 s, ${v.reduce((a, b) => a + b, 0)} in 5 minutes`)
  const fuelChart = barChart('Fuel per 10 seconds, last 5 minutes', v => `${compact(v.reduce((a, b) => a + b, 0))} fuel in 5 minutes`)
  const charts = box('div', { class: 'charts' },
    box('figure', { class: 'panel' }, callsChart.element, el('figcaption', 'Calls per 10 s (failures in red), last 5 min')),
    box('figure', { class: 'panel' }, fuelChart.element, el('figcaption', 'Fuel per 10 s, last 5 min'))
  )
  const work = recentWork(client)
  const disk = diskOffer(client)
  panel.replaceChildren(controls, figures, charts, work.element, disk.element)
  paintControls()

  feed.on((state) => {
    if (!state.ok) return
    const { contribution: c, status } = state
    if (c.workers > 0 && !optIn.checked) { optIn.checked = true; choice = { ...choice, optedIn: true } }
    // another tab may have switched the tier: the node is the truth
    if ((c.tier === 'light' || c.tier === 'shadow') && c.tier !== choice.tier && c.workers > 0) {
      choice = { ...choice, tier: c.tier }
      for (const input of tierInputs) input.checked = input.value === c.tier
    }
    const sg = c.signing
    f.attestations.set(sg === null ? '—' : `${compact(sg.attestations)} (${compact(sg.agree)} / ${compact(sg.disagree)})`)
    const t = c.totals
    f.calls.set(compact(t.calls))
    f.success.set(`${compact(t.ok)} / ${compact(t.failed)}`)
    f.fuel.set(compact(t.fuel))
    f.cpu.set(duration(t.cpuMs))
    // µcredits (10⁶ per credit, docs/pricing.md); small sums stay readable
    f.credits.set(t.earned === 0 ? '0' : t.earned < 1_000_000 ? `${(t.earned / 1_000_000).toFixed(6).replace(/0+$/, '')}` : compact(t.earned / 1_000_000))
    const keys = new Set(status.peers.map(p => p.publicKey))
    const supers = [...keys].filter(k => isSuper(k, state.superKeys)).length
    const direct = new Set(status.peers.filter(p => p.transport === 'webrtc').map(p => p.publicKey)).size
    f.peers.set(`${supers} · ${keys.size - supers} · ${direct}`)
    nodeLine.textContent = `This node: ${status.tier} tier · key ${short(status.publicKey)}`
    nodeLine.title = status.publicKey
    const now = Date.now()
    callsChart.update(bucketise(state.history, now, BUCKETS, BUCKET_MS, x => x.ok ? 1 : 0), bucketise(state.history, now, BUCKETS, BUCKET_MS, x => x.ok ? 0 : 1))
    fuelChart.update(bucketise(state.history, now, BUCKETS, BUCKET_MS, x => x.fuel))
    const ledger = status.logs.find(l => l.name === LEDGER_LOG_NAME)
    work.update(ledger?.key ?? null, ledger?.length ?? 0)
    disk.update(status)
    panel.dataset['workers'] = String(c.workers)
    panel.dataset['tier'] = c.tier
    panel.dataset['attestations'] = String(sg?.attestations ?? 0)
    panel.dataset['calls'] = String(t.calls)
  })
}

import { box, el } from '../dom.ts'

/** The app's views; the URL hash names the one shown (`#network`), so it survives reloads. */
export const VIEWS = [
  { id: 'contribute', label: 'Contribute' },
  { id: 'playground', label: 'Playground' },
  { id: 'network', label: 'Network' },
  { id: 'functions', label: 'Functions' },
  { id: 'storage', label: 'Storage' }
] as const

export type ViewId = typeof VIEWS[number]['id']

export interface Shell {
  /** the status line (`#node-state`) */
  state: HTMLElement
  panels: Record<ViewId, HTMLElement>
  show (id: ViewId): void
}

/**
 * Header (title, node status line, offline notice) and a tab list over the views, with the
 * keyboard behaviour of the WAI-ARIA tabs pattern (arrows, Home, End).
 */
export function renderShell (root: HTMLElement): Shell {
  const state = el('p', 'starting node…', { id: 'node-state', role: 'status', 'aria-live': 'polite' })
  const offline = el('p', 'You are offline: the app shows what this browser holds; publishing, invoking and the swarm come back with the network.', { id: 'offline', class: 'notice', role: 'alert' })
  const updateOnline = (): void => { offline.hidden = navigator.onLine }
  addEventListener('online', updateOnline)
  addEventListener('offline', updateOnline)
  updateOnline()

  const tablist = box('nav', { class: 'tabs', role: 'tablist', 'aria-label': 'Views' })
  const tabs = new Map<ViewId, HTMLButtonElement>()
  const panels = {} as Record<ViewId, HTMLElement>
  for (const v of VIEWS) {
    const tab = el('button', v.label, { role: 'tab', id: `tab-${v.id}`, 'aria-controls': `view-${v.id}`, type: 'button' })
    tab.addEventListener('click', () => { location.hash = v.id })
    tabs.set(v.id, tab)
    tablist.append(tab)
    panels[v.id] = el('section', undefined, { id: `view-${v.id}`, role: 'tabpanel', 'aria-labelledby': `tab-${v.id}`, tabindex: '0' })
  }
  tablist.addEventListener('keydown', (ev) => {
    const ids = VIEWS.map(v => v.id)
    const at = ids.indexOf(current)
    const next = ev.key === 'ArrowRight' ? ids[(at + 1) % ids.length] : ev.key === 'ArrowLeft' ? ids[(at + ids.length - 1) % ids.length] : ev.key === 'Home' ? ids[0] : ev.key === 'End' ? ids[ids.length - 1] : undefined
    if (next === undefined) return
    ev.preventDefault()
    location.hash = next
    tabs.get(next)?.focus()
  })

  const header = box('header', { class: 'app-header' }, el('h1', 'shadw'), state)
  root.replaceChildren(header, offline, tablist, ...Object.values(panels))

  let current: ViewId = 'contribute'
  const show = (id: ViewId): void => {
    current = id
    for (const v of VIEWS) {
      const selected = v.id === id
      const tab = tabs.get(v.id)
      tab?.setAttribute('aria-selected', String(selected))
      tab?.setAttribute('tabindex', selected ? '0' : '-1')
      panels[v.id].hidden = !selected
    }
  }
  const fromHash = (): ViewId => VIEWS.find(v => `#${v.id}` === location.hash)?.id ?? 'contribute'
  addEventListener('hashchange', () => { show(fromHash()) })
  show(fromHash())
  return { state, panels, show }
}

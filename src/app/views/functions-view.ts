import type { CatalogueEntry, CatalogueFunction, CataloguePage } from '../../core/catalogue/index.ts'
import { box, el, short } from '../dom.ts'

/** Results per page: a screenful of cards. */
const PAGE_SIZE = 20
/** Typing waits this long before searching, so a word is one request, not one per letter. */
const SEARCH_DEBOUNCE_MS = 250
/** The super node's catalogue answers within this or the view says it did not. */
const FETCH_TIMEOUT_MS = 15_000

async function getJson<T> (path: string): Promise<T> {
  const res = await fetch(path, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) })
  const body = await res.json() as unknown
  if (!res.ok) {
    const e = body as { code?: string, message?: string }
    throw Object.assign(new Error(e.message ?? `HTTP ${res.status}`), { code: e.code })
  }
  return body as T
}

function price (e: CatalogueEntry): string {
  return e.price.base === 0 ? "executor's price" : `from ${e.price.base} µcredits / M fuel`
}

function access (e: CatalogueEntry): string {
  const a = e.access
  return a.public ? 'public' : `gated: ${a.conditions} condition(s)${a.chains.length > 0 ? ` on ${a.chains.join(', ')}` : ''}`
}

/**
 * The catalogue of the swarm's functions as the super node that served this page knows them
 * (`/api/functions`): search, open one (manifest, conditions, price, examples, README), and
 * try it in one click through the playground's invoke form (`ontry`).
 */
export function renderFunctionsView (panel: HTMLElement, ontry: (ref: string, input: string) => void): void {
  const search = el('input', undefined, { type: 'search', id: 'fn-search', placeholder: 'name, words of a description, or a publisher key', autocomplete: 'off', spellcheck: 'false', 'aria-label': 'Search functions' })
  const status = el('p', 'Loading the catalogue…', { id: 'fn-status', class: 'muted', 'aria-live': 'polite' })
  const list = el('ul', undefined, { id: 'fn-list', class: 'fn-list' })
  const more = el('button', 'More', { type: 'button', id: 'fn-more' })
  more.hidden = true
  const detail = el('div', undefined, { id: 'fn-detail', class: 'panel', 'aria-live': 'polite' })
  detail.hidden = true
  const form = box('form', { class: 'panel', role: 'search' }, el('h2', 'Functions on the swarm'), search, status, list, more)
  panel.replaceChildren(box('div', { class: 'columns' }, form, detail))

  let query = ''
  let cursor: string | null = null
  let generation = 0
  const load = async (append: boolean): Promise<void> => {
    const mine = ++generation
    const params = new URLSearchParams({ q: query, limit: String(PAGE_SIZE) })
    if (append && cursor !== null) params.set('cursor', cursor)
    try {
      const page = await getJson<CataloguePage>(`/api/functions?${params.toString()}`)
      // a slower answer to an older query must not replace a newer one
      if (mine !== generation) return
      if (!append) list.replaceChildren()
      for (const e of page.functions) list.append(card(e))
      cursor = page.next
      more.hidden = cursor === null
      const shown = list.children.length
      status.className = 'muted'
      status.textContent = shown === 0 ? (query === '' ? 'No functions known to this node yet: publish one in the Playground.' : `No function matches “${query}”.`) : `${shown}${cursor === null ? '' : '+'} function${shown === 1 ? '' : 's'}`
    } catch (err) {
      if (mine !== generation) return
      status.className = 'error'
      status.textContent = `The catalogue did not answer: ${(err as Error).message}`
    }
  }

  const card = (e: CatalogueEntry): HTMLElement => {
    const open = el('button', `${e.name}@${e.version}`, { type: 'button', class: 'linkish', 'data-ref': e.ref })
    open.addEventListener('click', () => { show(e.ref).catch(() => {}) })
    return box('li', { class: 'fn-card' },
      open,
      el('p', e.description ?? '(no description)', { class: 'wrap' }),
      el('p', `${short(e.publisher)} · ${e.abi} · ${price(e)} · ${access(e)} · ${e.holders} executor${e.holders === 1 ? '' : 's'}`, { class: 'muted small', title: e.publisher }))
  }

  const show = async (ref: string): Promise<void> => {
    detail.hidden = false
    detail.replaceChildren(el('p', 'Loading…', { class: 'muted' }))
    let fn: CatalogueFunction
    try {
      fn = await getJson<CatalogueFunction>(`/api/function?${new URLSearchParams({ ref }).toString()}`)
    } catch (err) {
      detail.replaceChildren(el('p', (err as Error).message, { class: 'error' }))
      return
    }
    const { entry: e, manifest: m } = fn
    const l = m.limits
    const example = m.examples?.[0]
    const tryButton = el('button', example === undefined ? 'Try it (empty input)' : 'Try it with the example', { type: 'button', id: 'fn-try' })
    tryButton.addEventListener('click', () => { ontry(e.ref, example?.input ?? '') })
    detail.replaceChildren(
      el('h2', `${m.name}@${m.version}`, { id: 'fn-title' }),
      el('p', m.description ?? '(no description)', { class: 'wrap' }),
      el('code', e.ref, { id: 'fn-ref', class: 'wrap small' }),
      box('dl', {},
        el('dt', 'publisher'), el('dd', m.publisher, { class: 'wrap small' }),
        el('dt', 'abi'), el('dd', `${m.abi} · ${m.size} bytes`),
        el('dt', 'price'), el('dd', price(e), { id: 'fn-price' }),
        el('dt', 'access'), el('dd', access(e), { id: 'fn-access' }),
        el('dt', 'limits'), el('dd', `fuel ${l.fuel}, memory ${l.memoryPages} pages, deadline ${l.deadlineMs} ms`),
        el('dt', 'executors'), el('dd', String(e.holders)),
        el('dt', 'versions'), el('dd', fn.versions.map(v => v.yanked ? `${v.version} (yanked)` : v.version).join(', '))),
      ...(m.access.length === 0 ? [] : [el('h3', 'Access conditions'), el('pre', JSON.stringify(m.access, null, 2), { id: 'fn-conditions', class: 'wrap small' })]),
      ...(m.examples === undefined
        ? []
        : [el('h3', 'Examples'), box('dl', { id: 'fn-examples' }, ...m.examples.flatMap(x => [el('dt', 'input'), el('dd', x.input, { class: 'wrap' }), el('dt', 'output'), el('dd', x.output, { class: 'wrap' })]))]),
      box('div', { class: 'row' }, tryButton),
      // shown as text, never as HTML: a README comes from a publisher, not from us
      ...(m.readme === undefined ? [] : [el('h3', 'README'), el('pre', m.readme, { id: 'fn-readme', class: 'wrap small' })])
    )
  }

  let timer: ReturnType<typeof setTimeout> | undefined
  search.addEventListener('input', () => {
    clearTimeout(timer)
    timer = setTimeout(() => { query = search.value.trim(); load(false).catch(() => {}) }, SEARCH_DEBOUNCE_MS)
  })
  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    clearTimeout(timer)
    query = search.value.trim()
    load(false).catch(() => {})
  })
  more.addEventListener('click', () => { load(true).catch(() => {}) })
  // the list is fetched again each time the view is opened: the node learns functions meanwhile
  addEventListener('hashchange', () => { if (location.hash === '#functions') load(false).catch(() => {}) })
  load(false).catch(() => {})
}

/** Small DOM helpers shared by the views: no framework, so each view builds its own nodes. */

/** Creates an element with optional text and attributes. */
export function el<K extends keyof HTMLElementTagNameMap> (tag: K, text?: string, attrs: Record<string, string> = {}): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag)
  if (text !== undefined) node.textContent = text
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v)
  return node
}

/** Creates an element with children. */
export function box<K extends keyof HTMLElementTagNameMap> (tag: K, attrs: Record<string, string>, ...children: Array<Node | string>): HTMLElementTagNameMap[K] {
  const node = el(tag, undefined, attrs)
  node.append(...children)
  return node
}

/** A labelled form field: the label's `for` names the control, so screen readers read both. */
export function field (label: string, control: HTMLElement, hint?: string): HTMLDivElement {
  const id = control.id !== '' ? control.id : `f-${Math.random().toString(36).slice(2, 9)}`
  control.id = id
  const wrap = box('div', { class: 'field' }, el('label', label, { for: id }), control)
  if (hint !== undefined) {
    const h = el('small', hint, { id: `${id}-hint` })
    control.setAttribute('aria-describedby', h.id)
    wrap.append(h)
  }
  return wrap
}

/** `abcdef12…345678` for long hex keys; the full value goes in a title. */
export function short (hex: string): string {
  return hex.length > 16 ? `${hex.slice(0, 8)}…${hex.slice(-6)}` : hex
}

/** Compact number: 1234567 → "1.23 M". */
export function compact (n: number): string {
  if (n < 1_000) return String(Math.round(n))
  const units = [['k', 1e3], ['M', 1e6], ['G', 1e9], ['T', 1e12]] as const
  let out = String(n)
  for (const [u, v] of units) if (n >= v) out = `${(n / v).toPrecision(3)} ${u}`
  return out
}

/** Milliseconds as "850 ms" / "12.4 s" / "3 min". */
export function duration (ms: number): string {
  if (ms === 0) return '0 ms'
  if (ms < 10) return `${ms.toFixed(1)} ms`
  if (ms < 1_000) return `${Math.round(ms)} ms`
  if (ms < 120_000) return `${(ms / 1_000).toFixed(1)} s`
  return `${Math.round(ms / 60_000)} min`
}

export function toHex (bytes: Uint8Array): string {
  return Array.from(bytes, b => b.toString(16).padStart(2, '0')).join('')
}

/** A figure card: big number, label under it. Returns the card and its value setter. */
export function figure (label: string): { card: HTMLElement, set (value: string): void } {
  const value = el('span', '—', { class: 'figure-value' })
  const card = box('div', { class: 'figure' }, value, el('span', label, { class: 'figure-label' }))
  return { card, set: (v) => { if (value.textContent !== v) value.textContent = v } }
}

import { box, el, field, short, toHex } from '../dom.ts'
import type { NodeClient } from '../node-client.ts'
import { checkReceipt, receiptCard } from './receipt-card.ts'
import { snippets } from './snippets.ts'
import { hasWallet, signCall, testTenant, type AuthMode } from './tenant-auth.ts'

/** A playground call may take this long (the node's own cap is 60 s). */
const INVOKE_DEADLINE_MS = 30_000
/** Output shown as text when it decodes as UTF-8 without replacement characters. */
const decoder = new TextDecoder('utf-8', { fatal: true })

type InputMode = 'text' | 'hex' | 'file'

/** Invokes a function on the swarm through this origin's node and shows what came back. */
export function invokeForm (client: NodeClient): { element: HTMLElement, setRef (ref: string): void, tryCall (ref: string, input: string): void } {
  const ref = el('input', undefined, { id: 'inv-ref', required: '', placeholder: '<publisher>/<name>@<range>', autocomplete: 'off', spellcheck: 'false' })
  const modes = box('fieldset', { class: 'modes' }, el('legend', 'Input as'))
  let mode: InputMode = 'text'
  const radios = new Map<InputMode, HTMLInputElement>()
  for (const m of ['text', 'hex', 'file'] as const) {
    const radio = el('input', undefined, { type: 'radio', name: 'inv-mode', value: m, id: `inv-mode-${m}` })
    radios.set(m, radio)
    radio.checked = m === 'text'
    radio.addEventListener('change', () => { mode = m; paintMode() })
    modes.append(box('label', { for: `inv-mode-${m}`, class: 'radio' }, radio, ` ${m}`))
  }
  const text = el('textarea', undefined, { id: 'inv-input', rows: '3', placeholder: 'hello swarm' })
  const file = el('input', undefined, { type: 'file', id: 'inv-file' })
  const textField = field('Input', text)
  const fileField = field('Input file', file)
  const paintMode = (): void => {
    textField.hidden = mode === 'file'
    fileField.hidden = mode !== 'file'
    text.placeholder = mode === 'hex' ? '68656c6c6f' : 'hello swarm'
  }
  paintMode()
  const redundancy = el('select', undefined, { id: 'inv-redundancy' })
  for (const k of ['1', '2', '3']) redundancy.append(el('option', k === '1' ? '1 executor' : `${k} executors (quorum)`, { value: k }))
  const auth = el('select', undefined, { id: 'inv-auth' })
  auth.append(el('option', 'no signature (public functions)', { value: 'none' }), el('option', 'test key (this browser)', { value: 'test-key' }))
  if (hasWallet()) auth.append(el('option', 'my wallet', { value: 'wallet' }))
  const tenantLine = el('p', '', { class: 'muted small wrap', id: 'inv-tenant', 'aria-live': 'polite' })
  auth.addEventListener('change', () => {
    if (auth.value !== 'test-key') { tenantLine.textContent = ''; return }
    testTenant().then(t => { tenantLine.textContent = `Test tenant address: ${t.address} (put it on a wallet allow-list to call gated functions)`; tenantLine.dataset['address'] = t.address }, (err: Error) => { tenantLine.textContent = err.message })
  })
  const submit = el('button', 'Invoke', { type: 'submit', id: 'inv-submit' })
  const progress = el('progress', undefined, { 'aria-label': 'Invoking' })
  progress.hidden = true
  const result = el('div', undefined, { id: 'inv-result', 'aria-live': 'polite' })
  const snippetBox = el('div', undefined, { id: 'inv-snippets' })

  const form = box('form', { class: 'panel', id: 'invoke-form', 'aria-labelledby': 'invoke-title' },
    el('h2', 'Invoke', { id: 'invoke-title' }),
    field('Function', ref, 'A published reference, e.g. the one above; ranges like @^1 pick the highest match.'),
    modes, textField, fileField,
    box('div', { class: 'grid-2' }, field('Run on', redundancy), field('Sign the call as', auth, 'Gated functions need a SIWE signature.')),
    tenantLine,
    box('div', { class: 'row' }, submit, progress),
    result, snippetBox)

  const readInput = async (): Promise<Uint8Array> => {
    if (mode === 'file') {
      const f = file.files?.[0]
      if (f === undefined) throw new Error('choose an input file')
      return new Uint8Array(await f.arrayBuffer())
    }
    if (mode === 'text') return new TextEncoder().encode(text.value)
    const hex = text.value.replace(/\s+/g, '')
    if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new Error('hex input must be pairs of hex digits')
    return Uint8Array.from(hex.match(/../g) ?? [], h => parseInt(h, 16))
  }

  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    run().catch(() => {})
  })
  const run = async (): Promise<void> => {
    result.className = ''
    let input: Uint8Array
    try {
      input = await readInput()
    } catch (err) {
      result.className = 'error'; result.textContent = (err as Error).message; return
    }
    submit.disabled = true
    progress.hidden = false
    result.textContent = 'Finding an executor and running…'
    let started = performance.now()
    try {
      const k = Number(redundancy.value)
      const signed = await signCall(client, auth.value as AuthMode, ref.value.trim())
      started = performance.now()
      const answer = await client.call('invoke', { ref: ref.value.trim(), input, deadline: INVOKE_DEADLINE_MS, ...(k > 1 ? { redundancy: k } : {}), ...(signed === undefined ? {} : { auth: signed }) }, INVOKE_DEADLINE_MS + 5_000)
      const latency = performance.now() - started
      let asText: string | null = null
      try { asText = decoder.decode(answer.output) } catch {}
      const executors = answer.receipts.map(r => short(r.executor)).join(', ')
      const fuel = answer.receipts[0]?.fuel ?? 0
      result.className = 'ok'
      result.replaceChildren(
        box('dl', { class: 'answer' },
          el('dt', 'output'), el('dd', asText ?? `(binary) ${toHex(answer.output.slice(0, 256))}`, { id: 'inv-output', class: 'wrap' }),
          el('dt', 'output bytes'), el('dd', String(answer.output.byteLength)),
          el('dt', 'fuel'), el('dd', String(fuel), { id: 'inv-fuel' }),
          el('dt', 'latency'), el('dd', `${Math.round(latency)} ms (${answer.attempts} attempt${answer.attempts === 1 ? '' : 's'})`, { id: 'inv-latency' }),
          el('dt', 'ran on'), el('dd', executors, { id: 'inv-executor' })),
        box('div', { class: 'receipts' }, ...answer.receipts.map((r, i) => receiptCard(r, checkReceipt(r, input, answer.output), `Receipt ${i + 1} of ${answer.receipts.length}`)))
      )
    } catch (err) {
      const e = err as Error & { code?: string }
      result.className = 'error'
      result.textContent = e.message
      if (e.code !== undefined) result.dataset['code'] = e.code
    } finally {
      submit.disabled = false
      progress.hidden = true
    }
  }
  const setRef = (r: string): void => {
    ref.value = r
    snippetBox.replaceChildren(el('h3', 'Call it from your page'), snippets(r))
  }
  ref.addEventListener('change', () => { if (ref.value.trim() !== '') setRef(ref.value.trim()) })
  // one click from a catalogue: the same call as a filled-in form, with its result and receipts here
  const tryCall = (r: string, input: string): void => {
    mode = 'text'
    const radio = radios.get('text')
    if (radio !== undefined) radio.checked = true
    paintMode()
    setRef(r)
    text.value = input
    run().catch(() => {})
  }
  return { element: form, setRef, tryCall }
}

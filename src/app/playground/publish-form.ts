import { box, el, field } from '../dom.ts'
import type { NodeClient } from '../node-client.ts'
import { ACCESS_TEMPLATES } from './access-templates.ts'

/** Publishing writes the module into the registry: bounded, but a big module takes a while. */
const PUBLISH_TIMEOUT_MS = 60_000
/** The node worker's cap (`MAX_PUBLISH_BYTES` in src/browser/publisher-host.ts). */
const MAX_MODULE_BYTES = 8 * 1024 * 1024

/**
 * Publishes a .wasm (picked or dropped) into this browser's own registry: the node worker
 * signs the manifest with the browser's publisher key, which never leaves its storage.
 */
export function publishForm (client: NodeClient, onPublished: (ref: string) => void): HTMLElement {
  let module: { name: string, bytes: Uint8Array } | null = null

  const file = el('input', undefined, { type: 'file', accept: '.wasm,application/wasm', id: 'pub-file' })
  const drop = box('div', { class: 'dropzone', id: 'pub-drop' }, el('span', 'Drop a .wasm here, or '), box('label', { class: 'file-button', for: 'pub-file' }, 'choose a file'), file)
  const chosen = el('p', 'No module chosen.', { class: 'muted', id: 'pub-chosen', 'aria-live': 'polite' })
  const name = el('input', undefined, { id: 'pub-name', required: '', pattern: '[a-z0-9][a-z0-9-]{0,63}', placeholder: 'echo', autocomplete: 'off' })
  const version = el('input', undefined, { id: 'pub-version', required: '', placeholder: '1.0.0', value: '1.0.0', autocomplete: 'off' })
  const description = el('input', undefined, { id: 'pub-description', maxlength: '280', placeholder: 'What it does, in one line', autocomplete: 'off' })
  const abi = el('select', undefined, { id: 'pub-abi' })
  for (const [v, t] of [['', 'detect (WASI if it exports _start)'], ['raw', 'raw: bytes in, bytes out'], ['wasi', 'WASI: stdin to stdout']]) abi.append(el('option', t, { value: v as string }))
  const fuel = el('input', undefined, { id: 'pub-fuel', type: 'number', min: '1', placeholder: '1000000000', inputmode: 'numeric' })
  const memory = el('input', undefined, { id: 'pub-memory', type: 'number', min: '1', max: '65536', placeholder: '256', inputmode: 'numeric' })
  const deadline = el('input', undefined, { id: 'pub-deadline', type: 'number', min: '1', placeholder: '5000', inputmode: 'numeric' })

  const template = el('select', undefined, { id: 'pub-access' })
  for (const t of ACCESS_TEMPLATES) template.append(el('option', t.label, { value: t.id }))
  const templateInputs = box('div', { class: 'template-inputs' })
  const inputs = new Map<string, HTMLInputElement>()
  const paintTemplate = (): void => {
    const t = ACCESS_TEMPLATES.find(x => x.id === template.value) ?? ACCESS_TEMPLATES[0]!
    inputs.clear()
    templateInputs.replaceChildren(...t.inputs.map(i => {
      const input = el('input', undefined, { id: `pub-access-${i.id}`, placeholder: i.placeholder, autocomplete: 'off', ...(i.id === 'from' || i.id === 'until' ? { type: 'datetime-local' } : {}) })
      inputs.set(i.id, input)
      return field(i.label, input, i.hint)
    }))
  }
  template.addEventListener('change', paintTemplate)
  paintTemplate()
  // this app's own host by default: the tenant's page signs for it, whichever executor runs the call
  const authDomains = el('input', undefined, { id: 'pub-auth-domains', value: location.host, placeholder: 'app.example, localhost:5173', autocomplete: 'off', spellcheck: 'false' })

  const submit = el('button', 'Publish', { type: 'submit', id: 'pub-submit' })
  const progress = el('progress', undefined, { id: 'pub-progress', 'aria-label': 'Publishing' })
  progress.hidden = true
  const result = el('div', undefined, { id: 'pub-result', role: 'status', 'aria-live': 'polite' })

  const take = async (f: File): Promise<void> => {
    if (f.size > MAX_MODULE_BYTES) { chosen.textContent = `${f.name} is ${f.size} bytes: modules are at most ${MAX_MODULE_BYTES}.`; module = null; return }
    module = { name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) }
    chosen.textContent = `${f.name} · ${module.bytes.byteLength} bytes`
    if (name.value === '') name.value = f.name.replace(/\.wasm$/, '').toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 64)
  }
  file.addEventListener('change', () => { const f = file.files?.[0]; if (f !== undefined) take(f).catch(() => {}) })
  drop.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('over') })
  drop.addEventListener('dragleave', () => { drop.classList.remove('over') })
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault()
    drop.classList.remove('over')
    const f = ev.dataTransfer?.files[0]
    if (f !== undefined) take(f).catch(() => {})
  })

  const form = box('form', { class: 'panel', id: 'publish-form', 'aria-labelledby': 'publish-title' },
    el('h2', 'Publish a function', { id: 'publish-title' }),
    drop, chosen,
    box('div', { class: 'grid-2' }, field('Name', name, 'Lower case letters, digits and dashes.'), field('Version (semver)', version)),
    field('Description', description, 'Shown in the Functions view of every super node that learns of it.'),
    field('ABI', abi),
    box('fieldset', {}, el('legend', 'Limits (empty: sandbox defaults)'), box('div', { class: 'grid-3' }, field('Fuel', fuel), field('Memory (64 KiB pages)', memory), field('Deadline (ms)', deadline))),
    box('fieldset', {}, el('legend', 'Who may call it'), field('Access conditions', template), templateInputs,
      field('Apps tenants sign in on', authDomains, 'host[:port] of each app whose sign-in (SIWE) every executor accepts for a gated function, separated by commas or spaces; empty: each executor accepts only its own.')),
    box('div', { class: 'row' }, submit, progress),
    result
  )

  form.addEventListener('submit', (ev) => {
    ev.preventDefault()
    run().catch(() => {})
  })

  const run = async (): Promise<void> => {
    result.className = ''
    if (module === null) { fail('Choose a .wasm module first.'); return }
    let access: unknown[]
    try {
      const t = ACCESS_TEMPLATES.find(x => x.id === template.value) ?? ACCESS_TEMPLATES[0]!
      access = t.build(Object.fromEntries([...inputs].map(([k, v]) => [k, v.value])))
    } catch (err) {
      fail(`Access conditions: ${(err as Error).message}`)
      return
    }
    // only gated functions carry a list: a public one checks no sign-in
    const domains = access.length === 0 ? [] : authDomains.value.split(/[\s,]+/).filter(d => d !== '')
    const limits: Record<string, number> = {}
    for (const [k, input] of [['fuel', fuel], ['memoryPages', memory], ['deadlineMs', deadline]] as const) if (input.value !== '') limits[k] = Number(input.value)
    submit.disabled = true
    progress.hidden = false
    result.textContent = `Publishing ${name.value}@${version.value}: checking the module, storing its bytes, signing the manifest…`
    try {
      const { ref, signed } = await client.call('publish', {
        module: module.bytes,
        name: name.value,
        version: version.value,
        ...(abi.value === '' ? {} : { abi: abi.value as 'raw' | 'wasi' }),
        ...(Object.keys(limits).length === 0 ? {} : { limits }),
        access,
        ...(domains.length === 0 ? {} : { authDomains: domains }),
        ...(description.value.trim() === '' ? {} : { description: description.value.trim() })
      }, PUBLISH_TIMEOUT_MS)
      const m = signed.manifest
      result.className = 'ok'
      result.replaceChildren(
        el('p', `Published ${m.name}@${m.version} (${m.abi} ABI, ${m.access.length === 0 ? 'public' : 'gated'}).`),
        box('p', {}, 'Reference: ', el('code', ref, { id: 'pub-ref', class: 'wrap' })),
        ...(m.access.length === 0 ? [] : [el('p', `Sign-in accepted for: ${m.authDomains === undefined ? 'each executor\'s own domain' : m.authDomains.join(', ')}`, { id: 'pub-auth-for', class: 'muted small' })]),
        el('p', `Module SHA-256 ${m.moduleHash.slice(0, 16)}… · fuel ≤ ${m.limits.fuel} · memory ≤ ${m.limits.memoryPages} pages · deadline ${m.limits.deadlineMs} ms`, { class: 'muted small' })
      )
      onPublished(ref)
    } catch (err) {
      fail((err as Error).message)
    } finally {
      submit.disabled = false
      progress.hidden = true
    }
  }
  const fail = (msg: string): void => { result.className = 'error'; result.textContent = msg }
  return form
}

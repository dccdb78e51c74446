import { box, el } from '../dom.ts'

/** The two ways a tenant's page calls a function, filled in with the ref, each with a copy button. */
export function snippets (ref: string): HTMLElement {
  const [publisher, rest = ''] = ref.split(/\/(.*)/s)
  const name = rest.split('@')[0] ?? rest
  const sdk = `import { connect } from 'shadw/client'

const shadw = connect({ url: '${location.origin}' })
// gated functions also pass { auth: await signAuth(tenantSigner(), { domain: location.host, fn }) }
const { output, receipts } = await shadw.invoke('${ref}', new TextEncoder().encode('hello'))
console.log(new TextDecoder().decode(output), receipts)`
  const fetchCode = `const res = await fetch('${location.origin}/fn/${publisher ?? ''}/${name}', { method: 'POST', body: 'hello' })
console.log(await res.text(), JSON.parse(res.headers.get('shadw-receipts') ?? '[]'))`
  return box('div', { class: 'snippets' }, block('SDK', sdk, 'snippet-sdk'), block('fetch', fetchCode, 'snippet-fetch'))
}

function block (title: string, code: string, id: string): HTMLElement {
  const copy = el('button', `Copy ${title} snippet`, { type: 'button', class: 'secondary small' })
  const status = el('span', '', { class: 'muted small', 'aria-live': 'polite' })
  copy.addEventListener('click', () => {
    navigator.clipboard.writeText(code).then(() => { status.textContent = 'copied' }, () => { status.textContent = 'copy blocked: select the text instead' })
  })
  return box('div', { class: 'snippet' }, box('div', { class: 'row' }, el('h4', title), copy, status), box('pre', { tabindex: '0' }, el('code', code, { id })))
}

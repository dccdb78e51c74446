import { box, el } from '../dom.ts'
import type { NodeClient } from '../node-client.ts'
import { invokeForm } from '../playground/invoke-form.ts'
import { publishForm } from '../playground/publish-form.ts'

/**
 * The tenant playground: publish a module from this browser, invoke it, check its receipts.
 * `tryCall` fills the invoke form with a function and a text input and runs it.
 */
export function renderPlaygroundView (panel: HTMLElement, client: NodeClient): { tryCall (ref: string, input: string): void } {
  const invoke = invokeForm(client)
  const publisher = el('p', 'Your publisher key appears after your first publish.', { class: 'muted small wrap', id: 'publisher-key' })
  const publish = publishForm(client, (ref) => {
    invoke.setRef(ref)
    publisher.textContent = `Your publisher key (kept in this browser's storage, never sent anywhere): ${ref.split('/')[0] ?? ''}`
  })
  panel.replaceChildren(box('div', { class: 'columns' }, box('div', {}, publish, publisher), invoke.element))
  return { tryCall: invoke.tryCall }
}

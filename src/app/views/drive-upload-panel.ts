/**
 * The Storage view's upload panel: files or a whole folder (picked, or dropped on the zone)
 * stream into the chosen drive of this browser, with a progress bar in bytes over all of
 * them and a cancel button. See src/app/drive-upload.ts for how bytes move.
 */
import { drivePath } from '../../core/drive/index.ts'
import { itemsOfDrop, itemsOfInput, uploadItems, type UploadItem } from '../drive-upload.ts'
import { box, el, field } from '../dom.ts'
import type { NodeClient } from '../node-client.ts'
import { size } from './drive-browser.ts'
import { showError, showStatus } from './drive-errors.ts'

/** Builds the panel; `select(key)` points it at a drive (null: none chosen); `onUploaded` gets the new version. */
export function uploadPanel (client: NodeClient, onUploaded: (key: string, version: number) => void): { element: HTMLElement, select (key: string | null): void } {
  const files = el('input', undefined, { type: 'file', multiple: '', id: 'upload-files' })
  const folder = el('input', undefined, { type: 'file', id: 'upload-folder', webkitdirectory: '' })
  const drop = box('div', { class: 'dropzone', id: 'upload-drop' },
    el('span', 'Drop files or folders here, or '),
    box('label', { class: 'file-button', for: 'upload-files' }, 'choose files'), files,
    el('span', ' or '),
    box('label', { class: 'file-button', for: 'upload-folder' }, 'a folder'), folder)
  const to = el('input', undefined, { id: 'upload-to', type: 'text', value: '/', spellcheck: 'false', autocomplete: 'off' })
  const progress = el('progress', undefined, { id: 'upload-progress', max: '1', value: '0', 'aria-label': 'Bytes uploaded' })
  const cancel = el('button', 'Cancel', { type: 'button', id: 'upload-cancel', class: 'secondary' })
  const state = el('p', 'Choose one of your drives first.', { id: 'upload-state', class: 'muted wrap', 'aria-live': 'polite' })
  progress.hidden = true
  cancel.hidden = true
  const element = box('section', { class: 'panel', id: 'upload-panel', 'aria-labelledby': 'upload-title' },
    el('h2', 'Upload', { id: 'upload-title' }),
    drop,
    field('Into folder', to, 'Folders keep their structure under this one.'),
    box('div', { class: 'row' }, progress, cancel),
    state)

  let key: string | null = null
  let running: AbortController | null = null

  const run = async (items: UploadItem[]): Promise<void> => {
    if (key === null) { showStatus(state, 'Choose one of your drives first.'); return }
    if (running !== null) { showStatus(state, 'An upload is running: wait for it or cancel it.'); return }
    if (items.length === 0) { showStatus(state, 'Nothing to upload (an empty folder?).'); return }
    let dir: string
    try {
      dir = drivePath(to.value.trim() === '' ? '/' : to.value.trim(), { dir: true })
    } catch (err) {
      showError(state, err)
      return
    }
    const drive = key
    running = new AbortController()
    progress.hidden = false
    cancel.hidden = false
    progress.value = 0
    try {
      const r = await uploadItems(client, drive, dir, items, p => {
        progress.max = Math.max(1, p.total)
        progress.value = p.done
        showStatus(state, `${p.files < p.of ? `${p.files + 1} of ${p.of}: ${p.file} · ` : ''}${size(p.done)} of ${size(p.total)}`)
      }, running.signal)
      showStatus(state, `Uploaded ${r.files} file${r.files === 1 ? '' : 's'} (${size(r.bytes)}): the drive is at version ${r.version}.`)
      state.dataset['version'] = String(r.version)
      onUploaded(drive, r.version)
    } catch (err) {
      showError(state, err)
    } finally {
      running = null
      cancel.hidden = true
      files.value = ''
      folder.value = ''
    }
  }

  files.addEventListener('change', () => { void run(itemsOfInput(files.files ?? [])) })
  folder.addEventListener('change', () => { void run(itemsOfInput(folder.files ?? [])) })
  cancel.addEventListener('click', () => { running?.abort() })
  drop.addEventListener('dragover', ev => { ev.preventDefault(); drop.classList.add('over') })
  drop.addEventListener('dragleave', () => { drop.classList.remove('over') })
  drop.addEventListener('drop', ev => {
    ev.preventDefault()
    drop.classList.remove('over')
    if (ev.dataTransfer === null) return
    itemsOfDrop(ev.dataTransfer).then(async items => { await run(items) }, err => { showError(state, err) })
  })

  const select = (k: string | null): void => {
    key = k
    files.disabled = k === null
    folder.disabled = k === null
    if (running === null) showStatus(state, k === null ? 'Choose one of your drives first.' : 'Ready: files go into the drive chosen above.')
  }
  select(null)
  return { element, select }
}

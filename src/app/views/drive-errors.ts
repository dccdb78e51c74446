/** How the Storage view's panels show a failure: the typed code, and the node's words for it. */
import { ShadwError } from '../../core/errors.ts'

/** Plain words for the codes a drive action meets most; the node's message follows. */
const HINTS: Partial<Record<string, string>> = {
  NOT_ENOUGH_HOLDERS: 'Not enough holders with room answered: ask for fewer replicas, or wait for more holders to join.',
  DRIVE_NOT_FOUND: 'Nothing at that path or version, or no peer sent it in time.',
  DRIVE_LOCKED: 'The drive is encrypted and this browser does not have its key.',
  DRIVE_PATH_INVALID: 'A file or folder name is not a valid drive path.',
  INVALID_DRIVE_REF: 'That is not a drive key (64 hex characters).',
  TIMEOUT: 'The node did not answer in time.',
  BUSY: 'Too many uploads at once: wait for one to finish.',
  ABORTED: 'Cancelled.'
}

/** Writes `err` into `out` as an alert, its code in `data-code` (tests and styles read it). */
export function showError (out: HTMLElement, err: unknown): void {
  const code = err instanceof ShadwError ? err.code : typeof (err as { code?: unknown })?.code === 'string' ? (err as { code: string }).code : 'INTERNAL'
  const message = err instanceof Error ? err.message : String(err)
  const hint = HINTS[code]
  out.textContent = hint === undefined ? message : `${hint} (${message})`
  out.dataset['code'] = code
  out.classList.remove('muted')
  out.classList.add('error')
  out.setAttribute('role', 'alert')
}

/** Writes a plain status into `out`, clearing any error. */
export function showStatus (out: HTMLElement, text: string): void {
  out.textContent = text
  delete out.dataset['code']
  out.classList.remove('error')
  out.classList.add('muted')
  out.setAttribute('role', 'status')
}

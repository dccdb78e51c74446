import { ShadwError } from '../core/errors.ts'

/**
 * Maps a file-system failure under the node's storage directory to a typed error, so an
 * operator reads "disk full" or "another shadw uses this directory", not an errno.
 */
export function storageError (path: string, err: unknown): ShadwError {
  if (err instanceof ShadwError) return err
  const code = (err as { code?: unknown }).code
  const message = err instanceof Error ? err.message : String(err)
  if (code === 'ENOSPC' || code === 'EDQUOT') return ShadwError.STORAGE_FULL(path, err)
  // random-access-file reports a held lock as ELOCKED (or a plain "File is locked" message)
  if (code === 'ELOCKED' || code === 'EAGAIN' || /locked/i.test(message)) return ShadwError.STORAGE_LOCKED(path, err)
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS' || code === 'ENOTDIR') return ShadwError.STORAGE_UNAVAILABLE(`cannot use ${path}: ${message}`, err)
  return ShadwError.STORAGE_CORRUPT(path, err)
}

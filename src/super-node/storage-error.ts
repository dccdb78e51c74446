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

/**
 * Maps a failed append to a log this node writes: a file-system failure as {@link
 * storageError} does, so the operator reads "disk full"; Hypercore's and shadw's own errors
 * (a closed session, a bad argument) as they are, not as a corrupt disk.
 */
export function logWriteError (log: string, err: unknown): unknown {
  if (err instanceof ShadwError) return err
  const code = (err as { code?: unknown } | null)?.code
  if (typeof code === 'string' && ERRNO.test(code)) return storageError(log, err)
  if (code !== 'WRITE_FAILED') return err
  // Hypercore 10 reports a failed storage write as WRITE_FAILED and keeps only the fs
  // error's message ("ENOSPC: no space left on device"): its errno is read back from there
  const message = err instanceof Error ? err.message : String(err)
  const errno = /\b(E[A-Z]{2,}):/.exec(message)?.[1]
  if (errno === undefined) return ShadwError.STORAGE_UNAVAILABLE(`cannot write ${log}: ${message}`, err)
  return storageError(log, Object.assign(new Error(message, { cause: err }), { code: errno }))
}

/** An errno code as Node's fs and random-access-file report it. */
const ERRNO = /^E[A-Z]{2,}$/

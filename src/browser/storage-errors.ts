/**
 * Classification of storage failures into shadw's typed errors.
 *
 * Two vocabularies meet here. The browser's File System API throws DOMExceptions told apart
 * by `name`; random-access-storage consumers (Hypercore 10, Corestore 6) expect the two
 * conventions of random-access-file, an `ENOENT` code when a file that was not to be created
 * is missing and an `EPARTIALREAD` code when a read runs past the end. Those two stay plain
 * errors with those codes, because Hypercore matches on them to tell "absent" from "broken";
 * everything else becomes a {@link ShadwError}.
 */
import { ShadwError } from '../core/errors.ts'

/** The random-access-file error codes Hypercore and Corestore match on. */
export type StorageProtocolCode = 'ENOENT' | 'EPARTIALREAD'

/**
 * A random-access-storage protocol signal, not a failure of shadw: Hypercore reads it as
 * "no such file yet" (`ENOENT`) or "nothing stored there" (`EPARTIALREAD`).
 */
export class StorageProtocolError extends Error {
  readonly code: StorageProtocolCode
  readonly path: string

  constructor (code: StorageProtocolCode, message: string, path: string) {
    super(`${code}: ${message}`)
    this.name = 'StorageProtocolError'
    this.code = code
    this.path = path
  }
}

/** The error random-access-file gives when opening a missing file without creating it. */
export function notFoundError (path: string): StorageProtocolError {
  return new StorageProtocolError('ENOENT', `no such file: ${path}`, path)
}

/** The error random-access-file gives when a read cannot be satisfied in full. */
export function partialReadError (path: string, offset: number, size: number): StorageProtocolError {
  // same message text as random-access-file, so logs from Node and browser nodes read alike
  return new StorageProtocolError('EPARTIALREAD', `Could not satisfy length (${size} bytes at ${offset} in ${path})`, path)
}

/** The storage operation that failed; lock contention means different things per operation. */
export type StorageOp = 'open' | 'read' | 'write' | 'del' | 'truncate' | 'stat' | 'close' | 'unlink'

function domName (err: unknown): string | null {
  if (typeof err !== 'object' || err === null) return null
  const name = (err as { name?: unknown }).name
  return typeof name === 'string' ? name : null
}

/**
 * True when `err` says another context holds the file's access handle. Chromium throws
 * `NoModificationAllowedError` (the spec's name); older Chromium builds threw
 * `InvalidStateError` for the same condition.
 */
export function isLockContention (err: unknown): boolean {
  const name = domName(err)
  return name === 'NoModificationAllowedError' || name === 'InvalidStateError'
}

/**
 * Maps an error thrown by the Origin Private File System during `op` on `path`.
 *
 * `QuotaExceededError` → `STORAGE_FULL`; lock contention → `STORAGE_LOCKED`; `NotFoundError`
 * → the `ENOENT` protocol error; `TypeMismatchError` (a directory where a file should be, or
 * the reverse) → `STORAGE_CORRUPT`; `SecurityError`/`NotAllowedError` (OPFS refused to this
 * origin or profile) → `STORAGE_UNAVAILABLE`; shadw errors pass through; anything else is
 * `INTERNAL`.
 *
 * @example
 * ```ts
 * try { handle.write(data, { at }) } catch (err) { req.callback(storageError(err, path, 'write')) }
 * ```
 */
export function storageError (err: unknown, path: string, op: StorageOp): ShadwError | StorageProtocolError {
  if (err instanceof ShadwError || err instanceof StorageProtocolError) return err
  switch (domName(err)) {
    case 'QuotaExceededError':
      return ShadwError.STORAGE_FULL(path, err)
    case 'NoModificationAllowedError':
      return ShadwError.STORAGE_LOCKED(path, err)
    case 'InvalidStateError':
      // on an open it is the old name for contention; elsewhere it means a closed handle: a bug
      return op === 'open' ? ShadwError.STORAGE_LOCKED(path, err) : ShadwError.INTERNAL(`${op} on a closed handle: ${path}`, err)
    case 'NotFoundError':
      return notFoundError(path)
    case 'TypeMismatchError':
      return ShadwError.STORAGE_CORRUPT(path, err)
    case 'SecurityError':
    case 'NotAllowedError':
      return ShadwError.STORAGE_UNAVAILABLE(`the origin private file system refused access to ${path}`, err)
    default:
      return ShadwError.INTERNAL(`${op} failed on ${path}`, err)
  }
}

/** Hypercore 10 error codes that mean its files on disk disagree with each other. */
const HYPERCORE_CORRUPTION_CODES: ReadonlySet<string> = new Set([
  'OPLOG_CORRUPT',
  'INVALID_OPLOG_VERSION',
  'OPLOG_HEADER_OVERFLOW',
  // only reachable with `createIfMissing: false`: the core was known to exist, its header is gone
  'STORAGE_EMPTY',
  // a file is shorter than the header says (e.g. the Merkle tree lost its tail)
  'EPARTIALREAD'
])

/**
 * Classifies why reopening a stored Hypercore failed, for the core stored under `path`.
 *
 * What Hypercore 10.38 does with a damaged file (checked in `test/browser/opfs-storage.test.ts`):
 * a truncated tree fails the open with `EPARTIALREAD`; an overwritten oplog fails with
 * `OPLOG_CORRUPT`; a garbled tree fails inside compact-encoding with a `RangeError`; an
 * emptied oplog silently opens a *new, empty* core unless the caller passes
 * `createIfMissing: false` (then `STORAGE_EMPTY`). All of these become `STORAGE_CORRUPT`.
 * Always reopen a core you know you stored with `createIfMissing: false`.
 */
export function coreOpenError (err: unknown, path: string): ShadwError {
  if (err instanceof ShadwError) return err
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined
  if (typeof code === 'string' && HYPERCORE_CORRUPTION_CODES.has(code)) return ShadwError.STORAGE_CORRUPT(path, err)
  // compact-encoding throws RangeError when stored bytes do not decode
  if (err instanceof RangeError) return ShadwError.STORAGE_CORRUPT(path, err)
  return ShadwError.INTERNAL(`opening the core at ${path} failed`, err)
}

/**
 * The typed codes {@link storageError} gives a failed write, as they start the message that
 * Hypercore 10 keeps of it (`WRITE_FAILED: STORAGE_FULL: no space left writing …`).
 */
const WRITE_FAILED_CODE = /^WRITE_FAILED: (STORAGE_FULL|STORAGE_LOCKED|STORAGE_CORRUPT|STORAGE_UNAVAILABLE):/

/**
 * Maps a failed append to a log this node writes (`log` names it), as the super node does
 * with its file errors: Hypercore 10 reports a failed storage write as `WRITE_FAILED` and
 * keeps only the message of the adapter's typed error, so its code is read back from there
 * and a full origin quota is `STORAGE_FULL` in the service's refusals. Any other failed write
 * is `STORAGE_UNAVAILABLE`; Hypercore's and shadw's other errors (a closed session, a bad
 * argument) stay as they are, not a broken disk.
 *
 * @example
 * ```ts
 * await node.append(key, blocks).catch((err: unknown) => { throw logWriteError(`ledger ${key}`, err) })
 * ```
 */
export function logWriteError (log: string, err: unknown): unknown {
  if (err instanceof ShadwError || (err as { code?: unknown } | null)?.code !== 'WRITE_FAILED') return err
  const message = err instanceof Error ? err.message : String(err)
  switch (WRITE_FAILED_CODE.exec(message)?.[1]) {
    case 'STORAGE_FULL': return ShadwError.STORAGE_FULL(log, err)
    case 'STORAGE_LOCKED': return ShadwError.STORAGE_LOCKED(log, err)
    case 'STORAGE_CORRUPT': return ShadwError.STORAGE_CORRUPT(log, err)
    default: return ShadwError.STORAGE_UNAVAILABLE(`cannot write ${log}: ${message}`, err)
  }
}

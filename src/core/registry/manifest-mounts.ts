/**
 * The drives a manifest mounts into its function, read-only: each a drive key, a version or
 * "latest" (pinned by the caller at call time), the guest path the function sees it at, and
 * the drive folder mounted. Bounded and in one canonical form, since they are signed.
 */
import b4a from 'b4a'
import c, { type State } from 'compact-encoding'
import { put } from '../encoding.ts'
import { ShadwError } from '../errors.ts'
import { isHexKey } from '../hex.ts'

/** Most drives one manifest mounts. */
export const MAX_MANIFEST_MOUNTS = 8

/** One drive a manifest mounts. */
export interface ManifestMount {
  /** the drive's key, 64 lowercase hex characters */
  drive: string
  /** a version (versions start at 1) or "latest": the caller pins it when it calls */
  version: number | 'latest'
  /** where the function sees the drive: an absolute guest path such as `/data` */
  path: string
  /** the drive folder mounted, canonical (`/models`); absent for the drive's root */
  from?: string
}

/** An absolute path of names, no empty, `.` or `..` name, no control character or backslash. */
const PATH = /^(?:\/[^/\u0000-\u001f\u007f\\]{1,255}){1,32}$/ // eslint-disable-line no-control-regex

function fail (msg: string, field: string): never {
  throw ShadwError.MANIFEST_INVALID(msg, { field })
}

function isPath (v: unknown): v is string {
  return typeof v === 'string' && v.length <= 1024 && PATH.test(v) && !v.split('/').some(n => n === '.' || n === '..')
}

/** Checks a manifest's `mounts`; returns them clean (absent when empty). @throws `MANIFEST_INVALID` */
export function validateMounts (v: unknown): ManifestMount[] | undefined {
  if (v === undefined) return undefined
  if (!Array.isArray(v) || v.length > MAX_MANIFEST_MOUNTS) fail(`mounts must be an array of at most ${MAX_MANIFEST_MOUNTS} { drive, version, path, from? }`, 'mounts')
  if (v.length === 0) return undefined
  const paths = new Set<string>()
  return (v as unknown[]).map((m, i) => {
    const field = `mounts[${i}]`
    if (typeof m !== 'object' || m === null) fail(`${field} must be { drive, version, path, from? }`, field)
    const r = m as Record<string, unknown>
    if (!isHexKey(r['drive'])) fail(`${field}.drive must be 64 lowercase hex characters`, `${field}.drive`)
    const version = r['version']
    if (version !== 'latest' && (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1)) fail(`${field}.version must be a positive integer or "latest"`, `${field}.version`)
    if (!isPath(r['path'])) fail(`${field}.path must be an absolute guest path of names`, `${field}.path`)
    if (paths.has(r['path'])) fail(`two mounts at ${r['path']}`, `${field}.path`)
    paths.add(r['path'])
    const from = r['from']
    if (from !== undefined && from !== '/' && !isPath(from)) fail(`${field}.from must be a drive folder such as /models`, `${field}.from`)
    return { drive: r['drive'], version, path: r['path'], ...(from === undefined || from === '/' ? {} : { from }) }
  })
}

export function writeMounts (s: State, pre: boolean, mounts: ManifestMount[]): void {
  put(s, pre, c.uint, mounts.length)
  for (const m of mounts) {
    put(s, pre, c.fixed32, b4a.from(m.drive, 'hex'))
    // 0 = latest: a drive's versions start at 1
    put(s, pre, c.uint, m.version === 'latest' ? 0 : m.version)
    put(s, pre, c.string, m.path)
    put(s, pre, c.string, m.from ?? '/')
  }
}

export function readMounts (s: State): Array<Record<string, unknown>> {
  const n = c.uint.decode(s)
  if (n > MAX_MANIFEST_MOUNTS) fail(`more than ${MAX_MANIFEST_MOUNTS} mounts`, 'mounts')
  const out: Array<Record<string, unknown>> = []
  for (let i = 0; i < n; i++) {
    const drive = b4a.toString(c.fixed32.decode(s), 'hex')
    const version = c.uint.decode(s)
    out.push({ drive, version: version === 0 ? 'latest' : version, path: c.string.decode(s), from: c.string.decode(s) })
  }
  return out
}

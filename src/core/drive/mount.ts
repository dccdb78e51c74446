/**
 * Drives mounted into functions, read-only: a manifest declares mounts (a drive, a version or
 * "latest", a guest path) and an invocation may add its own. The caller pins every "latest"
 * to a version before the call ({@link pinMounts}), the executor checks the pins against the
 * manifest ({@link mergeMounts}), turns each into a preopen ({@link loadMount}) and signs the
 * versions into the receipt: redundant executors read the same bytes, and anyone can tell
 * later which data produced a result.
 *
 * How bytes reach the call: the mount's folder tree (names and sizes: the entry log's blocks)
 * is fetched before the call, and each file is handed to the sandbox as a `lazy` node. WASI
 * host calls are synchronous, so when the module reads a file its worker blocks on memory it
 * shares with its host (Atomics.wait, sandbox/file-channel.ts) while the host reads that range
 * from the drive at the pinned version (mount-files.ts): only the blob blocks the range spans
 * are fetched, each verified by Hypercore, and kept in a page cache for later reads. A read
 * of 4 KiB of a mounted file of any size moves the one 64 KiB blob block holding it and a few
 * entry-log blocks (128 MiB in the test). Where a worker cannot share memory (a browser page that is not cross-origin
 * isolated) the executor fetches the lazy files whole before the call instead (sandbox
 * call-files.ts), at most 256 MiB. Without `lazy`, {@link loadMount} fetches the bytes itself
 * (at most {@link MAX_MOUNT_BYTES}), for hosts that want plain trees.
 */
import { ShadwError } from '../errors.ts'
import { isHexKey } from '../hex.ts'
import type { ManifestMount } from '../registry/index.ts'
import { MIN_PAGE_BYTES, PAGE_BYTES, type Preopen, type TreeEntry } from '../sandbox/index.ts'
import type { Drive } from './drive.ts'
import type { MountFiles } from './mount-files.ts'
import { drivePath } from './paths.ts'

/** Most mounts one call may have (the manifest's and the invocation's together). */
export const MAX_MOUNTS = 8
/** Most file bytes a call's mounts may hold together when they are fetched before the call. */
export const MAX_MOUNT_BYTES = 256 * 1024 * 1024
/** Most files and folders a call's mounts may hold together. */
export const MAX_MOUNT_NODES = 10_000

/** A mount as a manifest declares it (registry's validateMounts checks it). */
export type MountSpec = ManifestMount

/** A mount pinned to one version: what a call runs over. */
export interface PinnedMount {
  drive: string
  version: number
  path: string
  from?: string
  /** a private drive's encryption key, hex (sent to the executor, never signed anywhere) */
  encryptionKey?: string
  /**
   * instead of the key: where its condition-gated shares are (a drive key grant); the
   * executor fetches the key for the call with the tenant's auth (docs/access.md)
   */
  keyGrant?: MountKeyGrant
}

/** Where a gated drive key's shares are: public, nothing secret. */
export interface MountKeyGrant {
  keyId: string
  /** the dealer's node key, hex: the commitments must be its */
  dealer: string
  threshold: number
  /** the holders' node keys, hex */
  holders: string[]
}

/** Most holders a grant names (the key shares' own bound). */
const MAX_GRANT_HOLDERS = 32

/** One drive version a call read, as its receipt names it. */
export interface MountedVersion { drive: string, version: number }

const GUEST_PATH = /^\/[^\0]{0,254}$/

function bad (why: string): never {
  throw ShadwError.MOUNT_INVALID(why)
}

function checkCommon (m: Record<string, unknown>, i: number): void {
  if (typeof m['drive'] !== 'string' || !isHexKey(m['drive'])) bad(`mount ${i}: drive must be a key of 64 hex characters`)
  if (typeof m['path'] !== 'string' || !GUEST_PATH.test(m['path']) || m['path'].split('/').some(p => p === '.' || p === '..')) bad(`mount ${i}: path must be an absolute guest path`)
  if (m['from'] !== undefined) {
    if (typeof m['from'] !== 'string') bad(`mount ${i}: from must be a drive folder`)
    // one spelling per folder, so a manifest's mount and a request's compare equal
    const from = drivePath(m['from'], { dir: true })
    if (from === '/') delete m['from']
    else m['from'] = from
  }
}

function checkList (v: unknown): Array<Record<string, unknown>> {
  if (!Array.isArray(v) || v.length > MAX_MOUNTS) bad(`mounts must be an array of at most ${MAX_MOUNTS}`)
  const seen = new Set<string>()
  return v.map((m: unknown, i) => {
    if (typeof m !== 'object' || m === null || Array.isArray(m)) bad(`mount ${i} is not an object`)
    const r = { ...(m as Record<string, unknown>) }
    checkCommon(r, i)
    if (seen.has(r['path'] as string)) bad(`two mounts at ${String(r['path'])}`)
    seen.add(r['path'] as string)
    return r
  })
}

/** Checks pinned mounts (a request's). @throws `MOUNT_INVALID` */
export function parsePinnedMounts (v: unknown): PinnedMount[] {
  return checkList(v).map((m, i) => {
    const version = m['version']
    if (typeof version !== 'number' || !Number.isSafeInteger(version) || version < 1) bad(`mount ${i}: version must be a positive integer`)
    const key = m['encryptionKey']
    if (key !== undefined && (typeof key !== 'string' || !isHexKey(key))) bad(`mount ${i}: encryptionKey must be 64 hex characters`)
    const grant = m['keyGrant'] === undefined ? undefined : checkGrant(m['keyGrant'], i)
    if (key !== undefined && grant !== undefined) bad(`mount ${i}: an encryption key or a key grant, not both`)
    return {
      drive: (m['drive'] as string).toLowerCase(),
      version,
      path: m['path'] as string,
      ...(m['from'] === undefined ? {} : { from: m['from'] as string }),
      ...(key === undefined ? {} : { encryptionKey: key }),
      ...(grant === undefined ? {} : { keyGrant: grant })
    }
  })
}

function checkGrant (v: unknown, i: number): MountKeyGrant {
  const g = v as Partial<MountKeyGrant> | null
  if (typeof g !== 'object' || g === null || !isHexKey(g.keyId) || !isHexKey(g.dealer) || !Number.isInteger(g.threshold) || (g.threshold as number) < 2 ||
    !Array.isArray(g.holders) || g.holders.length < (g.threshold as number) || g.holders.length > MAX_GRANT_HOLDERS || g.holders.some(h => !isHexKey(h)) || new Set(g.holders).size !== g.holders.length) {
    bad(`mount ${i}: keyGrant must be { keyId, dealer, threshold >= 2, holders: at least threshold distinct keys, at most ${MAX_GRANT_HOLDERS} }`)
  }
  return { keyId: g.keyId as string, dealer: g.dealer as string, threshold: g.threshold as number, holders: [...g.holders as string[]] }
}

/**
 * The caller's step: pins each "latest" of `manifest` to the newest version `open` finds
 * (the drive asks its peers), then adds the invocation's own mounts.
 */
export async function pinMounts (open: (key: string) => Promise<Drive>, manifest: MountSpec[], extra: PinnedMount[] = []): Promise<PinnedMount[]> {
  const out: PinnedMount[] = []
  for (const m of manifest) {
    let version = m.version
    if (version === 'latest') {
      version = await (await open(m.drive)).update()
      if (version < 1) throw ShadwError.DRIVE_NOT_FOUND(`drive ${m.drive} has no version yet`, { key: m.drive })
    }
    out.push({ drive: m.drive, version, path: m.path, ...(m.from === undefined ? {} : { from: m.from }) })
  }
  return parsePinnedMounts([...out, ...extra])
}

/**
 * The executor's step: the mounts a call runs over, in a fixed order (the manifest's, then the
 * invocation's). Each manifest mount must appear in `requested` with its drive, folder and
 * (when the manifest names one) version; a "latest" the caller did not pin is pinned here by
 * `latest` (so an old caller still runs, though its redundant executors may then disagree).
 * @throws `MOUNT_INVALID`
 */
export async function mergeMounts (manifest: MountSpec[], requested: PinnedMount[], latest: (key: string) => Promise<number>): Promise<PinnedMount[]> {
  const byPath = new Map(requested.map(m => [m.path, m]))
  const out: PinnedMount[] = []
  for (const m of manifest) {
    const r = byPath.get(m.path)
    byPath.delete(m.path)
    if (r === undefined) {
      const version = m.version === 'latest' ? await latest(m.drive) : m.version
      out.push({ drive: m.drive, version, path: m.path, ...(m.from === undefined ? {} : { from: m.from }) })
      continue
    }
    if (r.drive !== m.drive || (r.from ?? '/') !== (m.from ?? '/')) bad(`${m.path} is the manifest's mount of drive ${m.drive}: the invocation may not replace it`)
    if (m.version !== 'latest' && r.version !== m.version) bad(`${m.path}: the manifest pins version ${m.version}, the invocation asked for ${r.version}`)
    out.push(r)
  }
  out.push(...byPath.values())
  if (out.length > MAX_MOUNTS) bad(`more than ${MAX_MOUNTS} mounts`)
  return out
}

/**
 * What a call's mounts have taken so far: bounds the fetch across all of them. Files read on
 * demand count as nodes only: what a call reads of them is bounded by its fuel.
 */
export class MountBudget {
  bytes = 0
  nodes = 0
  take (key: string, bytes: number): void {
    this.bytes += bytes
    if (++this.nodes > MAX_MOUNT_NODES) throw ShadwError.MOUNT_TOO_LARGE(key, `${MAX_MOUNT_NODES} files and folders`)
    if (this.bytes > MAX_MOUNT_BYTES) throw ShadwError.MOUNT_TOO_LARGE(key, `${MAX_MOUNT_BYTES} bytes`)
  }
}

/** Where a mount's files are read on demand: the call's file list, and the key scope of `drive`. */
export interface LazyMount {
  files: MountFiles
  /** the hash of the encryption key the drive was opened with ('' for none) */
  scope: string
}

/**
 * Fetches `m`'s folder of `drive` at `m.version` as a preopen: the folder tree (its entries
 * only), then the bytes of each file (sizes are checked against the budget before any byte
 * is fetched). With `lazy`, no file byte is fetched: each file is a `lazy` node named in
 * `lazy.files`, read while the call runs.
 * @throws `DRIVE_NOT_FOUND` (version or folder missing), `DRIVE_LOCKED`, `MOUNT_TOO_LARGE`
 */
export async function loadMount (drive: Drive, m: PinnedMount, budget = new MountBudget(), lazy?: LazyMount): Promise<Preopen> {
  if (drive.version < m.version) await drive.update()
  if (drive.version < m.version) throw ShadwError.DRIVE_NOT_FOUND(`drive ${m.drive} has no version ${m.version} among its peers`, { key: m.drive, version: m.version })
  const files: Array<{ path: string, node: { kind: 'file', data: Uint8Array } }> = []
  const walk = async (dir: string): Promise<TreeEntry> => {
    const entries: Record<string, TreeEntry> = {}
    for (const e of await drive.list(dir, { version: m.version })) {
      // a lone file listed for a file path: a mount names a folder
      if (e.path === dir) throw ShadwError.MOUNT_INVALID(`${dir} in drive ${m.drive} is a file, not a folder`)
      const name = e.path.slice(e.path.lastIndexOf('/') + 1)
      budget.take(m.drive, e.kind === 'file' && lazy === undefined ? e.size : 0)
      if (e.kind === 'dir') {
        entries[name] = await walk(e.path)
      } else if (lazy !== undefined) {
        const page = filePage(e.size, e.blocks)
        entries[name] = { kind: 'lazy', size: e.size, id: lazy.files.add(drive, lazy.scope, e.path, m.version, e.size), ...(page === undefined ? {} : { page }) }
      } else {
        const node = { kind: 'file' as const, data: new Uint8Array(0) }
        files.push({ path: e.path, node })
        entries[name] = node
      }
    }
    return { kind: 'dir', entries }
  }
  const tree = await walk(drivePath(m.from ?? '/', { dir: true }))
  for (const f of files) {
    const chunks: Uint8Array[] = []
    let size = 0
    for await (const c of drive.read(f.path, { version: m.version })) { chunks.push(c); size += c.byteLength }
    const data = new Uint8Array(size)
    let at = 0
    for (const c of chunks) { data.set(c, at); at += c.byteLength }
    f.node.data = data
  }
  return { guest: m.path, tree }
}

/**
 * The page a mounted file is read in: its blocks' size, rounded up to a power of two from 4 to
 * 64 KiB, when it was written in blocks of at most 32 KiB (`drive put --block-size`); none
 * (64 KiB pages) otherwise. A file of 64 KiB blocks averages over 32 KiB a block whatever its
 * tail, and a one-block file has no block size to go by, so both read as they always did. It
 * comes from the signed entry only (bytes and blocks at the pinned version), so every executor
 * of a call picks the same page and charges the same fuel.
 */
export function filePage (size: number, blocks: number): number | undefined {
  if (blocks < 2) return undefined
  const mean = Math.ceil(size / blocks)
  if (mean > PAGE_BYTES / 2) return undefined
  let page = MIN_PAGE_BYTES
  while (page < mean) page *= 2
  return page
}

/**
 * The executor's side of drive mounts: the mounts a call runs over (the manifest's, checked
 * against the caller's pins, then the invocation's) as read-only preopens, and the versions
 * its receipt names. A mount's tree (names and sizes: the entry log) is fetched before the
 * call; its files' bytes while the call reads them, through the call's file source, with a
 * page cache shared by the calls of this executor (drive/mount-files.ts, drive/mount.ts).
 *
 * Each mount opens its drive for the call and closes it after; calls running at once over one
 * drive (with one key) share a handle, because a second Hyperdrive over a core a first one
 * holds open on the same node does not get ready. A node's Corestore shares one
 * core between all sessions of a key, and the core decrypts with the encryption key it was
 * first opened with: a keyless session opened while a keyed one is open reads plaintext. So
 * nothing is cached between calls, and the service remembers which drives were mounted with a
 * key (a hash of it): a later mount of such a drive without that key is refused with
 * `DRIVE_LOCKED`, whatever the shared core would let it read.
 */
import b4a from 'b4a'
import { Drive, loadMount, mergeMounts, MountBudget, MountCache, MountFiles, type DriveHost, type PinnedMount } from '../drive/index.ts'
import { ShadwError } from '../errors.ts'
import { encodeManifest, encodeSignedManifest, type LoadedFunction, type ManifestMount } from '../registry/index.ts'
import type { FileSource, Preopen } from '../sandbox/index.ts'
import { sha256 } from '../sha256.ts'

/** Most private drives whose key hashes a service remembers; the oldest is forgotten first. */
const MAX_PRIVATE_DRIVES = 4096

/**
 * What a call mounts: preopens for the sandbox (their files `lazy`), where their bytes are
 * read from, and the versions for the receipt. {@link close} once the call is over: the
 * drives stay open while it may read.
 */
export interface CallMountsResult {
  preopens: Preopen[]
  files: FileSource
  versions: Array<{ drive: string, version: number }>
  close (): Promise<void>
}

/** Options of {@link CallMounts}. */
export interface CallMountsOptions {
  /** bytes of mounted files kept for later reads, across calls (default 64 MiB) */
  cacheBytes?: number
}

export class CallMounts {
  readonly #host: DriveHost
  /** drive key → sha256 of the encryption key it was mounted with */
  readonly #private = new Map<string, string>()
  /** pages of mounted files read by recent calls */
  readonly cache: MountCache
  /** bytes of blocks the calls' mounts fetched from peers (entries and file bytes), counted as each handle closes */
  bytesFetched = 0
  /** handles open for calls running now: `drive/key hash` → the handle and its users */
  readonly #open = new Map<string, { drive: Promise<Drive>, users: number }>()

  constructor (host: DriveHost, opts: CallMountsOptions = {}) {
    this.#host = host
    this.cache = new MountCache(opts.cacheBytes)
  }

  /**
   * Fetches the call's mounts' trees. @throws `MOUNT_INVALID`, `MOUNT_TOO_LARGE`,
   * `DRIVE_LOCKED` (a private drive without its key, or with a wrong one), `DRIVE_NOT_FOUND`,
   * `ABORTED`
   */
  async load (manifest: ManifestMount[], requested: PinnedMount[], signal: AbortSignal): Promise<CallMountsResult> {
    const mounts = await mergeMounts(manifest, requested, async key => await this.latest(key))
    const budget = new MountBudget()
    const files = new MountFiles(this.cache)
    const preopens: Preopen[] = []
    const opened: Array<() => Promise<void>> = []
    const close = async (): Promise<void> => { await Promise.all(opened.splice(0).map(async release => { await release() })) }
    try {
      for (const m of mounts) {
        signal.throwIfAborted()
        const { drive, hash, known, release } = await this.#acquire(m)
        opened.push(release)
        preopens.push(await loadMount(drive, m, budget, { files, scope: hash ?? '' }))
        // the tree was read with the key: it is the drive's
        if (hash !== undefined && known === undefined) this.#remember(m.drive, hash)
      }
      signal.throwIfAborted()
    } catch (err) {
      await close()
      throw err
    }
    return {
      preopens,
      files: { read: async (id, offset, length) => await files.read(id, offset, length) },
      versions: mounts.map(m => ({ drive: m.drive, version: m.version })),
      close
    }
  }

  /**
   * The newest version of public drive `key` this node's peers know now: what a "latest" the
   * caller did not pin is pinned to, and what a caller that asks is told (manifest-pins.ts).
   * @throws `DRIVE_LOCKED` (a drive mounted with a key here), `DRIVE_NOT_FOUND`
   */
  async latest (key: string): Promise<number> {
    const { drive, release } = await this.#acquire({ drive: key, version: 1, path: '/' })
    try { return await drive.update() } finally { await release() }
  }

  async #acquire (m: PinnedMount): Promise<{ drive: Drive, hash: string | undefined, known: string | undefined, release: () => Promise<void> }> {
    const known = this.#private.get(m.drive)
    const hash = m.encryptionKey === undefined ? undefined : sha256(b4a.from(m.encryptionKey, 'hex'))
    if (known !== undefined && known !== hash) throw ShadwError.DRIVE_LOCKED(m.drive)
    const id = `${m.drive}/${hash ?? ''}`
    let entry = this.#open.get(id)
    if (entry === undefined) {
      const opening = Drive.open(this.#host, m.drive, hash === undefined ? {} : { encryptionKey: b4a.from(m.encryptionKey as string, 'hex') })
      entry = { drive: opening, users: 0 }
      this.#open.set(id, entry)
      // a failed open is not shared with later calls
      opening.catch(() => { if (this.#open.get(id) === entry) this.#open.delete(id) })
    }
    entry.users++
    const held = entry
    let released = false
    const release = async (): Promise<void> => {
      if (released) return
      released = true
      if (--held.users > 0) return
      if (this.#open.get(id) === held) this.#open.delete(id)
      const d = await held.drive.catch(() => null)
      if (d === null) return
      this.bytesFetched += d.bytesFetched
      await d.close()
    }
    try {
      return { drive: await held.drive, hash, known, release }
    } catch (err) {
      await release()
      throw err
    }
  }

  #remember (drive: string, hash: string): void {
    this.#private.set(drive, hash)
    if (this.#private.size > MAX_PRIVATE_DRIVES) this.#private.delete(this.#private.keys().next().value as string)
  }

  async close (): Promise<void> {}
}

/**
 * Runs `fn` over the call's mounts (none when neither the manifest nor the request has any),
 * closing them once it settles. @throws `MOUNT_INVALID` for mounts on an executor that
 * mounts no drives or of a raw function, and what {@link CallMounts.load} throws
 */
export async function withMounts<T> (drives: CallMounts | null, manifest: { mounts?: ManifestMount[], abi: string }, requested: PinnedMount[] | undefined, signal: AbortSignal, fn: (mounted: CallMountsResult | undefined) => Promise<T>): Promise<T> {
  if (manifest.mounts === undefined && requested === undefined) return await fn(undefined)
  if (drives === null) throw cannotMount('this executor mounts no drives')
  if (manifest.abi !== 'wasi') throw cannotMount('only a wasi function sees files')
  const mounted = await drives.load(manifest.mounts ?? [], requested ?? [], signal)
  try {
    return await fn(mounted)
  } finally {
    await mounted.close()
  }
}

/** The refusal of a call with mounts on an executor that mounts no drives, or of a raw function. */
export function cannotMount (why: string): ShadwError {
  return ShadwError.MOUNT_INVALID(why)
}

/** What an executor tells a caller that asks before calling (protocol.ts, `mounts`). */
export interface MountVersions {
  /** the function's signed manifest, as its registry stores it */
  manifest: Uint8Array
  /** for each of its mounts in order: the version this node knows (a pinned one as pinned; 0: none) */
  versions: number[]
  /** chain → the block this node would read it at now (decimal), for the chains the function's conditions read that it can */
  blocks?: Record<string, string>
}

/**
 * The answer to a caller's mounts query about `fn`: its manifest, signed (decoding checked
 * the body is canonical, so encoding it again gives the bytes the publisher signed), and the
 * newest version of each "latest" mount this node's peers know. A drive it cannot tell
 * (locked, unreachable, no drives here) is answered 0: the caller's own view decides it.
 */
export async function mountVersions (fn: LoadedFunction, drives: CallMounts | null): Promise<MountVersions> {
  const versions = await Promise.all((fn.manifest.mounts ?? []).map(async m => {
    if (m.version !== 'latest') return m.version
    return drives === null ? 0 : await drives.latest(m.drive).catch(() => 0)
  }))
  return { manifest: encodeSignedManifest({ body: encodeManifest(fn.manifest), signature: b4a.from(fn.signature, 'hex') }), versions }
}

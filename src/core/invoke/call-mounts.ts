/**
 * The executor's side of drive mounts: the mounts a call runs over (the manifest's, checked
 * against the caller's pins, then the invocation's), fetched as read-only preopens before the
 * call starts (see drive/mount.ts for why before, and what that costs), and the versions its
 * receipt names.
 *
 * Each mount opens its drive for the call and closes it after. A node's Corestore shares one
 * core between all sessions of a key, and the core decrypts with the encryption key it was
 * first opened with: a keyless session opened while a keyed one is open reads plaintext. So
 * nothing is cached between calls, and the service remembers which drives were mounted with a
 * key (a hash of it): a later mount of such a drive without that key is refused with
 * `DRIVE_LOCKED`, whatever the shared core would let it read.
 */
import b4a from 'b4a'
import { Drive, loadMount, mergeMounts, MountBudget, type DriveHost, type PinnedMount } from '../drive/index.ts'
import { ShadwError } from '../errors.ts'
import type { ManifestMount } from '../registry/index.ts'
import type { Preopen } from '../sandbox/index.ts'
import { sha256 } from '../sha256.ts'

/** Most private drives whose key hashes a service remembers; the oldest is forgotten first. */
const MAX_PRIVATE_DRIVES = 4096

/** What a call mounts: preopens for the sandbox, versions for the receipt. */
export interface CallMountsResult {
  preopens: Preopen[]
  versions: Array<{ drive: string, version: number }>
}

export class CallMounts {
  readonly #host: DriveHost
  /** drive key → sha256 of the encryption key it was mounted with */
  readonly #private = new Map<string, string>()

  constructor (host: DriveHost) {
    this.#host = host
  }

  /**
   * Fetches the call's mounts. @throws `MOUNT_INVALID`, `MOUNT_TOO_LARGE`, `DRIVE_LOCKED` (a
   * private drive without its key, or with a wrong one), `DRIVE_NOT_FOUND`, `ABORTED`
   */
  async load (manifest: ManifestMount[], requested: PinnedMount[], signal: AbortSignal): Promise<CallMountsResult> {
    const mounts = await mergeMounts(manifest, requested, async key => await this.#with({ drive: key, version: 1, path: '/' }, async d => await d.update()))
    const budget = new MountBudget()
    const preopens: Preopen[] = []
    for (const m of mounts) {
      signal.throwIfAborted()
      preopens.push(await this.#with(m, async d => await loadMount(d, m, budget)))
    }
    signal.throwIfAborted()
    return { preopens, versions: mounts.map(m => ({ drive: m.drive, version: m.version })) }
  }

  async #with<T> (m: PinnedMount, fn: (d: Drive) => Promise<T>): Promise<T> {
    const known = this.#private.get(m.drive)
    const hash = m.encryptionKey === undefined ? undefined : sha256(b4a.from(m.encryptionKey, 'hex'))
    if (known !== undefined && known !== hash) throw ShadwError.DRIVE_LOCKED(m.drive)
    const drive = await Drive.open(this.#host, m.drive, hash === undefined ? {} : { encryptionKey: b4a.from(m.encryptionKey as string, 'hex') })
    try {
      const out = await fn(drive)
      if (hash !== undefined && known === undefined) this.#remember(m.drive, hash)
      return out
    } finally {
      await drive.close()
    }
  }

  #remember (drive: string, hash: string): void {
    this.#private.set(drive, hash)
    if (this.#private.size > MAX_PRIVATE_DRIVES) this.#private.delete(this.#private.keys().next().value as string)
  }

  async close (): Promise<void> {}
}

/** The refusal of a call with mounts on an executor that mounts no drives, or of a raw function. */
export function cannotMount (why: string): ShadwError {
  return ShadwError.MOUNT_INVALID(why)
}

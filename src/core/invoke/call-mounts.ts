/**
 * The executor's side of drive mounts: the mounts a call runs over (the manifest's, checked
 * against the caller's pins, then the invocation's), fetched as read-only preopens before the
 * call starts (see drive/mount.ts for why before, and what that costs), and the versions its
 * receipt names. Public drives stay open between calls (a bounded set); a private drive is
 * opened with the call's key and closed after, so no key outlives its call.
 */
import { Drive, driveOpener, loadMount, mergeMounts, MountBudget, type DriveHost, type PinnedMount } from '../drive/index.ts'
import { ShadwError } from '../errors.ts'
import type { ManifestMount } from '../registry/index.ts'
import type { Preopen } from '../sandbox/index.ts'
import b4a from 'b4a'

/** What a call mounts: preopens for the sandbox, versions for the receipt. */
export interface CallMountsResult {
  preopens: Preopen[]
  versions: Array<{ drive: string, version: number }>
}

export class CallMounts {
  readonly #host: DriveHost
  readonly #open: ReturnType<typeof driveOpener>

  constructor (host: DriveHost) {
    this.#host = host
    this.#open = driveOpener(host)
  }

  /**
   * Fetches the call's mounts. @throws `MOUNT_INVALID`, `MOUNT_TOO_LARGE`, `DRIVE_LOCKED` (a
   * private drive without its key, or with a wrong one), `DRIVE_NOT_FOUND`, `ABORTED`
   */
  async load (manifest: ManifestMount[], requested: PinnedMount[], signal: AbortSignal): Promise<CallMountsResult> {
    const mounts = await mergeMounts(manifest, requested, async key => await (await this.#open.open(key)).update())
    const budget = new MountBudget()
    const preopens: Preopen[] = []
    for (const m of mounts) {
      signal.throwIfAborted()
      if (m.encryptionKey === undefined) {
        preopens.push(await loadMount(await this.#open.open(m.drive), m, budget))
        continue
      }
      const drive = await Drive.open(this.#host, m.drive, { encryptionKey: b4a.from(m.encryptionKey, 'hex') })
      try {
        preopens.push(await loadMount(drive, m, budget))
      } finally {
        await drive.close()
      }
    }
    signal.throwIfAborted()
    return { preopens, versions: mounts.map(m => ({ drive: m.drive, version: m.version })) }
  }

  async close (): Promise<void> {
    await this.#open.close()
  }
}

/** The refusal of a call with mounts on an executor that mounts no drives, or of a raw function. */
export function cannotMount (why: string): ShadwError {
  return ShadwError.MOUNT_INVALID(why)
}

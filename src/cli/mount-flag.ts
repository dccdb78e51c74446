/**
 * `--mount DRIVE[@VERSION|@latest][:FROM]::GUEST`, the flag of `shadw invoke` and `shadw run`:
 * a drive's folder FROM (default its root) at guest path GUEST, read-only (the program may
 * write; its writes vanish with the call). "latest" (the default) is pinned here, at the
 * caller, to the newest version its peers know, so every redundant executor reads the same
 * bytes and the receipt names that version. A private drive's encryption key comes from the
 * user's drive key store (drive-keys.ts) and travels only in the call's encrypted request;
 * or, with `shadw invoke --grant`, the call carries the drive's key grant and each executor
 * fetches the key from its holders for the call (the caller need not have the key at all).
 */
import b4a from 'b4a'
import { Drive, loadMount, MountBudget, parseDriveRef, parsePinnedMounts, type DriveHost, type MountKeyGrant, type PinnedMount } from '../core/drive/index.ts'
import { ShadwError } from '../core/errors.ts'
import type { Preopen } from '../core/sandbox/index.ts'
import { driveKeyDir, loadDriveKeys } from './drive-keys.ts'
import { MOUNT_FLAG_FORM } from './mount-flag-form.ts'

export { MOUNT_FLAG_FORM, MOUNT_FLAG_HELP } from './mount-flag-form.ts'

/** A parsed `--mount`: what to pin. */
export interface MountFlag {
  drive: string
  version: number | 'latest'
  from?: string
  path: string
}

/** How long "latest" waits for the swarm to tell a drive's length before calling it missing. */
const LATEST_WAIT_MS = 10_000
/** Pause between asks for a drive's length while no peer has answered. */
const LATEST_POLL_MS = 250

function bad (spec: string, why: string): never {
  throw ShadwError.MOUNT_INVALID(`--mount ${spec.slice(0, 200)}: ${why} (${MOUNT_FLAG_FORM})`)
}

/** Parses one `--mount` value. @throws `MOUNT_INVALID` */
export function parseMountFlag (spec: string): MountFlag {
  const sep = spec.indexOf('::')
  if (sep < 0) bad(spec, 'no ::GUEST')
  const source = spec.slice(0, sep)
  const path = spec.slice(sep + 2)
  if (!path.startsWith('/')) bad(spec, 'GUEST must be an absolute path')
  // `@latest` is the default; parseDriveRef knows numbers only
  const latest = /^[^:@]*@latest(?=:|$)/.test(source)
  let ref
  try {
    ref = parseDriveRef(latest ? source.replace('@latest', '') : source, { dir: true })
  } catch (err) {
    bad(spec, err instanceof ShadwError ? err.message : 'not a drive reference')
  }
  if (ref.version === 0) bad(spec, 'versions start at 1')
  const flag: MountFlag = { drive: ref.key, version: ref.version ?? 'latest', path, ...(ref.path === null || ref.path === '/' ? {} : { from: ref.path }) }
  // the same checks the executor applies (guest path, folder spelling), before anything is fetched
  parsePinnedMounts([{ drive: flag.drive, version: 1, path, ...(flag.from === undefined ? {} : { from: flag.from }) }])
  return flag
}

/**
 * `mounts` with the encryption key of each drive the key store holds one for, where the
 * mount has no key nor key grant yet: the manifest's own mounts, pinned by the endpoint,
 * come without one.
 */
export async function withStoreKeys (mounts: PinnedMount[], keyDir: string = driveKeyDir()): Promise<PinnedMount[]> {
  return await Promise.all(mounts.map(async m => {
    if (m.encryptionKey !== undefined || m.keyGrant !== undefined) return m
    const key = (await loadDriveKeys(m.drive, keyDir))?.encryptionKey ?? null
    return key === null ? m : { ...m, encryptionKey: b4a.toString(key, 'hex') }
  }))
}

/**
 * Pins every flag to a version (opening each drive on `host` for "latest"), with the
 * encryption key of each drive the key store holds one for.
 * @throws `MOUNT_INVALID` (two mounts at one path, too many), `DRIVE_NOT_FOUND` (no peer knows a version)
 */
export async function pinMountFlags (host: DriveHost, flags: MountFlag[], keyDir: string = driveKeyDir(), grants: ReadonlyMap<string, MountKeyGrant> = new Map()): Promise<PinnedMount[]> {
  const out: PinnedMount[] = []
  for (const d of grants.keys()) if (!flags.some(f => f.drive === d)) throw ShadwError.MOUNT_INVALID(`--grant is for drive ${d}, which no --mount names`)
  for (const f of flags) {
    const grant = grants.get(f.drive)
    // a drive given by its key grant: the executors fetch its key for the call, nobody sends it
    const keys = grant === undefined ? await loadDriveKeys(f.drive, keyDir) : null
    const encryptionKey = keys?.encryptionKey ?? null
    let version = f.version
    if (version === 'latest') {
      const drive = await Drive.open(host, f.drive, { encryptionKey })
      try {
        // a fresh node's first ask can answer before any holder of the drive is connected
        const end = Date.now() + LATEST_WAIT_MS
        while ((version = await drive.update()) < 1 && Date.now() < end) await new Promise(resolve => setTimeout(resolve, LATEST_POLL_MS))
      } finally {
        await drive.close()
      }
      if (version < 1) throw ShadwError.DRIVE_NOT_FOUND(`no peer knows a version of drive ${f.drive}`, { key: f.drive })
    }
    out.push({ drive: f.drive, version, path: f.path, ...(f.from === undefined ? {} : { from: f.from }), ...(encryptionKey === null ? {} : { encryptionKey: b4a.toString(encryptionKey, 'hex') }), ...(grant === undefined ? {} : { keyGrant: grant }) })
  }
  return parsePinnedMounts(out)
}

/** Fetches pinned mounts as preopens for a local run (`shadw run --mount`), within one call's mount budget. */
export async function mountPreopens (host: DriveHost, mounts: PinnedMount[]): Promise<Preopen[]> {
  const budget = new MountBudget()
  const out: Preopen[] = []
  for (const m of mounts) {
    const drive = await Drive.open(host, m.drive, { encryptionKey: m.encryptionKey === undefined ? null : b4a.from(m.encryptionKey, 'hex') })
    try {
      out.push(await loadMount(drive, m, budget))
    } finally {
      await drive.close()
    }
  }
  return out
}

/**
 * The user's drive keys: one file per drive under the config directory (`drives/<key>.json`,
 * mode 600), holding the drive's secret key and, for an encrypted drive, its encryption key.
 * Neither ever leaves this machine: commands print the public key only.
 */
import { mkdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import b4a from 'b4a'
import { ShadwError } from '../core/errors.ts'
import { isHex, isHexKey } from '../core/hex.ts'
import { keyToHex } from '../core/keys.ts'
import type { DriveKeyPair } from '../core/drive/index.ts'
import { defaultDir } from '../super-node/data-dir.ts'
import { KEY_DIR_MODE, writeKeyFile } from '../super-node/keystore.ts'

const DRIVE_KEY_TYPE = 'shadw-drive-key'
const DRIVE_KEY_VERSION = 1

/** What the key store keeps for one drive. */
export interface DriveKeys {
  key: string
  keyPair: DriveKeyPair
  encryptionKey: Uint8Array | null
}

/** The folder of drive key files (default: the user's config directory). */
export function driveKeyDir (configDir: string = defaultDir('config')): string {
  return join(configDir, 'drives')
}

/** Saves a new drive's keys; never overwrites. */
export async function saveDriveKeys (keys: DriveKeys, dir: string = driveKeyDir()): Promise<string> {
  await mkdir(dir, { recursive: true, mode: KEY_DIR_MODE })
  const path = join(dir, `${keys.key}.json`)
  const text = JSON.stringify({
    type: DRIVE_KEY_TYPE,
    version: DRIVE_KEY_VERSION,
    publicKey: keys.key,
    secretKey: keyToHex(keys.keyPair.secretKey),
    encryptionKey: keys.encryptionKey === null ? null : keyToHex(keys.encryptionKey)
  }, null, 2) + '\n'
  await writeKeyFile(path, text)
  return path
}

/** The keys of drive `key` when this user owns it, else null. */
export async function loadDriveKeys (key: string, dir: string = driveKeyDir()): Promise<DriveKeys | null> {
  if (!isHexKey(key)) throw ShadwError.INVALID_DRIVE_REF(key, 'a drive key is 64 hex characters')
  const path = join(dir, `${key}.json`)
  let text: string
  try {
    const st = await stat(path)
    if ((st.mode & 0o077) !== 0) throw ShadwError.INVALID_ARGUMENT(`${path} is readable by other users (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${path}`)
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (err instanceof ShadwError) throw err
    if ((err as { code?: string }).code === 'ENOENT') return null
    throw ShadwError.STORAGE_UNAVAILABLE(`cannot read ${path}: ${(err as Error).message}`, err)
  }
  let p: { type?: unknown, version?: unknown, publicKey?: unknown, secretKey?: unknown, encryptionKey?: unknown }
  try {
    p = JSON.parse(text) as typeof p
  } catch {
    throw ShadwError.INVALID_ARGUMENT(`${path} is not JSON`)
  }
  if (p.type !== DRIVE_KEY_TYPE || p.version !== DRIVE_KEY_VERSION || p.publicKey !== key || !isHex(p.secretKey, 64) ||
    (p.encryptionKey !== null && !isHexKey(p.encryptionKey))) {
    throw ShadwError.INVALID_ARGUMENT(`${path} is not a shadw drive key file for ${key}`)
  }
  return {
    key,
    keyPair: { publicKey: b4a.from(key, 'hex'), secretKey: b4a.from(p.secretKey, 'hex') },
    encryptionKey: p.encryptionKey === null ? null : b4a.from(p.encryptionKey as string, 'hex')
  }
}

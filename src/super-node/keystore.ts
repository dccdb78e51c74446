/**
 * The publisher key store: one ed25519 key pair in the user's config directory, the secret
 * part readable by the user only (file 0600 in a 0700 directory), never printed unless asked.
 */
import { mkdir, open, readFile, stat } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import b4a from 'b4a'
import { ShadwError } from '../core/errors.ts'
import { isHex, isHexKey } from '../core/hex.ts'
import { keyToHex } from '../core/keys.ts'
import { checkKeyPair, createPublisherKeyPair, type PublisherKeyPair } from '../core/registry/index.ts'
import { defaultDir } from './data-dir.ts'

/** File name of the publisher key pair under the config directory. */
export const KEY_FILE_NAME = 'publisher-key.json'
/** Owner read/write only: the file holds a secret key. */
export const KEY_FILE_MODE = 0o600
/** Owner only: nobody else may even list the key directory. */
export const KEY_DIR_MODE = 0o700
/** Format tag and version of the key file. */
const KEY_FILE_TYPE = 'shadw-publisher-key'
const KEY_FILE_VERSION = 1

/** A stored key pair and where it lives. */
export interface StoredKeys {
  path: string
  keyPair: PublisherKeyPair
  /** public key, hex */
  publicKey: string
}

/** Path of the key file for a config directory (default: the user's). */
export function keyFilePath (configDir: string = defaultDir('config')): string {
  return join(configDir, KEY_FILE_NAME)
}

/**
 * Writes a secret key file with mode 600 and syncs it; refuses with KEYS_EXIST to replace one
 * unless `overwrite`. The publisher key and the drive keys are written by this one function.
 */
export async function writeKeyFile (path: string, text: string, overwrite = false): Promise<void> {
  let file
  try {
    // 'wx' creates exclusively, so two racing creators cannot both win
    file = await open(path, overwrite ? 'w' : 'wx', KEY_FILE_MODE)
  } catch (err) {
    if ((err as { code?: string }).code === 'EEXIST') throw ShadwError.KEYS_EXIST(path)
    throw ShadwError.STORAGE_UNAVAILABLE(`cannot write ${path}: ${(err as Error).message}`, err)
  }
  try {
    // the mode given to open() is filtered by the umask and ignored for existing files
    await file.chmod(KEY_FILE_MODE)
    await file.writeFile(text)
    await file.sync()
  } finally {
    await file.close()
  }
}

/** Creates a new key pair; refuses with KEYS_EXIST to overwrite one unless `force`. */
export async function createKeys (path: string = keyFilePath(), opts: { force?: boolean } = {}): Promise<StoredKeys> {
  await mkdir(dirname(path), { recursive: true, mode: KEY_DIR_MODE })
  const keyPair = createPublisherKeyPair()
  const text = JSON.stringify({
    type: KEY_FILE_TYPE,
    version: KEY_FILE_VERSION,
    publicKey: keyToHex(keyPair.publicKey),
    secretKey: keyToHex(keyPair.secretKey)
  }, null, 2) + '\n'
  await writeKeyFile(path, text, opts.force === true)
  return { path, keyPair, publicKey: keyToHex(keyPair.publicKey) }
}

/**
 * Loads the key pair. Throws KEYS_NOT_FOUND when there is none, INVALID_ARGUMENT when the
 * file is malformed, does not match, or is readable by anyone but its owner.
 */
export async function loadKeys (path: string = keyFilePath()): Promise<StoredKeys> {
  let text: string
  try {
    const st = await stat(path)
    if ((st.mode & 0o077) !== 0) {
      throw ShadwError.INVALID_ARGUMENT(`${path} is readable by other users (mode ${(st.mode & 0o777).toString(8)}); run chmod 600 ${path}`)
    }
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (err instanceof ShadwError) throw err
    if ((err as { code?: string }).code === 'ENOENT') throw ShadwError.KEYS_NOT_FOUND(path)
    throw ShadwError.STORAGE_UNAVAILABLE(`cannot read ${path}: ${(err as Error).message}`, err)
  }
  let parsed: { type?: unknown, version?: unknown, publicKey?: unknown, secretKey?: unknown }
  try {
    parsed = JSON.parse(text) as typeof parsed
  } catch {
    throw ShadwError.INVALID_ARGUMENT(`${path} is not JSON`)
  }
  if (parsed.type !== KEY_FILE_TYPE || parsed.version !== KEY_FILE_VERSION ||
    !isHexKey(parsed.publicKey) || !isHex(parsed.secretKey, 64)) {
    throw ShadwError.INVALID_ARGUMENT(`${path} is not a shadw publisher key file`)
  }
  const keyPair = checkKeyPair({ publicKey: b4a.from(parsed.publicKey, 'hex'), secretKey: b4a.from(parsed.secretKey, 'hex') })
  return { path, keyPair, publicKey: parsed.publicKey }
}

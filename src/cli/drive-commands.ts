/**
 * `shadw drive create` and `shadw drive ls`, and what the drive commands share: opening a
 * drive with the keys this user holds for it.
 */
import { parseArgs } from 'node:util'
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { Drive, parseDriveRef, parseDriveVersion, type DriveEntry } from '../core/drive/index.ts'
import { ShadwError } from '../core/errors.ts'
import { isHexKey } from '../core/hex.ts'
import { keyToHex } from '../core/keys.ts'
import { loadDriveKeys, saveDriveKeys } from './drive-keys.ts'
import { DRIVE_NODE_OPTIONS, startDriveNode } from './drive-node.ts'
import type { ShadwNode } from '../core/node/index.ts'
import { formatBytes } from './byte-progress.ts'

/** `shadw drive create [--encrypt] [--json]`: a new key pair (and encryption key) in the key store; no network. */
export async function createCommand (argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { encrypt: { type: 'boolean', default: false }, json: { type: 'boolean', default: false } }, allowPositionals: true, strict: true })
  if (positionals.length > 0) throw ShadwError.INVALID_ARGUMENT('usage: shadw drive create [--encrypt] [--json]')
  const keyPair = crypto.keyPair()
  const encryptionKey = values.encrypt ? crypto.randomBytes(32) : null
  const key = keyToHex(keyPair.publicKey)
  const path = await saveDriveKeys({ key, keyPair, encryptionKey })
  if (values.json) process.stdout.write(JSON.stringify({ key, encrypted: encryptionKey !== null, keyFile: path }) + '\n')
  else process.stdout.write(`${key}\n`)
  if (!values.json) process.stderr.write(`created ${encryptionKey === null ? 'a' : 'an encrypted'} drive; its keys are in ${path} (mode 600)\n`)
  return 0
}

/**
 * Opens drive `key` on `node`: writable with the owner's key pair when this user holds it
 * (`needWritable` refuses otherwise), with the encryption key from the key store, the
 * command line, or the drive's key holders (a key grant and an auth).
 */
export async function openUserDrive (node: ShadwNode, key: string, opts: { needWritable?: boolean, encryptionKeyHex?: string, grant?: string, auth?: string } = {}): Promise<Drive> {
  const keys = await loadDriveKeys(key)
  if (opts.needWritable === true && keys === null) throw ShadwError.INVALID_ARGUMENT(`drive ${key} is not in your key store: only its owner writes to it`)
  let encryptionKey = keys?.encryptionKey ?? null
  if (opts.encryptionKeyHex !== undefined) {
    if (!isHexKey(opts.encryptionKeyHex.toLowerCase())) throw ShadwError.INVALID_ARGUMENT('--encryption-key is 64 hex characters')
    encryptionKey = b4a.from(opts.encryptionKeyHex.toLowerCase(), 'hex')
  }
  if (encryptionKey === null && (opts.grant !== undefined || opts.auth !== undefined)) {
    if (opts.grant === undefined || opts.auth === undefined) throw ShadwError.INVALID_ARGUMENT('--grant and --auth go together')
    encryptionKey = await (await import('./drive-grant.ts')).fetchDriveKey(node, key, { grant: opts.grant, auth: opts.auth })
  }
  return await Drive.open(node, keys?.keyPair ?? key, { encryptionKey })
}

/** The options of a drive command that reads a gated drive. */
export const GRANT_OPTIONS = { grant: { type: 'string' }, auth: { type: 'string' } } as const

/** `shadw drive ls <DRIVE>[@VERSION][:DIR] [--version N]`. */
export async function lsCommand (argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: { ...DRIVE_NODE_OPTIONS, ...GRANT_OPTIONS, version: { type: 'string' }, 'encryption-key': { type: 'string' }, json: { type: 'boolean', default: false } },
    allowPositionals: true,
    strict: true
  })
  const [refArg, ...extra] = positionals
  if (refArg === undefined || extra.length > 0) throw ShadwError.INVALID_ARGUMENT('usage: shadw drive ls <DRIVE>[@VERSION][:DIR] [--version N]')
  const ref = parseDriveRef(refArg, { dir: true })
  if (ref.version !== null && values.version !== undefined) throw ShadwError.INVALID_ARGUMENT('give the version once: <DRIVE>@N or --version N')
  const version = values.version !== undefined ? parseDriveVersion(values.version) : ref.version ?? undefined
  const dir = ref.path ?? '/'
  const client = await startDriveNode(values)
  try {
    const drive = await openUserDrive(client.node, ref.key, { encryptionKeyHex: values['encryption-key'], grant: values.grant, auth: values.auth })
    try {
      const entries = await drive.list(dir, version === undefined ? {} : { version })
      const at = version ?? drive.version
      if (values.json) process.stdout.write(JSON.stringify({ key: drive.key, version: at, latest: drive.version, dir, entries }, null, 2) + '\n')
      else process.stdout.write(renderList(drive.key, at, dir, entries))
    } finally {
      await drive.close()
    }
  } finally {
    await client.stop()
  }
  return 0
}

function renderList (key: string, version: number, dir: string, entries: DriveEntry[]): string {
  const lines = [`drive ${key} version ${version} ${dir}`]
  for (const e of entries) {
    lines.push(e.kind === 'dir'
      ? `  d ${'-'.padStart(10)}        ${e.path}/`
      : `  ${e.executable ? 'x' : 'f'} ${formatBytes(e.size).padStart(10)}  v${String(e.version).padEnd(4)} ${e.path}`)
  }
  if (entries.length === 0) lines.push('  (empty)')
  return lines.join('\n') + '\n'
}

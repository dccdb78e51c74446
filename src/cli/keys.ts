/**
 * `shadw keys [show|create] [--force] [--show-secret] [--json]`: the publisher key pair.
 * `show` (the default) prints the public key and where the key file is; the secret key is
 * printed only with `--show-secret`.
 */
import { parseArgs } from 'node:util'
import { keyToHex } from '../core/keys.ts'
import { ShadwError } from '../core/errors.ts'
import { createKeys, keyFilePath, loadKeys, type StoredKeys } from '../super-node/keystore.ts'

/** Usage line shown in `shadw help`. */
export const KEYS_USAGE = 'shadw keys [show|create] [--force] [--show-secret] [--json]'

/** Runs `shadw keys`; resolves to the exit code. */
export async function keysCommand (argv: string[], out: (s: string) => void = s => { process.stdout.write(s) }): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      force: { type: 'boolean', default: false },
      'show-secret': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false }
    },
    allowPositionals: true,
    strict: true
  })
  const [sub = 'show', ...extra] = positionals
  if (extra.length > 0 || (sub !== 'show' && sub !== 'create')) throw ShadwError.INVALID_ARGUMENT(`usage: ${KEYS_USAGE}`)
  const path = keyFilePath()
  const keys = sub === 'create' ? await createKeys(path, { force: values.force }) : await loadKeys(path)
  out(render(keys, sub === 'create', values['show-secret'], values.json))
  return 0
}

function render (keys: StoredKeys, created: boolean, showSecret: boolean, json: boolean): string {
  if (json) {
    const o: Record<string, string> = { publicKey: keys.publicKey, path: keys.path }
    if (showSecret) o['secretKey'] = keyToHex(keys.keyPair.secretKey)
    return JSON.stringify(o) + '\n'
  }
  const lines = [
    created ? 'created publisher key pair' : 'publisher key pair',
    `  public key: ${keys.publicKey}`,
    `  key file:   ${keys.path} (mode 600)`
  ]
  if (showSecret) lines.push(`  secret key: ${keyToHex(keys.keyPair.secretKey)}`)
  else lines.push('  secret key: (hidden; --show-secret prints it)')
  return lines.join('\n') + '\n'
}

/**
 * `shadw auth sign --fn PUBLISHER/NAME@VERSION --domain HOST [--key FILE] [--expires DURATION]
 * [--out FILE] [--chain-id N]`: signs a SIWE auth for one invocation of one exact function
 * with a tenant's Ethereum key and writes the auth file `shadw invoke --auth` takes.
 *
 * The key file holds one secp256k1 private key as hex (`0x…`); without `--key` the tenant
 * key in the data directory is used, created (mode 0600) on first use. `--call` binds the auth
 * to one call, and `--unlock` lets that call's executor fetch a gated key (docs/access.md).
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { parseArgs } from 'node:util'
import b4a from 'b4a'
import { generatePrivateKey, privateKeyToAccount } from 'viem/accounts'
import { checkFunctionId, signAuth, type FunctionId } from '../core/access/index.ts'
import { ShadwError } from '../core/errors.ts'
import { defaultDir } from '../super-node/data-dir.ts'

export const AUTH_USAGE = `shadw auth sign --fn PUBLISHER/NAME@VERSION --domain HOST[:PORT] [--key FILE] [--expires 5m]
                [--out FILE] [--chain-id N] [--call] [--unlock GRANT.json|KEYID]...
  signs a one-use SIWE auth for one exact function version; writes it to --out (default auth.json)
  --call     binds the auth to one call (a fresh call id, which shadw invoke uses as its nonce):
             needed by functions with secrets and by calls mounting a gated drive
  --unlock   lets that call's executor fetch this gated key for you (a drive key grant file, or a key id); implies --call
  --key      a file holding a secp256k1 private key as 0x-hex (default: the tenant key in the data directory, created on first use)
  --expires  lifetime: Ns or Nm, at most 15m (default 5m)
  --chain-id the chain id named in the SIWE message (default 1); a smart-contract wallet is checked on that chain
`

const DURATION = /^(\d{1,4})(s|m)$/
const PRIVATE_KEY = /^0x[0-9a-fA-F]{64}$/

/** Runs `shadw auth …`; resolves to the exit code. */
export async function authCommand (args: string[]): Promise<number> {
  const [sub, ...rest] = args
  if (sub !== 'sign') {
    process.stderr.write(`shadw: unknown auth command ${JSON.stringify(sub ?? '')}\n\n${AUTH_USAGE}`)
    return 2
  }
  const { values } = parseArgs({
    args: rest,
    options: {
      fn: { type: 'string' },
      domain: { type: 'string' },
      key: { type: 'string' },
      expires: { type: 'string', default: '5m' },
      out: { type: 'string', default: 'auth.json' },
      'chain-id': { type: 'string', default: '1' },
      call: { type: 'boolean', default: false },
      unlock: { type: 'string', multiple: true }
    },
    strict: true
  })
  if (values.fn === undefined || values.domain === undefined) throw ShadwError.INVALID_ARGUMENT('--fn and --domain are required')
  const fn = parseExactFunction(values.fn)
  const ttlMs = parseDuration(values.expires)
  const chainId = Number(values['chain-id'])
  if (!Number.isSafeInteger(chainId) || chainId <= 0) throw ShadwError.INVALID_ARGUMENT(`--chain-id must be a positive integer, got ${values['chain-id']}`)
  const keys = await Promise.all((values.unlock ?? []).map(unlockKeyId))
  // a fresh call id: the invocation's nonce, which the executor and the key holders check the auth against
  const call = values.call || keys.length > 0 ? b4a.toString(randomBytes(32), 'hex') : undefined
  const account = privateKeyToAccount(await loadKey(values.key))
  const auth = await signAuth(
    { getAddress: async () => account.address, signMessage: async message => await account.signMessage({ message }) },
    { domain: values.domain, fn, ttlMs, chainId, ...(call === undefined ? {} : { call }), ...(keys.length === 0 ? {} : { keys }) }
  )
  await writeFile(values.out, JSON.stringify(auth, null, 2) + '\n', { mode: 0o600 })
  process.stdout.write(`signed by ${account.address} for ${values.fn} on ${values.domain}, valid ${values.expires}: ${values.out}\n`)
  return 0
}

/** A key id given as 64 hex, or the key id of a drive key grant file. */
async function unlockKeyId (value: string): Promise<string> {
  if (/^[0-9a-f]{64}$/.test(value)) return value
  let grant: { keyId?: unknown }
  try { grant = JSON.parse(await readFile(value, 'utf8')) as { keyId?: unknown } } catch (err) { throw ShadwError.INVALID_ARGUMENT(`--unlock ${value}: neither a key id nor a key grant file (${(err as Error).message})`) }
  if (typeof grant.keyId !== 'string' || !/^[0-9a-f]{64}$/.test(grant.keyId)) throw ShadwError.INVALID_ARGUMENT(`--unlock ${value}: the file names no key id`)
  return grant.keyId
}

/** `PUBLISHER/NAME@VERSION` with an exact version (an auth binds one version). */
export function parseExactFunction (text: string): FunctionId {
  const m = /^([0-9a-f]{64})\/([^@/]+)@([^@/]+)$/.exec(text.trim())
  if (m === null) throw ShadwError.INVALID_FUNCTION_REF(text, 'expected PUBLISHER/NAME@VERSION with an exact version')
  return checkFunctionId({ publisher: m[1] as string, name: m[2] as string, version: m[3] as string })
}

/** `Ns` or `Nm`, within the SIWE lifetime shadw accepts. */
export function parseDuration (text: string): number {
  const m = DURATION.exec(text)
  const ms = m === null ? NaN : Number(m[1]) * (m[2] === 'm' ? 60_000 : 1000)
  if (!(ms > 0 && ms <= 15 * 60_000)) throw ShadwError.INVALID_ARGUMENT(`--expires must be like 90s or 5m, at most 15m; got ${JSON.stringify(text)}`)
  return ms
}

async function loadKey (file: string | undefined): Promise<`0x${string}`> {
  const path = file ?? join(defaultDir('data'), 'tenant.key')
  let text: string
  try {
    text = (await readFile(path, 'utf8')).trim()
  } catch (err) {
    if (file !== undefined || (err as { code?: string }).code !== 'ENOENT') throw ShadwError.INVALID_ARGUMENT(`cannot read the key file ${path}: ${(err as Error).message}`)
    const key = generatePrivateKey()
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, key + '\n', { mode: 0o600, flag: 'wx' })
    process.stderr.write(`created a tenant key at ${path}\n`)
    return key
  }
  if (!PRIVATE_KEY.test(text)) throw ShadwError.INVALID_ARGUMENT(`${path} must hold one private key as 0x and 64 hex characters`)
  return text as `0x${string}`
}

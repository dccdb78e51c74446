/**
 * `shadw auth sign --fn PUBLISHER/NAME@VERSION --domain HOST [--chain ethereum|solana|both]
 * [--key FILE] [--solana-key FILE] [--expires DURATION] [--out FILE] [--chain-id N]`: signs an
 * auth for one invocation of one exact function with a tenant's key and writes the auth file
 * `shadw invoke --auth` takes: SIWE with an Ethereum key, SIWS with a Solana one, or Lit's
 * per-family map `{ ethereum, solana }` for conditions naming both kinds of account.
 *
 * Key files are described in auth-keys.ts; without `--key` the tenant key in the data
 * directory is used, created (mode 0600) on first use. `--call` binds the auth to one call,
 * and `--unlock` lets that call's executor fetch a gated key (docs/access.md).
 */
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import b4a from 'b4a'
import { privateKeyToAccount } from 'viem/accounts'
import { checkFunctionId, signAuth, signSolanaAuth, type AuthMessageOptions, type FunctionId } from '../core/access/index.ts'
import { ShadwError } from '../core/errors.ts'
import { loadEthereumKey, loadSolanaKey } from './auth-keys.ts'

export const AUTH_USAGE = `shadw auth sign --fn PUBLISHER/NAME@VERSION --domain HOST[:PORT] [--chain ethereum|solana|both]
                [--key FILE] [--solana-key FILE] [--expires 5m] [--out FILE] [--chain-id N] [--call] [--unlock GRANT.json|KEYID]...
  signs a one-use auth for one exact function version; writes it to --out (default auth.json)
  --chain    ethereum (default): a SIWE auth; solana: a Sign In With Solana auth;
             both: Lit's per-family map { ethereum, solana }, for conditions on both kinds of account
  --call     binds the auth to one call (a fresh call id, which shadw invoke uses as its nonce):
             needed by functions with secrets and by calls mounting a gated drive (not with --chain both)
  --unlock   lets that call's executor fetch this gated key for you (a drive key grant file, or a key id); implies --call
  --key      the key of the chain signed for (with --chain both, the Ethereum key). Ethereum: a secp256k1
             private key as 0x + 64 hex (default tenant.key in the data directory, created on first use).
             Solana: an ed25519 secret key (seed then public key) as 0x + 128 hex, or a solana-keygen
             keypair JSON file (default tenant-solana.key in the data directory, created on first use)
  --solana-key  with --chain both, the Solana key file
  --expires  lifetime: Ns or Nm, at most 15m (default 5m)
  --chain-id the chain id named in the SIWE message (default 1); a smart-contract wallet is checked on that chain
`

const DURATION = /^(\d{1,4})(s|m)$/
const CHAINS = ['ethereum', 'solana', 'both'] as const

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
      chain: { type: 'string', default: 'ethereum' },
      key: { type: 'string' },
      'solana-key': { type: 'string' },
      expires: { type: 'string', default: '5m' },
      out: { type: 'string', default: 'auth.json' },
      'chain-id': { type: 'string' },
      call: { type: 'boolean', default: false },
      unlock: { type: 'string', multiple: true }
    },
    strict: true
  })
  if (values.fn === undefined || values.domain === undefined) throw ShadwError.INVALID_ARGUMENT('--fn and --domain are required')
  const chain = values.chain as typeof CHAINS[number]
  if (!CHAINS.includes(chain)) throw ShadwError.INVALID_ARGUMENT(`--chain must be ethereum, solana or both; got ${JSON.stringify(values.chain)}`)
  if (values['solana-key'] !== undefined && chain !== 'both') throw ShadwError.INVALID_ARGUMENT('--solana-key goes with --chain both; with --chain solana give the key as --key')
  if (values['chain-id'] !== undefined && chain === 'solana') throw ShadwError.INVALID_ARGUMENT('--chain-id names an EVM chain; a Solana auth has none')
  const fn = parseExactFunction(values.fn)
  const ttlMs = parseDuration(values.expires)
  const chainId = Number(values['chain-id'] ?? '1')
  if (!Number.isSafeInteger(chainId) || chainId <= 0) throw ShadwError.INVALID_ARGUMENT(`--chain-id must be a positive integer, got ${values['chain-id']}`)
  const keys = await Promise.all((values.unlock ?? []).map(unlockKeyId))
  // a map's call id would be found by neither the invoke client nor the key holders, which read one auth
  if (chain === 'both' && (values.call || keys.length > 0)) throw ShadwError.INVALID_ARGUMENT('--call and --unlock take one auth: use --chain ethereum or --chain solana')
  // a fresh call id: the invocation's nonce, which the executor and the key holders check the auth against
  const call = values.call || keys.length > 0 ? b4a.toString(randomBytes(32), 'hex') : undefined
  const options: AuthMessageOptions = { domain: values.domain, fn, ttlMs, ...(call === undefined ? {} : { call }), ...(keys.length === 0 ? {} : { keys }) }
  const signers: string[] = []
  const signEthereum = async (): Promise<unknown> => {
    const account = privateKeyToAccount(await loadEthereumKey(values.key))
    signers.push(account.address)
    return await signAuth({ getAddress: async () => account.address, signMessage: async message => await account.signMessage({ message }) }, { ...options, chainId })
  }
  const signSolana = async (file: string | undefined): Promise<unknown> => {
    const signer = await loadSolanaKey(file)
    signers.push(signer.address)
    return await signSolanaAuth(signer, options)
  }
  const auth = chain === 'ethereum'
    ? await signEthereum()
    : chain === 'solana'
      ? await signSolana(values.key)
      : { ethereum: await signEthereum(), solana: await signSolana(values['solana-key']) }
  await writeFile(values.out, JSON.stringify(auth, null, 2) + '\n', { mode: 0o600 })
  process.stdout.write(`signed by ${signers.join(' and ')} for ${values.fn} on ${values.domain}, valid ${values.expires}: ${values.out}\n`)
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

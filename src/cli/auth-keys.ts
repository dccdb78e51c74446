/**
 * The tenant key files `shadw auth sign` signs with: a secp256k1 key for Ethereum (SIWE) and
 * an ed25519 key for Solana (SIWS). Both are one line of `0x`-hex, like every shadw key file:
 * the Ethereum one the 32-byte private key, the Solana one the 64-byte ed25519 secret key
 * (seed then public key, as libsodium and Solana's own keypair files keep it). A Solana
 * keypair file as `solana-keygen new` writes it (a JSON array of those 64 bytes) is accepted
 * too, so a tenant can sign with the wallet key they already have.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { utils } from 'ethers'
import { generatePrivateKey } from 'viem/accounts'
import type { SolanaMessageSigner } from '../core/access/index.ts'
import { ShadwError } from '../core/errors.ts'
import { defaultDir } from '../super-node/data-dir.ts'

const PRIVATE_KEY = /^0x[0-9a-fA-F]{64}$/
const ED25519_SECRET = /^0x[0-9a-fA-F]{128}$/
/** A key file is one line; anything much larger is not one. */
const MAX_KEY_FILE_BYTES = 4096

/** The default key file names under the data directory. */
export const ETHEREUM_KEY_FILE = 'tenant.key'
export const SOLANA_KEY_FILE = 'tenant-solana.key'

/** Reads `file`, or the default key in the data directory, created (0600) by `create` on first use. */
async function readOrCreate (file: string | undefined, name: string, create: () => string): Promise<string> {
  const path = file ?? join(defaultDir('data'), name)
  try {
    const text = await readFile(path, 'utf8')
    if (text.length > MAX_KEY_FILE_BYTES) throw ShadwError.INVALID_ARGUMENT(`${path} is larger than a key file (${MAX_KEY_FILE_BYTES} bytes)`)
    return text.trim()
  } catch (err) {
    if (err instanceof ShadwError) throw err
    if (file !== undefined || (err as { code?: string }).code !== 'ENOENT') throw ShadwError.INVALID_ARGUMENT(`cannot read the key file ${path}: ${(err as Error).message}`)
    const key = create()
    await mkdir(dirname(path), { recursive: true })
    await writeFile(path, key + '\n', { mode: 0o600, flag: 'wx' })
    process.stderr.write(`created a tenant key at ${path}\n`)
    return key
  }
}

/**
 * The secp256k1 private key in `file` (default: `tenant.key` in the data directory).
 *
 * @throws ShadwError `INVALID_ARGUMENT` when the file cannot be read or holds no such key.
 */
export async function loadEthereumKey (file: string | undefined): Promise<`0x${string}`> {
  const text = await readOrCreate(file, ETHEREUM_KEY_FILE, generatePrivateKey)
  if (!PRIVATE_KEY.test(text)) throw ShadwError.INVALID_ARGUMENT(`${file ?? ETHEREUM_KEY_FILE} must hold one secp256k1 private key as 0x and 64 hex characters`)
  return text as `0x${string}`
}

/**
 * A Solana signer for the ed25519 key in `file` (default: `tenant-solana.key` in the data directory).
 *
 * @throws ShadwError `INVALID_ARGUMENT` when the file cannot be read, holds no 64-byte
 * ed25519 secret key, or its public half is not the seed's.
 */
export async function loadSolanaKey (file: string | undefined): Promise<SolanaMessageSigner> {
  const text = await readOrCreate(file, SOLANA_KEY_FILE, () => '0x' + b4a.toString(crypto.keyPair().secretKey, 'hex'))
  return solanaSigner(parseSolanaKey(text, file ?? SOLANA_KEY_FILE))
}

/** The 64-byte ed25519 secret key a Solana key file holds, checked. */
export function parseSolanaKey (text: string, name: string): Uint8Array {
  let secret: Uint8Array
  if (ED25519_SECRET.test(text)) {
    secret = b4a.from(text.slice(2), 'hex')
  } else if (text.startsWith('[')) {
    let bytes: unknown
    try { bytes = JSON.parse(text) } catch { bytes = null }
    if (!Array.isArray(bytes) || bytes.length !== 64 || !bytes.every(b => Number.isInteger(b) && b >= 0 && b <= 255)) {
      throw ShadwError.INVALID_ARGUMENT(`${name} is not a Solana keypair file: expected a JSON array of 64 bytes`)
    }
    secret = b4a.from(bytes as number[])
  } else {
    throw ShadwError.INVALID_ARGUMENT(`${name} must hold one ed25519 secret key as 0x and 128 hex characters (or a solana-keygen JSON array of 64 bytes)`)
  }
  // the public half must be the seed's, or the signature would not verify for the address shown
  const derived = crypto.keyPair(secret.subarray(0, 32))
  if (!b4a.equals(derived.publicKey, secret.subarray(32))) throw ShadwError.INVALID_ARGUMENT(`${name}: the public key in the file is not the one its seed gives`)
  return secret
}

/** Signs with `secret` (64 bytes), named by its base58 public key. */
export function solanaSigner (secret: Uint8Array): SolanaMessageSigner {
  const key = b4a.from(secret)
  return {
    address: utils.base58.encode(key.subarray(32)),
    signMessage: async message => crypto.sign(b4a.from(message), key)
  }
}

/**
 * Tenant identity for Solana accounts: a Sign In With Solana (SIWS) message, the EIP-4361
 * text with "Solana account" and a base58 public key, signed with the wallet's ed25519 key
 * (`solana.signMessage`), carried as a Lit AuthSig with `derivedVia: 'solana.signMessage'` and
 * the 64-byte signature in hex (Lit's form). It binds the same things a SIWE auth binds
 * (domain, function, call, nonce, validity window), checked by siwe-auth.ts's one verifier.
 *
 * Why not Lit's own Solana auth: its message is a bare timestamp, so (as Lit's documentation
 * warns) any ed25519 signature the wallet ever made, a transaction's included, authenticates
 * it. A SIWS message names the site and the function, and ed25519 signatures of a
 * transaction can never be a valid signature of this text.
 *
 * The parser is ours: the `siwe` package parses only Ethereum messages, and no SIWS parser is
 * a dependency; the grammar is EIP-4361's, line by line, and anything it does not allow is refused.
 */
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { utils } from 'ethers'
import { ShadwError } from '../errors.ts'
import { isSolanaAddress } from './solana-rpc.ts'

/** Lit's `derivedVia` for a Solana wallet's signature. */
export const DERIVED_VIA_SOLANA = 'solana.signMessage'
const HEADER = ' wants you to sign in with your Solana account:'

/** The fields of a SIWS message, named as `siwe`'s SiweMessage names them. */
export interface SolanaAuthMessage {
  domain: string
  address: string
  statement?: string
  uri: string
  version: string
  chainId?: string
  nonce: string
  issuedAt?: string
  expirationTime?: string
  notBefore?: string
  resources?: string[]
}

/** Something that signs bytes with a Solana account's ed25519 key (a wallet adapter's `signMessage`). */
export interface SolanaMessageSigner {
  /** base58 public key */
  address: string
  signMessage (message: Uint8Array): Promise<Uint8Array>
}

/** The SIWS text for `fields` (the order and labels of EIP-4361). */
export function formatSolanaAuthMessage (m: SolanaAuthMessage): string {
  if (!isSolanaAddress(m.address)) throw ShadwError.INVALID_ARGUMENT(`not a Solana public key: ${JSON.stringify(String(m.address).slice(0, 64))}`)
  const lines = [`${m.domain}${HEADER}`, m.address, '']
  if (m.statement !== undefined) lines.push(m.statement, '')
  lines.push(`URI: ${m.uri}`, `Version: ${m.version}`)
  if (m.chainId !== undefined) lines.push(`Chain ID: ${m.chainId}`)
  lines.push(`Nonce: ${m.nonce}`)
  if (m.issuedAt !== undefined) lines.push(`Issued At: ${m.issuedAt}`)
  if (m.expirationTime !== undefined) lines.push(`Expiration Time: ${m.expirationTime}`)
  if (m.notBefore !== undefined) lines.push(`Not Before: ${m.notBefore}`)
  if (m.resources !== undefined && m.resources.length > 0) lines.push('Resources:', ...m.resources.map(r => `- ${r}`))
  return lines.join('\n')
}

/**
 * Parses a SIWS message.
 *
 * @throws ShadwError `AUTH_MALFORMED` for anything that is not one.
 */
export function parseSolanaAuthMessage (text: string): SolanaAuthMessage {
  const bad = (why: string): ShadwError => ShadwError.AUTH_MALFORMED('not a Sign In With Solana message: ' + why)
  const lines = text.split('\n')
  const head = lines[0] ?? ''
  if (!head.endsWith(HEADER)) throw bad('no header')
  const domain = head.slice(0, -HEADER.length)
  if (!/^[A-Za-z0-9.-]+(:\d{1,5})?$/.test(domain)) throw bad('bad domain')
  const address = lines[1] ?? ''
  if (!isSolanaAddress(address)) throw bad('bad address')
  if (lines[2] !== '') throw bad('no blank line after the address')
  let at = 3
  let statement: string | undefined
  if (lines[at] !== undefined && !(lines[at] as string).startsWith('URI: ')) {
    statement = lines[at] as string
    if (lines[at + 1] !== '') throw bad('no blank line after the statement')
    at += 2
  }
  const fields = new Map<string, string>()
  const order = ['URI', 'Version', 'Chain ID', 'Nonce', 'Issued At', 'Expiration Time', 'Not Before', 'Request ID']
  let next = 0
  const resources: string[] = []
  for (; at < lines.length; at++) {
    const line = lines[at] as string
    if (line === 'Resources:') {
      for (at++; at < lines.length; at++) {
        const r = lines[at] as string
        if (!r.startsWith('- ') || r.length < 3) throw bad('bad resource line')
        resources.push(r.slice(2))
      }
      break
    }
    const colon = line.indexOf(': ')
    const label = colon < 0 ? '' : line.slice(0, colon)
    const index = order.indexOf(label, next)
    if (index < 0) throw bad(`unexpected line ${JSON.stringify(line.slice(0, 40))}`)
    fields.set(label, line.slice(colon + 2))
    next = index + 1
  }
  const uri = fields.get('URI')
  const version = fields.get('Version')
  const nonce = fields.get('Nonce')
  if (uri === undefined || version !== '1' || nonce === undefined || !/^[A-Za-z0-9]{8,}$/.test(nonce)) throw bad('URI, Version 1 and an alphanumeric Nonce are required')
  const opt = (label: string, key: keyof SolanaAuthMessage): Partial<SolanaAuthMessage> => fields.has(label) ? { [key]: fields.get(label) } : {}
  return {
    domain,
    address,
    uri,
    version,
    nonce,
    ...(statement === undefined ? {} : { statement }),
    ...opt('Chain ID', 'chainId'),
    ...opt('Issued At', 'issuedAt'),
    ...opt('Expiration Time', 'expirationTime'),
    ...opt('Not Before', 'notBefore'),
    ...(resources.length === 0 ? {} : { resources })
  }
}

/** True when `sigHex` (64 bytes, hex) is `address`'s ed25519 signature of `message`'s UTF-8 bytes. */
export function verifySolanaSignature (message: string, sigHex: string, address: string): boolean {
  try {
    const sig = b4a.from(sigHex.replace(/^0x/, ''), 'hex')
    const key = b4a.from(utils.base58.decode(address))
    if (sig.byteLength !== 64 || key.byteLength !== 32) return false
    return crypto.verify(b4a.from(message, 'utf8'), sig, key)
  } catch {
    return false
  }
}

/**
 * Tenant identity: an EIP-4361 (Sign-In with Ethereum) message signed with EIP-191
 * `personal_sign`, carried as a Lit `AuthSig` so the same value can be handed to the Lit
 * network's `decrypt` when a function's conditions need chain state.
 *
 * What the message binds (see docs/access.md):
 * - `domain`: an app domain (host[:port]) the verifier accepts: the function's publisher's
 *   list when its manifest has one, else the node's own; a signature made for another site
 *   is refused;
 * - `resources`: exactly one `shadw:fn:<publisher>/<name>@<version>` (see function-id.ts);
 * - `nonce`: single use per node (see replay-guard.ts);
 * - `expirationTime` (required) and optionally `notBefore`, with a bounded lifetime.
 *
 * Verification is offline: parse with the `siwe` package, recover the signer with ethers.
 */
import { SiweMessage } from 'siwe'
import { utils } from 'ethers'
import type { AuthSig } from '@lit-protocol/types'
import { ShadwError } from '../errors.ts'
import { type FunctionId, FUNCTION_RESOURCE_PREFIX, functionResource } from './function-id.ts'
import type { ReplayGuard } from './replay-guard.ts'

/** Lit's `derivedVia` for an EIP-191 `personal_sign` signature. */
export const DERIVED_VIA = 'web3.eth.personal.sign'
/** Default lifetime of a new auth: long enough for a slow wallet prompt and a retry. */
export const DEFAULT_AUTH_TTL_MS = 5 * 60_000
/** Longest accepted lifetime; bounds how long a node must remember a nonce. */
export const MAX_AUTH_LIFETIME_MS = 15 * 60_000
/** Tolerated clock difference between tenant and node for `issuedAt`/`notBefore` (not for expiry). */
export const DEFAULT_CLOCK_SKEW_MS = 30_000
/** A SIWE message with one resource is well under 1 KiB; this refuses abuse before parsing. */
export const MAX_AUTH_MESSAGE_BYTES = 4096
/** Lit's `derivedVia` for a smart-contract wallet's (EIP-1271) signature. */
export const DERIVED_VIA_CONTRACT = 'EIP1271'
/** An EIP-191 signature (r, s, v: 65 bytes), or a contract wallet's (EIP-1271/6492: longer, bounded), hex with 0x. */
const SIGNATURE = /^0x(?:[0-9a-fA-F]{2}){65,4096}$/

/** Options of {@link createAuthMessage}. */
export interface AuthMessageOptions {
  /** the app's domain (host[:port]) as the tenant's page sees it */
  domain: string
  /** the function the auth is for */
  fn: FunctionId
  /** the signing page's URI (default `https://<domain>`) */
  uri?: string
  /** default: 24 random hex characters */
  nonce?: string
  /** ms since the epoch (default now) */
  issuedAt?: number
  /** lifetime in ms (default {@link DEFAULT_AUTH_TTL_MS}) */
  ttlMs?: number
  /** ms since the epoch before which the auth is not valid */
  notBefore?: number
  /** EIP-155 chain id (default 1); Lit takes the chain from the conditions, not from here */
  chainId?: number
}

/** Something that can sign an EIP-191 message: an ethers Wallet, or see eip1193-signer.ts. */
export interface MessageSigner {
  getAddress (): Promise<string>
  signMessage (message: string): Promise<string>
}

/** A verified auth: who the tenant is and until when this auth holds. */
export interface VerifiedAuth {
  /** EIP-55 checksummed address */
  readonly address: string
  readonly nonce: string
  /** ms since the epoch */
  readonly expiresAt: number
  /** the auth as received, to hand to the Lit network */
  readonly authSig: AuthSig
}

/** Options of {@link verifyAuth}. */
export interface VerifyAuthOptions {
  /** the app domain the auth must name, or the domains of which it must name one */
  domain: string | readonly string[]
  /** the function being invoked */
  fn: FunctionId
  /** records the nonce; leave out only to check without consuming (e.g. in a UI) */
  replay?: ReplayGuard
  /** ms since the epoch (default now) */
  now?: number
  /** default {@link MAX_AUTH_LIFETIME_MS} */
  maxLifetimeMs?: number
  /** default {@link DEFAULT_CLOCK_SKEW_MS} */
  clockSkewMs?: number
  /**
   * set only by {@link verifyAuthWith} once a contract wallet accepted the signature
   * (EIP-1271/6492): the signature is then not recovered as an EOA's
   */
  signatureChecked?: boolean
}

/**
 * Checks a signature an EOA did not make: `true` when the wallet at `address` (deployed, or
 * counterfactual with EIP-6492) accepts it for `message` on chain `chainId`.
 */
export type ContractSignatureCheck = (address: string, message: string, signature: string, chainId: number) => Promise<boolean>

/** A fresh SIWE nonce (EIP-4361 asks for at least 8 alphanumerics). */
export function newNonce (): string {
  const bytes = new Uint8Array(12)
  crypto.getRandomValues(bytes)
  let out = ''
  for (const b of bytes) out += b.toString(16).padStart(2, '0')
  return out
}

/** Builds the SIWE message a tenant signs to invoke `options.fn` once. */
export function createAuthMessage (address: string, options: AuthMessageOptions): string {
  const issuedAt = options.issuedAt ?? Date.now()
  const ttl = options.ttlMs ?? DEFAULT_AUTH_TTL_MS
  if (!Number.isFinite(ttl) || ttl <= 0 || ttl > MAX_AUTH_LIFETIME_MS) throw ShadwError.INVALID_ARGUMENT(`ttlMs must be in 1..${MAX_AUTH_LIFETIME_MS}`)
  let checksummed: string
  try {
    checksummed = utils.getAddress(address)
  } catch {
    throw ShadwError.INVALID_ARGUMENT(`not an Ethereum address: ${JSON.stringify(String(address).slice(0, 64))}`)
  }
  const fn = options.fn
  const message = new SiweMessage({
    domain: options.domain,
    address: checksummed,
    statement: `Invoke the shadw function ${fn.name}@${fn.version} once.`,
    uri: options.uri ?? `https://${options.domain}`,
    version: '1',
    chainId: options.chainId ?? 1,
    nonce: options.nonce ?? newNonce(),
    issuedAt: new Date(issuedAt).toISOString(),
    expirationTime: new Date((options.notBefore ?? issuedAt) + ttl).toISOString(),
    ...(options.notBefore === undefined ? {} : { notBefore: new Date(options.notBefore).toISOString() }),
    resources: [functionResource(fn)]
  })
  try {
    return message.prepareMessage()
  } catch (err) {
    throw ShadwError.INVALID_ARGUMENT('cannot build the SIWE message: ' + String(err instanceof Error ? err.message : err))
  }
}

/**
 * Signs a fresh auth for one invocation of `options.fn`.
 *
 * @example
 * ```ts
 * const authSig = await signAuth(new Wallet(privateKey), { domain: location.host, fn })
 * ```
 */
export async function signAuth (signer: MessageSigner, options: AuthMessageOptions): Promise<AuthSig> {
  const address = utils.getAddress(await signer.getAddress())
  const signedMessage = createAuthMessage(address, options)
  const sig = await signer.signMessage(signedMessage)
  return { sig, derivedVia: DERIVED_VIA, signedMessage, address }
}

/**
 * Verifies an auth offline and, when `options.replay` is given, consumes its nonce.
 *
 * Checks, in order: shape (`AUTH_MALFORMED`), signature recovers to the claimed address
 * (`AUTH_FORGED`), domain (`AUTH_WRONG_DOMAIN`), function (`AUTH_WRONG_FUNCTION`), validity
 * window (`AUTH_EXPIRED`), nonce unused (`AUTH_REPLAYED`). The nonce is consumed only when
 * every other check passed, so refused auth cannot fill the replay set.
 */
export function verifyAuth (value: unknown, options: VerifyAuthOptions): VerifiedAuth {
  const authSig = readAuthSig(value)
  let message: SiweMessage
  try {
    message = new SiweMessage(authSig.signedMessage)
  } catch (err) {
    throw ShadwError.AUTH_MALFORMED('not an EIP-4361 message: ' + parseReason(err))
  }

  const claimed = message.address.toLowerCase()
  if (authSig.address.toLowerCase() !== claimed) throw ShadwError.AUTH_FORGED('auth signature does not match its address', { address: authSig.address })
  if (options.signatureChecked !== true) {
    let recovered: string
    try {
      recovered = utils.verifyMessage(authSig.signedMessage, authSig.sig)
    } catch {
      throw ShadwError.AUTH_FORGED('signature does not recover to any address')
    }
    if (recovered.toLowerCase() !== claimed) throw ShadwError.AUTH_FORGED('auth signature does not match its address', { address: authSig.address })
  }

  const accepted = typeof options.domain === 'string' ? [options.domain] : options.domain
  if (!accepted.includes(message.domain)) throw ShadwError.AUTH_WRONG_DOMAIN(message.domain, typeof options.domain === 'string' ? options.domain : accepted)

  const expected = functionResource(options.fn)
  const bindings = (message.resources ?? []).filter(r => r.startsWith(FUNCTION_RESOURCE_PREFIX))
  if (bindings.length > 1) throw ShadwError.AUTH_MALFORMED('auth names more than one function')
  if (bindings.length === 0) throw ShadwError.AUTH_WRONG_FUNCTION('auth is not bound to any function', { expected })
  if (bindings[0] !== expected) throw ShadwError.AUTH_WRONG_FUNCTION('auth is for another function', { got: bindings[0], expected })

  const now = options.now ?? Date.now()
  const skew = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS
  const maxLifetime = options.maxLifetimeMs ?? MAX_AUTH_LIFETIME_MS
  if (message.expirationTime === undefined) throw ShadwError.AUTH_MALFORMED('auth has no expiration time')
  const expiresAt = Date.parse(message.expirationTime)
  const issuedAt = Date.parse(message.issuedAt ?? '')
  const notBefore = message.notBefore === undefined ? issuedAt : Date.parse(message.notBefore)
  if (!Number.isFinite(expiresAt) || !Number.isFinite(issuedAt) || !Number.isFinite(notBefore)) throw ShadwError.AUTH_MALFORMED('auth has an unreadable time')
  const lifetime = expiresAt - Math.max(issuedAt, notBefore)
  if (lifetime > maxLifetime) throw ShadwError.AUTH_MALFORMED(`auth lifetime of ${lifetime} ms exceeds ${maxLifetime} ms`, { lifetimeMs: lifetime, limit: maxLifetime })
  if (now >= expiresAt) throw ShadwError.AUTH_EXPIRED('auth signature expired', { expiresAt, now })
  if (notBefore > now + skew) throw ShadwError.AUTH_EXPIRED('auth signature is not valid yet', { notBefore, now })
  if (issuedAt > now + skew) throw ShadwError.AUTH_EXPIRED('auth signature is issued in the future', { issuedAt, now })

  options.replay?.use(message.address, message.nonce, expiresAt)
  return { address: utils.getAddress(message.address), nonce: message.nonce, expiresAt, authSig }
}

/**
 * {@link verifyAuth}, and when the signature is not an EOA's and the auth says it is a contract
 * wallet's (`derivedVia: 'EIP1271'`), asks `check` whether the address is a contract wallet
 * that accepts it (EIP-1271, or EIP-6492 before deployment).
 * Every other check is the same; the nonce is consumed only once everything passed.
 */
export async function verifyAuthWith (value: unknown, options: VerifyAuthOptions, check: ContractSignatureCheck | undefined): Promise<VerifiedAuth> {
  try {
    return verifyAuth(value, { ...options, signatureChecked: false })
  } catch (err) {
    if (check === undefined || !(err instanceof ShadwError) || err.code !== 'AUTH_FORGED') throw err
    const authSig = readAuthSig(value)
    let message: SiweMessage
    try {
      message = new SiweMessage(authSig.signedMessage)
    } catch {
      throw err
    }
    // only auth that says it is a contract wallet's costs a chain read: a forged EOA auth never does
    if (authSig.derivedVia !== DERIVED_VIA_CONTRACT || authSig.address.toLowerCase() !== message.address.toLowerCase()) throw err
    // cheap checks first, so a forged auth for the wrong site or function costs no chain read
    const { replay: _consumedLater, ...dry } = options
    verifyAuth(value, { ...dry, signatureChecked: true })
    if (!await check(message.address, authSig.signedMessage, authSig.sig, message.chainId)) throw err
    return verifyAuth(value, { ...options, signatureChecked: true })
  }
}

function readAuthSig (value: unknown): AuthSig {
  if (typeof value !== 'object' || value === null) throw ShadwError.AUTH_MALFORMED('auth must be an object { sig, derivedVia, signedMessage, address }')
  const v = value as Record<string, unknown>
  const { sig, derivedVia, signedMessage, address } = v
  if (typeof sig !== 'string' || typeof derivedVia !== 'string' || typeof signedMessage !== 'string' || typeof address !== 'string') {
    throw ShadwError.AUTH_MALFORMED('auth must have string fields sig, derivedVia, signedMessage, address')
  }
  if (signedMessage.length > MAX_AUTH_MESSAGE_BYTES) throw ShadwError.AUTH_MALFORMED(`auth message longer than ${MAX_AUTH_MESSAGE_BYTES} characters`)
  if (derivedVia !== DERIVED_VIA && derivedVia !== DERIVED_VIA_CONTRACT) throw ShadwError.AUTH_MALFORMED(`derivedVia must be ${DERIVED_VIA} or ${DERIVED_VIA_CONTRACT}`)
  if (!SIGNATURE.test(sig)) throw ShadwError.AUTH_MALFORMED('sig must be a hex signature of 65 to 4096 bytes')
  return { sig, derivedVia, signedMessage, address }
}

/** The siwe parser throws strings, Errors, or its own error objects; keep a short reason. */
function parseReason (err: unknown): string {
  const text = err instanceof Error ? err.message : typeof err === 'string' ? err : JSON.stringify(err)
  return text.slice(0, 200)
}

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
 * Solana accounts sign the same bindings as a Sign In With Solana message (siws-auth.ts,
 * ed25519), checked here by the same code once parsed and verified.
 */
import { SiweMessage } from 'siwe'
import { utils } from 'ethers'
import type { AuthSig } from '@lit-protocol/types'
import { ShadwError } from '../errors.ts'
import { CALL_RESOURCE_PREFIX, type FunctionId, FUNCTION_RESOURCE_PREFIX, functionResource, KEY_RESOURCE_PREFIX } from './function-id.ts'
import type { ReplayGuard } from './replay-guard.ts'
import { DERIVED_VIA_SOLANA, formatSolanaAuthMessage, parseSolanaAuthMessage, type SolanaMessageSigner, verifySolanaSignature } from './siws-auth.ts'

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
/** Most extra keys one auth lets a call fetch (the drives a call may mount, and some). */
export const MAX_AUTH_KEYS = 16
const HEX64 = /^[0-9a-f]{64}$/

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
  /**
   * binds the auth to one call: the request nonce (64 hex), which the invocation then uses;
   * needed by functions with secrets and by calls mounting gated drives
   */
  call?: string
  /** key ids (64 hex) the call's executor may fetch on the tenant's behalf besides the function's own secrets (a gated drive it mounts) */
  keys?: readonly string[]
}

/** The fields of a parsed SIWE or SIWS message that the checks read. */
type AuthFields = Pick<SiweMessage, 'domain' | 'address' | 'nonce' | 'resources' | 'expirationTime' | 'issuedAt' | 'notBefore'>

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
  /** the call it is bound to (`shadw:call:`), 64 hex; absent when unbound */
  readonly call?: string
  /** the extra keys it lets the call fetch (`shadw:key:`); absent when none */
  readonly keys?: readonly string[]
}

/** Options of {@link verifyAuth}. */
export interface VerifyAuthOptions {
  /** the app domain the auth must name, or the domains of which it must name one */
  domain: string | readonly string[]
  /** the function being invoked */
  fn: FunctionId
  /** records the nonce; leave out only to check without consuming (e.g. in a UI) */
  replay?: ReplayGuard
  /**
   * whose use of the nonce this is (a requester's node key): set, the nonce is spent per
   * (auth, scope), for a bounded number of scopes (see replay-guard.ts)
   */
  replayScope?: string
  /** the call the auth must be bound to (`shadw:call:<call>`), 64 hex */
  call?: string
  /**
   * a key holder's check for a call: the auth need not be bound to `fn` (the key's function)
   * if it names this key id (`shadw:key:<key>`); it must then be bound to `call`
   */
  key?: string
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
    resources: [functionResource(fn), ...callResources(options)]
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
 * Signs a fresh auth for one invocation of `options.fn` with a Solana account: a Sign In With
 * Solana message (siws-auth.ts) with the bindings of {@link createAuthMessage}.
 */
export async function signSolanaAuth (signer: SolanaMessageSigner, options: AuthMessageOptions): Promise<AuthSig> {
  const issuedAt = options.issuedAt ?? Date.now()
  const ttl = options.ttlMs ?? DEFAULT_AUTH_TTL_MS
  if (!Number.isFinite(ttl) || ttl <= 0 || ttl > MAX_AUTH_LIFETIME_MS) throw ShadwError.INVALID_ARGUMENT(`ttlMs must be in 1..${MAX_AUTH_LIFETIME_MS}`)
  const fn = options.fn
  const signedMessage = formatSolanaAuthMessage({
    domain: options.domain,
    address: signer.address,
    statement: `Invoke the shadw function ${fn.name}@${fn.version} once.`,
    uri: options.uri ?? `https://${options.domain}`,
    version: '1',
    nonce: options.nonce ?? newNonce(),
    issuedAt: new Date(issuedAt).toISOString(),
    expirationTime: new Date((options.notBefore ?? issuedAt) + ttl).toISOString(),
    ...(options.notBefore === undefined ? {} : { notBefore: new Date(options.notBefore).toISOString() }),
    resources: [functionResource(fn), ...callResources(options)]
  })
  const sig = await signer.signMessage(new TextEncoder().encode(signedMessage))
  let hex = ''
  for (const b of sig) hex += b.toString(16).padStart(2, '0')
  return { sig: hex, derivedVia: DERIVED_VIA_SOLANA, signedMessage, address: signer.address }
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
  const message = parseMessage(authSig)
  const solana = authSig.derivedVia === DERIVED_VIA_SOLANA
  // base58 is case-sensitive; EVM addresses are not
  const claimed = solana ? message.address : message.address.toLowerCase()
  if ((solana ? authSig.address : authSig.address.toLowerCase()) !== claimed) throw ShadwError.AUTH_FORGED('auth signature does not match its address', { address: authSig.address })
  if (solana) {
    if (!verifySolanaSignature(authSig.signedMessage, authSig.sig, message.address)) throw ShadwError.AUTH_FORGED('not this Solana account\'s signature of the message', { address: authSig.address })
  } else if (options.signatureChecked !== true) {
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
  const resources = message.resources ?? []
  const bindings = resources.filter(r => r.startsWith(FUNCTION_RESOURCE_PREFIX))
  const calls = resources.filter(r => r.startsWith(CALL_RESOURCE_PREFIX)).map(r => r.slice(CALL_RESOURCE_PREFIX.length))
  const keys = resources.filter(r => r.startsWith(KEY_RESOURCE_PREFIX)).map(r => r.slice(KEY_RESOURCE_PREFIX.length))
  if (bindings.length > 1) throw ShadwError.AUTH_MALFORMED('auth names more than one function')
  if (calls.length > 1 || calls.some(c => !HEX64.test(c))) throw ShadwError.AUTH_MALFORMED('auth names more than one call, or a call that is not 64 hex')
  if (keys.length > MAX_AUTH_KEYS || keys.some(k => !HEX64.test(k))) throw ShadwError.AUTH_MALFORMED(`auth names more than ${MAX_AUTH_KEYS} keys, or a key id that is not 64 hex`)
  if (bindings.length === 0) throw ShadwError.AUTH_WRONG_FUNCTION('auth is not bound to any function', { expected })
  const call = calls[0] ?? null
  if (options.key !== undefined) {
    // a holder asked for a key during a call: the tenant agreed to it by invoking the key's
    // function, or by naming the key
    if (bindings[0] !== expected && !keys.includes(options.key)) throw ShadwError.AUTH_WRONG_CALL('the auth does not let this call fetch this key', { key: options.key })
  } else if (bindings[0] !== expected) {
    throw ShadwError.AUTH_WRONG_FUNCTION('auth is for another function', { got: bindings[0], expected })
  }
  if ((options.call !== undefined || options.key !== undefined) && (call === null || call !== options.call)) throw ShadwError.AUTH_WRONG_CALL('the auth is not bound to this call', { call: options.call ?? null, got: call })

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

  options.replay?.use(message.address, message.nonce, expiresAt, options.replayScope)
  return { address: solana ? message.address : utils.getAddress(message.address), nonce: message.nonce, expiresAt, authSig, ...(call === null ? {} : { call }), ...(keys.length === 0 ? {} : { keys }) }
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

/** The resources binding an auth to a call and the extra keys it may fetch. */
function callResources (options: AuthMessageOptions): string[] {
  const out: string[] = []
  if (options.call !== undefined) {
    if (!HEX64.test(options.call)) throw ShadwError.INVALID_ARGUMENT('call must be 64 lowercase hex characters (the request nonce)')
    out.push(CALL_RESOURCE_PREFIX + options.call)
  }
  const keys = options.keys ?? []
  if (keys.length > MAX_AUTH_KEYS || keys.some(k => !HEX64.test(k))) throw ShadwError.INVALID_ARGUMENT(`keys must be at most ${MAX_AUTH_KEYS} key ids of 64 lowercase hex characters`)
  for (const k of new Set(keys)) out.push(KEY_RESOURCE_PREFIX + k)
  return out
}

/** The call an auth is bound to (`shadw:call:`), without verifying anything: what a caller uses as the request nonce. */
export function authCall (value: unknown): string | null {
  try {
    const message = parseMessage(readAuthSig(value))
    const calls = (message.resources ?? []).filter(r => r.startsWith(CALL_RESOURCE_PREFIX)).map(r => r.slice(CALL_RESOURCE_PREFIX.length))
    return calls.length === 1 && HEX64.test(calls[0] as string) ? calls[0] as string : null
  } catch {
    return null
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
  if (derivedVia !== DERIVED_VIA && derivedVia !== DERIVED_VIA_CONTRACT && derivedVia !== DERIVED_VIA_SOLANA) throw ShadwError.AUTH_MALFORMED(`derivedVia must be ${DERIVED_VIA}, ${DERIVED_VIA_CONTRACT} or ${DERIVED_VIA_SOLANA}`)
  if (derivedVia === DERIVED_VIA_SOLANA) {
    if (!/^(0x)?[0-9a-fA-F]{128}$/.test(sig)) throw ShadwError.AUTH_MALFORMED('a Solana sig must be a 64-byte ed25519 signature in hex')
  } else if (!SIGNATURE.test(sig)) throw ShadwError.AUTH_MALFORMED('sig must be a hex signature of 65 to 4096 bytes')
  return { sig, derivedVia, signedMessage, address }
}

/** The auth's message, parsed as SIWS for a Solana account's auth, else as SIWE. */
function parseMessage (authSig: AuthSig): AuthFields {
  if (authSig.derivedVia === DERIVED_VIA_SOLANA) return parseSolanaAuthMessage(authSig.signedMessage)
  try {
    return new SiweMessage(authSig.signedMessage)
  } catch (err) {
    throw ShadwError.AUTH_MALFORMED('not an EIP-4361 message: ' + parseReason(err))
  }
}

/** The siwe parser throws strings, Errors, or its own error objects; keep a short reason. */
function parseReason (err: unknown): string {
  const text = err instanceof Error ? err.message : typeof err === 'string' ? err : JSON.stringify(err)
  return text.slice(0, 200)
}

/**
 * The Lit gate: for conditions that need chain state, the Lit network decides.
 *
 * At publish time the publisher encrypts a random per-function secret under the function's
 * conditions ({@link encryptFunctionSecret}, `LitNodeClient.encrypt`: local maths once
 * connected). At call time the node asks the Lit network to decrypt it with the tenant's
 * auth signature (`LitNodeClient.decrypt`): each Lit node checks the auth signature and
 * evaluates the conditions for the signer, and only then returns its BLS signature share.
 * A successful decryption therefore proves that the conditions hold for the tenant.
 *
 * Pass decisions are cached per (function, tenant, conditions hash) for a bounded time;
 * refusals are not cached (a tenant who just bought the token may retry at once). The Lit
 * client is created on the first call that needs it, never before.
 */
import { ShadwError } from '../errors.ts'
import { isHexKey } from '../hex.ts'
import { log } from '../log.ts'
import type { AccessConditions, AccessPolicy } from './conditions.ts'
import { type FunctionId, functionKey } from './function-id.ts'
import { type LitClient, litMessage, withDeadline } from './lit-client.ts'
import type { VerifiedAuth } from './siwe-auth.ts'

const debug = log('access')

/** A pass is trusted this long without asking Lit again: short, since balances change. */
export const DEFAULT_PASS_TTL_MS = 60_000
/** Most cached passes; the oldest is dropped first. */
export const DEFAULT_PASS_CACHE_ENTRIES = 10_000
/** Bound on one decryption round trip to the Lit nodes (the SDK's own fetches have none). */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000

/** What a manifest carries for the Lit gate: Lit's ciphertext of the per-function secret. */
export interface LitSecret {
  /** base64, as `LitNodeClient.encrypt` returns it */
  ciphertext: string
  /** SHA-256 of the secret, hex, as `LitNodeClient.encrypt` returns it */
  dataToEncryptHash: string
}

/** Options of {@link LitGate}. */
export interface LitGateOptions {
  /** makes a ready client; called once, on the first call that needs Lit (and again after a failure) */
  connect: (signal?: AbortSignal) => Promise<LitClient>
  /** default {@link DEFAULT_PASS_TTL_MS} */
  passTtlMs?: number
  /** default {@link DEFAULT_PASS_CACHE_ENTRIES} */
  maxCacheEntries?: number
  /** default {@link DEFAULT_REQUEST_TIMEOUT_MS} */
  requestTimeoutMs?: number
  /** clock, ms since the epoch (default `Date.now`) */
  now?: () => number
}

/** One question to the gate. */
export interface LitCheck {
  fn: FunctionId
  policy: AccessPolicy
  auth: VerifiedAuth
  secret: LitSecret
  signal?: AbortSignal
}

/**
 * Asks the Lit network whether a tenant meets a function's conditions.
 *
 * @example
 * ```ts
 * const gate = new LitGate({ connect: signal => connectLit({ signal }) })
 * await gate.check({ fn, policy, auth, secret: manifest.litSecret }) // throws ACCESS_DENIED, LIT_UNAVAILABLE…
 * ```
 */
export class LitGate {
  private readonly options: Required<Omit<LitGateOptions, 'connect'>> & Pick<LitGateOptions, 'connect'>
  // Insertion-ordered Map as a FIFO cache: passes all have the same TTL, so the oldest
  // insertion is also the first to expire; refreshing a key re-inserts it at the end.
  private readonly passes = new Map<string, number>()
  private client: Promise<LitClient> | null = null
  private closed = false

  constructor (options: LitGateOptions) {
    this.options = {
      connect: options.connect,
      passTtlMs: options.passTtlMs ?? DEFAULT_PASS_TTL_MS,
      maxCacheEntries: options.maxCacheEntries ?? DEFAULT_PASS_CACHE_ENTRIES,
      requestTimeoutMs: options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS,
      now: options.now ?? Date.now
    }
  }

  /** True once a Lit client has been asked for (it is lazy). */
  get connected (): boolean {
    return this.client !== null
  }

  /** Number of cached passes. */
  get cachedPasses (): number {
    return this.passes.size
  }

  /**
   * Resolves when the tenant meets the conditions.
   *
   * @throws ShadwError `ACCESS_DENIED` when Lit says the conditions do not hold;
   *   `AUTH_FORGED`/`AUTH_EXPIRED` when Lit refuses the auth signature; `LIT_UNAVAILABLE` when
   *   Lit cannot be reached or does not answer in time; `ABORTED`.
   */
  async check (req: LitCheck): Promise<void> {
    if (this.closed) throw ShadwError.LIT_UNAVAILABLE('Lit gate is closed')
    if (req.policy.public) return
    checkSecret(req.secret)
    const key = `${functionKey(req.fn)}|${req.auth.address.toLowerCase()}|${req.policy.hash}`
    const now = this.options.now()
    const until = this.passes.get(key)
    if (until !== undefined && until > now) return
    if (until !== undefined) this.passes.delete(key)

    const client = await this.getClient(req.signal)
    const chain = chainOf(req.policy.conditions)
    let decrypted: Uint8Array
    try {
      const decrypting = client.decrypt({ ...req.policy.conditions, ciphertext: req.secret.ciphertext, dataToEncryptHash: req.secret.dataToEncryptHash, chain, authSig: req.auth.authSig })
      const result = await withDeadline(decrypting.catch((err: unknown) => { throw classify(err) }), this.options.requestTimeoutMs, req.signal, 'Lit decryption')
      decrypted = result.decryptedData
    } catch (err) {
      throw classify(err)
    }
    // the hash is part of the identity the secret was encrypted to, so a successful decryption
    // already implies it; checking costs one hash and catches a manifest with mismatched fields
    if (await sha256Hex(decrypted) !== req.secret.dataToEncryptHash.toLowerCase()) {
      throw ShadwError.ACCESS_DENIED('Lit decrypted a secret that does not match the manifest')
    }
    debug('lit pass %s', key)
    this.remember(key, this.options.now() + this.options.passTtlMs)
  }

  /** Drops the cached passes of one function (e.g. when its conditions changed). */
  forget (fn: FunctionId): void {
    const prefix = functionKey(fn) + '|'
    for (const key of this.passes.keys()) if (key.startsWith(prefix)) this.passes.delete(key)
  }

  /** Disconnects the Lit client if one was made; safe to call twice. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.passes.clear()
    const client = this.client
    this.client = null
    if (client !== null) await client.then(c => c.disconnect(), () => {})
  }

  private remember (key: string, until: number): void {
    this.passes.delete(key)
    while (this.passes.size >= this.options.maxCacheEntries) {
      const oldest = this.passes.keys().next()
      if (oldest.done === true) break
      this.passes.delete(oldest.value)
    }
    this.passes.set(key, until)
  }

  private async getClient (signal: AbortSignal | undefined): Promise<LitClient> {
    if (this.client === null) {
      const connecting = this.options.connect(signal)
      this.client = connecting
      // a failed connection is not kept: the next call tries again
      connecting.catch(() => { if (this.client === connecting) this.client = null })
    }
    try {
      return await this.client
    } catch (err) {
      throw err instanceof ShadwError ? err : ShadwError.LIT_UNAVAILABLE('cannot connect to Lit: ' + litMessage(err), err)
    }
  }
}

/**
 * Encrypts a fresh random per-function secret under `conditions`: what a publisher puts in
 * the manifest so nodes can gate calls through Lit.
 */
export async function encryptFunctionSecret (client: LitClient, conditions: AccessConditions): Promise<LitSecret> {
  const secret = new Uint8Array(32)
  crypto.getRandomValues(secret)
  try {
    const { ciphertext, dataToEncryptHash } = await client.encrypt({ ...conditions, dataToEncrypt: secret })
    return { ciphertext, dataToEncryptHash }
  } catch (err) {
    throw ShadwError.ACCESS_CONDITIONS_INVALID('Lit refused to encrypt under these conditions: ' + litMessage(err))
  }
}

/** A Lit ciphertext of a 32-byte secret is about 200 base64 characters; this refuses abuse. */
export const MAX_LIT_CIPHERTEXT_CHARS = 4096

/** Validates a manifest's Lit secret before it is sent anywhere. */
function checkSecret (secret: unknown): void {
  const s = secret as Partial<LitSecret> | null
  if (typeof s !== 'object' || s === null || typeof s.ciphertext !== 'string' || typeof s.dataToEncryptHash !== 'string' ||
      s.ciphertext.length === 0 || s.ciphertext.length > MAX_LIT_CIPHERTEXT_CHARS || !/^[A-Za-z0-9+/]+={0,2}$/.test(s.ciphertext) ||
      !isHexKey(s.dataToEncryptHash)) {
    throw ShadwError.ACCESS_CONDITIONS_INVALID('the Lit secret must be { ciphertext: base64, dataToEncryptHash: 64 lowercase hex }')
  }
}

/** Lit needs a `chain` with every decryption; the conditions name it (unified ones per condition). */
function chainOf (conditions: AccessConditions): string {
  const first = (list: unknown): string | undefined => {
    if (!Array.isArray(list)) return undefined
    for (const item of list) {
      const found = Array.isArray(item) ? first(item) : (item as { chain?: unknown }).chain
      if (typeof found === 'string') return found
    }
    return undefined
  }
  for (const list of Object.values(conditions)) {
    const chain = first(list)
    if (chain !== undefined) return chain
  }
  return 'ethereum'
}

/** Maps what Lit nodes answer (their `errorCode`, carried in the SDK's error `info`) to our codes. */
function classify (err: unknown): ShadwError {
  if (err instanceof ShadwError) return err
  const info = (err as { info?: { errorCode?: unknown, message?: unknown } } | null)?.info
  const code = typeof info?.errorCode === 'string' ? info.errorCode : ''
  const detail = { litErrorCode: code }
  if (/NotAuthorized|Unauthorized/i.test(code)) return ShadwError.ACCESS_DENIED('the Lit network says the access conditions are not met', detail)
  if (/Expired/i.test(code)) return ShadwError.AUTH_EXPIRED('the Lit network refused the auth signature as expired', detail)
  if (/AuthSig|Siwe|Signature/i.test(code)) return ShadwError.AUTH_FORGED('the Lit network refused the auth signature', detail)
  // the nodes signed the identity of the conditions they were sent, but the secret was
  // encrypted to another identity: the conditions are not the ones the publisher used
  if (code === '' && err instanceof Error && err.message === 'decryption failed') return ShadwError.ACCESS_DENIED('the Lit secret was not encrypted under these conditions')
  return ShadwError.LIT_UNAVAILABLE('Lit decryption failed: ' + litMessage(err), err, detail)
}

async function sha256Hex (bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new Uint8Array(bytes)))
  let out = ''
  for (const b of digest) out += b.toString(16).padStart(2, '0')
  return out
}

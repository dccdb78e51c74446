/**
 * Condition-gated keys without Lit's network: a key is split t-of-n (Shamir, with the
 * audited `shamir-secret-sharing`) among key holders; each holder checks the requester's auth
 * and the key's conditions itself (an {@link AccessGate}, so chain state through its own RPC
 * endpoints) and only then releases its share, sealed to the requester's ephemeral X25519 key
 * (libsodium `crypto_box_seal`), with a signed release record. Fewer than t shares say nothing
 * about the key; t of them rebuild it in the requester's process only.
 *
 * Holders chosen among super nodes, releases over the wire, release records in a ledger and
 * rotation are in core/keys; wrong-share detection in key-commitment.ts.
 */
import b4a from 'b4a'
import sodium from 'sodium-universal'
import { combine, split } from 'shamir-secret-sharing'
import { ShadwError } from '../errors.ts'
import { SignatureDomain } from '../signature-domain.ts'
import type { AccessGate } from './access-gate.ts'
import { type FunctionId, functionKey } from './function-id.ts'

/** Signature domain of a release record: never passes for any other record's signature. */
export const KEY_RELEASE_DOMAIN = 'shadw/key-release/v1'
const RELEASE_SIGNATURE = new SignatureDomain(KEY_RELEASE_DOMAIN)
/** Most holders of one key (the scheme's own limit is 255). */
export const MAX_KEY_HOLDERS = 32

/** A requester's one-use key pair for receiving shares. */
export interface EphemeralKeyPair { publicKey: Uint8Array, secretKey: Uint8Array }

/** What a holder signs about one release. */
export interface ReleaseRecord {
  /** the holder's ed25519 key, hex */
  holder: string
  /** the gated function (`publisher/name@version`) */
  fn: string
  /** the requester's verified address */
  tenant: string
  /** the ephemeral key the share was sealed to, hex */
  to: string
  /** chain → block the conditions were read at */
  blocks: Record<string, string>
  /** ms since the epoch */
  time: number
  /** ed25519 over the record without this field, hex */
  signature: string
  /** for a release to a call's executor: the call (its request nonce, hex), which the tenant's auth is bound to */
  call?: string
  /** for a release to a call's executor: that executor's node key, hex (the connection proved it) */
  requester?: string
}

/** A released share: sealed to the requester, and the holder's signed record of it. */
export interface KeyRelease { sealed: Uint8Array, record: ReleaseRecord }

/** Splits `secret` (16-64 bytes) into `holders` shares of which any `threshold` rebuild it. */
export async function splitKey (secret: Uint8Array, threshold: number, holders: number): Promise<Uint8Array[]> {
  if (!(secret instanceof Uint8Array) || secret.byteLength < 16 || secret.byteLength > 64) throw ShadwError.INVALID_ARGUMENT('a key is 16-64 bytes')
  if (!Number.isInteger(threshold) || !Number.isInteger(holders) || threshold < 2 || threshold > holders || holders > MAX_KEY_HOLDERS) {
    throw ShadwError.INVALID_ARGUMENT(`need 2 <= threshold <= holders <= ${MAX_KEY_HOLDERS}`)
  }
  // the library takes plain Uint8Arrays only (not Buffers)
  return await split(Uint8Array.from(secret), holders, threshold)
}

/** Rebuilds a key from shares; with fewer than the threshold the result is not the key. */
export async function rebuildKey (shares: Uint8Array[]): Promise<Uint8Array> {
  if (shares.length < 2) throw ShadwError.INVALID_ARGUMENT('need at least two shares')
  return await combine(shares.map(s => Uint8Array.from(s)))
}

/** A fresh X25519 key pair for one request. */
export function ephemeralKeyPair (): EphemeralKeyPair {
  const publicKey = b4a.alloc(sodium.crypto_box_PUBLICKEYBYTES)
  const secretKey = b4a.alloc(sodium.crypto_box_SECRETKEYBYTES)
  sodium.crypto_box_keypair(publicKey, secretKey)
  return { publicKey, secretKey }
}

/** Opens a share sealed to `keyPair`; `ACCESS_DENIED` when it was sealed to another key or altered. */
export function openShare (sealed: Uint8Array, keyPair: EphemeralKeyPair): Uint8Array {
  if (sealed.byteLength <= sodium.crypto_box_SEALBYTES) throw ShadwError.ACCESS_DENIED('sealed share too short')
  const out = b4a.alloc(sealed.byteLength - sodium.crypto_box_SEALBYTES)
  if (!sodium.crypto_box_seal_open(out, sealed, keyPair.publicKey, keyPair.secretKey)) throw ShadwError.ACCESS_DENIED('the share was not sealed to this key')
  return out
}

/** True when `record` carries a valid signature of its holder. */
export function verifyRelease (record: ReleaseRecord): boolean {
  const { signature, ...body } = record
  return RELEASE_SIGNATURE.verify(recordBody(body), b4a.from(signature, 'hex'), b4a.from(record.holder, 'hex'))
}

/** Options of {@link KeyHolder}. */
export interface KeyHolderOptions {
  /** this holder's share */
  share: Uint8Array
  /** the function whose key this is: auth must be bound to it */
  fn: FunctionId
  /** the key's conditions (Lit schema, as a manifest's `access`) */
  access: unknown
  /** the domains auth may name (default: the gate's own) */
  domains?: readonly string[]
  /** decides; a holder's own, with its own replay guard and RPC endpoints */
  gate: AccessGate
  /** the holder's ed25519 node key pair, to sign release records */
  keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }
  /** the key's id: a call's auth may name it to let the executor fetch it */
  keyId?: string
  now?: () => number
}

/**
 * One key holder: releases its share only to a requester whose auth and conditions it
 * checked itself.
 *
 * @example
 * ```ts
 * const holder = new KeyHolder({ share, fn, access, gate, keyPair })
 * const { sealed, record } = await holder.release({ auth, to: ephemeral.publicKey })
 * ```
 */
export class KeyHolder {
  readonly #opts: KeyHolderOptions

  constructor (opts: KeyHolderOptions) {
    this.#opts = opts
  }

  /**
   * @throws ShadwError the access gate's codes (`ACCESS_DENIED`, `AUTH_*`, `CHAIN_*`…);
   *   `INVALID_ARGUMENT` for a malformed ephemeral key.
   */
  async release (req: { auth: unknown, to: Uint8Array, blocks?: Readonly<Record<string, bigint>>, call?: { call: string, requester: string } }): Promise<KeyRelease> {
    if (!(req.to instanceof Uint8Array) || req.to.byteLength !== sodium.crypto_box_PUBLICKEYBYTES) throw ShadwError.INVALID_ARGUMENT('the ephemeral key is 32 bytes')
    const o = this.#opts
    const grant = await o.gate.authorize({
      fn: o.fn,
      access: o.access,
      auth: req.auth,
      ...(o.domains === undefined ? {} : { domains: o.domains }),
      ...(req.blocks === undefined ? {} : { blocks: req.blocks }),
      // for a call: the auth must be bound to it, and is spent once per executor asking
      ...(req.call === undefined ? {} : { call: req.call.call, requester: req.call.requester, key: o.keyId ?? '' })
    })
    if (grant.address === null) throw ShadwError.ACCESS_DENIED('a key with no conditions is not gated: refusing to release it to anyone who asks')
    const sealed = b4a.alloc(o.share.byteLength + sodium.crypto_box_SEALBYTES)
    sodium.crypto_box_seal(sealed, o.share, req.to)
    const body = { holder: b4a.toString(o.keyPair.publicKey, 'hex'), fn: functionKey(o.fn), tenant: grant.address, to: b4a.toString(req.to, 'hex'), blocks: grant.blocks ?? {}, time: (o.now ?? Date.now)(), ...(req.call === undefined ? {} : { call: req.call.call, requester: req.call.requester }) }
    const signature = b4a.toString(RELEASE_SIGNATURE.sign(recordBody(body), o.keyPair.secretKey), 'hex')
    return { sealed, record: { ...body, signature } }
  }
}

/** The signed bytes of a record: its fields as JSON in a fixed order. */
function recordBody (r: Omit<ReleaseRecord, 'signature'>): Uint8Array {
  const blocks = Object.keys(r.blocks).sort().map(k => [k, r.blocks[k]])
  // records without a call keep the bytes they were signed over
  const call = r.call === undefined ? [] : [r.call, r.requester ?? '']
  return b4a.from(JSON.stringify([r.holder, r.fn, r.tenant, r.to, blocks, r.time, ...call]))
}

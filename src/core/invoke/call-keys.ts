/**
 * The executor's side of condition-gated keys a call needs: the manifest's secrets (given to
 * the function in its environment) and the keys of gated drives the call mounts. The executor
 * fetches each from its holders for this call only, with the tenant's auth, which must be
 * bound to the call (`shadw:call:<request nonce>`); each holder checks that auth and the key's
 * conditions itself, and releases its share sealed to a one-use key of this executor. The keys
 * are rebuilt here, handed to the sandbox, and dropped with the call: never sent to the caller,
 * never written anywhere.
 *
 * The fetching itself is core/keys' (`callKeys`): it comes after this folder in the core
 * stack, so the host hands it in through {@link CallKeys}.
 */
import b4a from 'b4a'
import type { PinnedMount } from '../drive/index.ts'
import { ShadwError } from '../errors.ts'
import type { ManifestSecret } from '../registry/index.ts'

/** Where a gated key's shares are. */
export interface GatedKeyRef {
  keyId: string
  /** the dealer's node key, hex */
  dealer: string
  threshold: number
  /** the holders' node keys, hex */
  holders: readonly string[]
}

/** What one fetch for a call carries: the tenant's auth (bound to `call`) and the blocks the executor's gate read. */
export interface CallKeyRequest {
  auth: unknown
  /** the request nonce, hex */
  call: string
  blocks?: Readonly<Record<string, bigint>>
  signal?: AbortSignal
  /** the call's time left when the fetch starts, ms: waits for holders end before it */
  leftMs?: number
}

/** Fetches gated keys for calls this executor runs (core/keys implements it over the key channel). */
export interface CallKeys {
  /**
   * @throws ShadwError `KEY_SHARES_SHORT` (details: each holder's refusal), `ABORTED`
   */
  fetch (ref: GatedKeyRef, req: CallKeyRequest): Promise<Uint8Array>
}

/** What a call gets from its keys: the environment of its secrets, and its mounts with the gated ones' keys filled in. */
export interface CallKeysResult {
  env: string[]
  mounts: PinnedMount[] | undefined
}

/** True when a call needs keys fetched for it: the manifest has secrets, or the request mounts a gated drive. */
export function needsKeys (secrets: readonly ManifestSecret[] | undefined, mounts: readonly PinnedMount[] | undefined): boolean {
  return (secrets?.length ?? 0) > 0 || (mounts ?? []).some(m => m.keyGrant !== undefined)
}

/**
 * Refuses, before any auth is spent, an executor the publisher did not name for its secrets
 * (`EXECUTOR_NOT_TRUSTED`, retryable elsewhere) or one that cannot fetch keys.
 */
export function checkTrusted (keys: CallKeys | undefined, self: string, fn: string, secrets: readonly ManifestSecret[] | undefined, mounts: readonly PinnedMount[] | undefined): void {
  if (!needsKeys(secrets, mounts)) return
  if (keys === undefined) throw ShadwError.EXECUTOR_NOT_TRUSTED(fn)
  if ((secrets ?? []).some(s => !s.executors.includes(self))) throw ShadwError.EXECUTOR_NOT_TRUSTED(fn)
}

/**
 * Fetches every key the call needs, all at once. Secrets become `NAME=value` (the bytes as
 * text when they are UTF-8 without NUL, else lowercase hex); gated mounts get their key.
 */
export async function fetchCallKeys (keys: CallKeys, secrets: readonly ManifestSecret[] | undefined, mounts: PinnedMount[] | undefined, req: CallKeyRequest): Promise<CallKeysResult> {
  const [env, opened] = await Promise.all([
    Promise.all((secrets ?? []).map(async s => `${s.name}=${envValue(await keys.fetch(s, req))}`)),
    mounts === undefined
      ? undefined
      : Promise.all(mounts.map(async m => {
        if (m.keyGrant === undefined) return m
        const key = await keys.fetch(m.keyGrant, req)
        if (key.byteLength !== 32) throw ShadwError.KEY_SHARE_INVALID(m.keyGrant.dealer)
        const { keyGrant: _fetched, ...rest } = m
        return { ...rest, encryptionKey: b4a.toString(key, 'hex') }
      }))
  ])
  return { env, mounts: opened }
}

function envValue (bytes: Uint8Array): string {
  if (!bytes.includes(0)) {
    try { return new TextDecoder('utf-8', { fatal: true }).decode(bytes) } catch {}
  }
  return b4a.toString(bytes, 'hex')
}

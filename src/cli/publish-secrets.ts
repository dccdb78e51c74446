/**
 * `shadw publish … --secret NAME=FILE [--key-holders N] [--threshold T] [--executors KEY,…]`:
 * a function's secrets, split t-of-n among key holders (super nodes started with
 * `--key-holder`) before the manifest naming where their shares are is signed. The holders
 * release a secret only to the executors named here, only for a call whose tenant's auth
 * passes the function's conditions (docs/access.md, "Function secrets").
 *
 * Each secret has a dealer of its own, derived from the publisher's secret key, the function
 * and the secret's name: a key's id is its dealer's and its function's, so two secrets of
 * one function need two dealers, and deriving them keeps every dealer the publisher's alone
 * without a new key to store.
 */
import { readFile } from 'node:fs/promises'
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { functionKey, MAX_KEY_HOLDERS, type FunctionId } from '../core/access/index.ts'
import { ShadwError } from '../core/errors.ts'
import { isHexKey } from '../core/hex.ts'
import { SECRET_NAME, type ManifestSecret } from '../core/registry/index.ts'

/** The flags `shadw publish` takes for secrets (and for the swarm their holders are on). */
export const SECRET_OPTIONS = {
  secret: { type: 'string', multiple: true },
  'key-holders': { type: 'string' },
  threshold: { type: 'string' },
  executors: { type: 'string' },
  bootstrap: { type: 'string' },
  node: { type: 'string' },
  wait: { type: 'string' }
} as const

const DEFAULT_HOLDERS = 3
const DEFAULT_THRESHOLD = 2
const DEFAULT_WAIT_MS = 30_000
const DEALER_DOMAIN = 'shadw/secret-dealer/v1'
const MIN_SECRET_BYTES = 16
const MAX_SECRET_BYTES = 64

/** One secret to deal: its name and its bytes. */
export interface SecretValue { name: string, value: Uint8Array }

/** What `--secret` and its flags asked for, checked. */
export interface SecretPlan {
  secrets: SecretValue[]
  holders: number
  threshold: number
  /** null: the super node on the publish storage */
  executors: string[] | null
  waitMs: number
  bootstrap?: string
  node?: string
}

type SecretValues = { secret?: string[], 'key-holders'?: string, threshold?: string, executors?: string, bootstrap?: string, node?: string, wait?: string }

/**
 * Checks the secret flags and reads each secret's file, before any network; null without
 * `--secret`.
 * @throws `SECRET_INVALID` (name, file, size), `KEY_SPLIT_INVALID` (N, T), `INVALID_ARGUMENT`
 */
export async function readSecretFlags (values: SecretValues): Promise<SecretPlan | null> {
  const given = values.secret ?? []
  if (given.length === 0) {
    for (const f of ['key-holders', 'threshold', 'executors', 'wait'] as const) if (values[f] !== undefined) throw ShadwError.INVALID_ARGUMENT(`--${f} goes with --secret`)
    return null
  }
  const holders = count('--key-holders', values['key-holders'], DEFAULT_HOLDERS)
  const threshold = count('--threshold', values.threshold, DEFAULT_THRESHOLD)
  if (holders < 2 || holders > MAX_KEY_HOLDERS) throw ShadwError.KEY_SPLIT_INVALID(`--key-holders must be 2..${MAX_KEY_HOLDERS}, got ${holders}`, { holders })
  if (threshold < 2 || threshold > holders) throw ShadwError.KEY_SPLIT_INVALID(`--threshold must be 2..${holders} (--key-holders), got ${threshold}: fewer than 2 lets one holder alone release the secret, more than N can never be met`, { threshold, holders })
  const waitMs = values.wait === undefined ? DEFAULT_WAIT_MS : count('--wait', values.wait, DEFAULT_WAIT_MS)
  const executors = values.executors === undefined ? null : values.executors.split(',').map(k => k.trim().toLowerCase()).filter(k => k !== '')
  if (executors !== null && (executors.length === 0 || executors.length > MAX_KEY_HOLDERS || executors.some(k => !isHexKey(k)) || new Set(executors).size !== executors.length)) {
    throw ShadwError.INVALID_ARGUMENT(`--executors must be 1..${MAX_KEY_HOLDERS} distinct node keys of 64 hex characters, comma-separated`)
  }
  const secrets: SecretValue[] = []
  for (const spec of given) {
    const eq = spec.indexOf('=')
    const name = eq < 0 ? spec : spec.slice(0, eq)
    const file = eq < 0 ? '' : spec.slice(eq + 1)
    if (eq < 0 || file === '') throw ShadwError.SECRET_INVALID(`--secret ${JSON.stringify(spec.slice(0, 80))} is not NAME=FILE`, { name })
    if (!SECRET_NAME.test(name)) throw ShadwError.SECRET_INVALID(`--secret name ${JSON.stringify(name.slice(0, 80))} must match ${String(SECRET_NAME)} (an environment variable)`, { name })
    if (secrets.some(s => s.name === name)) throw ShadwError.SECRET_INVALID(`two secrets named ${name}`, { name })
    let bytes: Uint8Array
    try {
      bytes = new Uint8Array(await readFile(file))
    } catch (err) {
      throw ShadwError.SECRET_INVALID(`--secret ${name}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { name, file })
    }
    const value = withoutNewline(bytes)
    if (value.byteLength < MIN_SECRET_BYTES || value.byteLength > MAX_SECRET_BYTES) {
      throw ShadwError.SECRET_INVALID(`--secret ${name}: ${file} holds ${value.byteLength} bytes, a secret is ${MIN_SECRET_BYTES}-${MAX_SECRET_BYTES} (keep a longer one encrypted in a drive and give its key as the secret)`, { name, file, bytes: value.byteLength })
    }
    secrets.push({ name, value })
  }
  return { secrets, holders, threshold, executors, waitMs, ...(values.bootstrap === undefined ? {} : { bootstrap: values.bootstrap }), ...(values.node === undefined ? {} : { node: values.node }) }
}

/** The dealer of one secret of `fn`: the publisher's alone, stable, one per secret. */
export function secretDealerKeyPair (publisherSecretKey: Uint8Array, fn: FunctionId, name: string): { publicKey: Uint8Array, secretKey: Uint8Array } {
  return crypto.keyPair(crypto.hash(b4a.concat([b4a.from(`${DEALER_DOMAIN}\0${functionKey(fn)}\0${name}\0`), publisherSecretKey])))
}

/**
 * Deals every secret of `plan` to key holders found on the swarm, one dealer (and one light
 * node) per secret, and returns the manifest's `secrets`. Progress goes to `progress`.
 * @throws `NOT_ENOUGH_HOLDERS` (details: how many answered, how many were asked for) when
 *   fewer than N key holders are reachable within `--wait`
 */
export async function dealSecrets (plan: SecretPlan, t: { fn: FunctionId, access: unknown, domains: string[], executors: string[], publisherSecretKey: Uint8Array }, progress: (line: string) => void): Promise<ManifestSecret[]> {
  // the swarm is loaded only when there are secrets to deal: publish, list and inspect stay light
  const { chooseHolders, dealKey, keyHoldersTopic, keyIdOf, KeyService } = await import('../core/keys/index.ts')
  const { startDriveNode } = await import('./drive-node.ts')
  const out: ManifestSecret[] = []
  for (const s of plan.secrets) {
    const dealer = secretDealerKeyPair(t.publisherSecretKey, t.fn, s.name)
    const client = await startDriveNode({ ...(plan.bootstrap === undefined ? {} : { bootstrap: plan.bootstrap }), ...(plan.node === undefined ? {} : { node: plan.node }), keyPair: dealer, inMemory: true })
    const service = new KeyService({ host: client.node, keyPair: dealer })
    try {
      service.start()
      await client.node.joinTopic(keyHoldersTopic(), { server: false, client: true })
      progress(`secret ${s.name}: looking for ${plan.holders} key holders (up to ${plan.waitMs} ms)\n`)
      const found = await waitForHolders(service, plan.holders, plan.waitMs)
      if (found.length < plan.holders) {
        throw ShadwError.NOT_ENOUGH_HOLDERS(`${found.length} key holder(s) answered within ${plan.waitMs} ms, ${plan.holders} asked for (--key-holders); start more super nodes with --key-holder, or ask for fewer`, { found: found.length, wanted: plan.holders, waitMs: plan.waitMs })
      }
      const keyId = keyIdOf(service.publicKey, t.fn)
      const holders = chooseHolders(keyId, found, plan.holders)
      progress(`secret ${s.name}: dealing ${plan.threshold} of ${plan.holders} shares\n`)
      const layout = await dealKey(service, { key: s.value, fn: t.fn, access: t.access, domains: t.domains, executors: t.executors, holders, threshold: plan.threshold })
      out.push({ name: s.name, keyId: layout.keyId, dealer: layout.dealer, threshold: plan.threshold, holders: [...holders].sort(), executors: [...t.executors].sort() })
      progress(`secret ${s.name}: split ${plan.threshold} of ${plan.holders} among ${holders.map(h => h.slice(0, 8)).join(', ')}; released only to ${t.executors.map(e => e.slice(0, 8)).join(', ')}\n`)
    } finally {
      s.value.fill(0)
      service.stop()
      await client.stop()
    }
  }
  return out
}

/** The key holders found within `ms`, as soon as `n` are (bounded by the clock: 50 ms polls). */
async function waitForHolders (service: { holders: () => string[] }, n: number, ms: number): Promise<string[]> {
  const end = Date.now() + ms
  while (service.holders().length < n && Date.now() < end) await new Promise(resolve => setTimeout(resolve, 50))
  return service.holders()
}

function count (flag: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback
  if (!/^\d{1,9}$/.test(v)) throw (flag === '--wait' ? ShadwError.INVALID_ARGUMENT : ShadwError.KEY_SPLIT_INVALID)(`${flag} needs a whole number, got ${JSON.stringify(v.slice(0, 40))}`)
  return Number(v)
}

/** A file's bytes without one trailing newline (`echo … > FILE` adds it; nobody means it). */
function withoutNewline (b: Uint8Array): Uint8Array {
  if (b.at(-1) !== 0x0a) return b
  return b.subarray(0, b.byteLength - (b.at(-2) === 0x0d ? 2 : 1))
}

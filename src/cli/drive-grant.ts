/**
 * Private drives whose content key is gated: `shadw drive share-key` splits an encrypted
 * drive's content key t-of-n among key holders (super nodes started with `--key-holder`) under
 * access conditions, and writes a key grant (where the shares are; nothing secret). A reader
 * given the grant and a SIWE auth (`shadw auth sign --fn <grant.fn> --domain <grant.domain>`)
 * opens the drive: each holder checks the auth and the conditions itself and releases its
 * share sealed to the reader's one-use key; the key is rebuilt in the reader's process only.
 *
 * `shadw drive rotate-key` moves the shares to holders chosen afresh, possibly under new
 * conditions, holder to holder (core/keys rotateKey), and writes the grant of the new epoch.
 *
 * The dealer is a key pair derived from the drive's secret key, so only the drive's owner can
 * deal or rotate its key, from any machine holding the drive's keys, and the drive's own
 * signing key is never used as a swarm identity.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { checkConditions, functionKey, keyCheck, type FunctionId } from '../core/access/index.ts'
import { ShadwError } from '../core/errors.ts'
import { isHexKey } from '../core/hex.ts'
import { chooseHolders, dealKey, fetchKey, keyHoldersTopic, keyIdOf, KeyService, rotateKey } from '../core/keys/index.ts'
import type { ShadwNode } from '../core/node/index.ts'
import { loadDriveKeys } from './drive-keys.ts'
import { DRIVE_NODE_OPTIONS, startDriveNode } from './drive-node.ts'

/** The SIWE domain a drive key's auth names unless the owner picks another. */
export const DRIVE_KEY_DOMAIN = 'drive.shadw'
const DEALER_DOMAIN = 'shadw/drive-key-dealer/v1'
const DEFAULT_WAIT_MS = 30_000

/** Where a drive's content key shares are and what an auth must name; public. */
export interface DriveKeyGrant {
  type: 'shadw-drive-key-grant'
  drive: string
  /** the reference an auth must be bound to: `shadw auth sign --fn` */
  fn: string
  domain: string
  keyId: string
  dealer: string
  threshold: number
  /** holder node key → x of its share */
  holders: Record<string, number>
  /** the shares' generation: 0 when shared, one more at each rotate-key */
  epoch: number
}

/** The reference a drive's key is gated under (auth binds to it like to a function). */
export function driveKeyFn (drive: string): FunctionId {
  return { publisher: drive, name: 'drive-key', version: '1' }
}

/** The drive's dealer key pair: derived from its secret key, so stable and the owner's alone. */
export function driveDealerKeyPair (driveSecretKey: Uint8Array): { publicKey: Uint8Array, secretKey: Uint8Array } {
  return crypto.keyPair(crypto.hash(b4a.concat([b4a.from(DEALER_DOMAIN + '\0'), driveSecretKey])))
}

const KEY_OPTIONS = {
  ...DRIVE_NODE_OPTIONS,
  gate: { type: 'string' },
  holders: { type: 'string', default: '5' },
  threshold: { type: 'string', default: '3' },
  out: { type: 'string' },
  wait: { type: 'string', default: String(DEFAULT_WAIT_MS) }
} as const

/** `shadw drive share-key <DRIVE> --gate FILE [--holders N] [--threshold T] [--domain HOST] [--out FILE] [--wait MS]`. */
export async function shareKeyCommand (argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...KEY_OPTIONS, domain: { type: 'string', default: DRIVE_KEY_DOMAIN } }, allowPositionals: true, strict: true })
  const [drive, ...extra] = positionals
  if (drive === undefined || extra.length > 0 || values.gate === undefined) throw ShadwError.INVALID_ARGUMENT('usage: shadw drive share-key <DRIVE> --gate CONDITIONS.json [--holders N] [--threshold T]')
  const domain = values.domain
  return await asDealer(drive, values, async ({ service, fn, access, key, n, t, holders }) => {
    const layout = await dealKey(service, { key, fn, access, domains: [domain], holders: chooseHolders(keyIdOf(service.publicKey, fn), holders, n), threshold: t })
    process.stderr.write(`the key of drive ${drive} is split ${t} of ${n}; readers sign with: shadw auth sign --fn ${functionKey(fn)} --domain ${domain}\n`)
    return { type: 'shadw-drive-key-grant', drive, fn: functionKey(fn), domain, keyId: layout.keyId, dealer: layout.dealer, threshold: t, holders: layout.holders, epoch: 0 }
  })
}

/**
 * `shadw drive rotate-key <DRIVE> --grant FILE --gate FILE [--holders N] [--threshold T] [--out FILE]`:
 * moves the shares to holders chosen afresh (old ones may stay) under the given conditions,
 * over the wire between holders; the key itself does not change and is never rebuilt.
 */
export async function rotateKeyCommand (argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: { ...KEY_OPTIONS, grant: { type: 'string' } }, allowPositionals: true, strict: true })
  const [drive, ...extra] = positionals
  if (drive === undefined || extra.length > 0 || values.gate === undefined || values.grant === undefined) throw ShadwError.INVALID_ARGUMENT('usage: shadw drive rotate-key <DRIVE> --grant FILE --gate CONDITIONS.json [--holders N] [--threshold T]')
  const grant = await loadGrant(values.grant)
  if (grant.drive !== drive) throw ShadwError.INVALID_ARGUMENT(`the key grant is for drive ${grant.drive}, not ${drive}`)
  return await asDealer(drive, values, async ({ service, fn, access, key, n, t, holders }) => {
    if (service.publicKey !== grant.dealer || keyIdOf(service.publicKey, fn) !== grant.keyId) throw ShadwError.INVALID_ARGUMENT('the key grant was not made with this drive\'s keys')
    // the old holders deal the new shares: give all of them a moment to be reached
    const old = Object.keys(grant.holders)
    await waitFor(() => old.every(h => service.peers().includes(h)), Math.min(Number(values.wait), 5_000))
    // the commitment in force, signed again (ed25519 signs deterministically): the owner has the key, so its check
    const commitment = service.commitment({ keyId: grant.keyId, epoch: grant.epoch, threshold: grant.threshold, check: keyCheck(grant.keyId, key) })
    const next = chooseHolders(`${grant.keyId}/${grant.epoch + 1}`, holders, n)
    const layout = await rotateKey(service, { keyId: grant.keyId, dealer: grant.dealer, threshold: grant.threshold, holders: grant.holders, commitment }, { fn, access, domains: [grant.domain], holders: next, threshold: t })
    process.stderr.write(`the key of drive ${drive} is now split ${t} of ${n} (epoch ${layout.commitment.epoch}); the old shares are void\n`)
    return { ...grant, threshold: t, holders: layout.holders, epoch: layout.commitment.epoch }
  })
}

interface DealerSession { service: KeyService, fn: FunctionId, access: unknown, key: Uint8Array, n: number, t: number, holders: string[] }

/** Runs `act` as the drive's dealer with the key holders found, and writes the grant it returns. */
async function asDealer (drive: string, values: { gate?: string, holders: string, threshold: string, wait: string, out?: string, bootstrap?: string, node?: string, storage?: string }, act: (s: DealerSession) => Promise<DriveKeyGrant>): Promise<number> {
  const n = Number(values.holders)
  const t = Number(values.threshold)
  const waitMs = Number(values.wait)
  if (!Number.isInteger(n) || !Number.isInteger(t) || t < 2 || t > n) throw ShadwError.INVALID_ARGUMENT('need 2 <= --threshold <= --holders')
  if (!Number.isSafeInteger(waitMs) || waitMs < 0) throw ShadwError.INVALID_ARGUMENT('--wait is milliseconds')
  const keys = await loadDriveKeys(drive)
  if (keys === null) throw ShadwError.INVALID_ARGUMENT(`drive ${drive} is not in your key store: only its owner shares its key`)
  if (keys.encryptionKey === null) throw ShadwError.INVALID_ARGUMENT(`drive ${drive} is not encrypted: nothing to share (create it with --encrypt)`)
  let access: unknown
  try { access = JSON.parse(await readFile(values.gate as string, 'utf8')) } catch (err) { throw ShadwError.ACCESS_CONDITIONS_INVALID(`${String(values.gate)}: ${err instanceof Error ? err.message : String(err)}`) }
  if ((await checkConditions(access)).public) throw ShadwError.ACCESS_CONDITIONS_INVALID('no conditions: a key anyone may have is not gated')

  const dealer = driveDealerKeyPair(keys.keyPair.secretKey)
  const client = await startDriveNode({ ...values, keyPair: dealer, inMemory: true })
  const service = new KeyService({ host: client.node, keyPair: dealer })
  try {
    service.start()
    await client.node.joinTopic(keyHoldersTopic(), { server: false, client: true })
    await waitFor(() => service.holders().length >= n, waitMs)
    const found = service.holders()
    if (found.length < n) throw ShadwError.NOT_ENOUGH_HOLDERS(`${found.length} key holders reachable, ${n} asked for`, { found: found.length, wanted: n })
    const grant = await act({ service, fn: driveKeyFn(drive), access, key: keys.encryptionKey, n, t, holders: found })
    const text = JSON.stringify(grant, null, 2) + '\n'
    if (values.out === undefined) process.stdout.write(text)
    else await writeFile(values.out, text)
  } finally {
    service.stop()
    await client.stop()
  }
  return 0
}

/** Reads and checks a key grant file. */
export async function loadGrant (path: string): Promise<DriveKeyGrant> {
  let v: Partial<DriveKeyGrant>
  try { v = JSON.parse(await readFile(path, 'utf8')) as Partial<DriveKeyGrant> } catch (err) { throw ShadwError.INVALID_ARGUMENT(`${path}: not a key grant (${err instanceof Error ? err.message : String(err)})`) }
  const holders = v.holders ?? {}
  if (v.type !== 'shadw-drive-key-grant' || typeof v.drive !== 'string' || !isHexKey(v.drive) || typeof v.keyId !== 'string' || !isHexKey(v.keyId) ||
    typeof v.dealer !== 'string' || !isHexKey(v.dealer) || typeof v.domain !== 'string' || !Number.isInteger(v.threshold) || (v.threshold as number) < 2 ||
    typeof holders !== 'object' || Object.keys(holders).length < (v.threshold as number) || Object.keys(holders).some(k => !isHexKey(k)) ||
    !Number.isSafeInteger(v.epoch) || (v.epoch as number) < 0) {
    throw ShadwError.INVALID_ARGUMENT(`${path}: not a key grant`)
  }
  return v as DriveKeyGrant
}

/**
 * The content key of `drive` from its key holders, rebuilt here.
 * @throws ShadwError `KEY_SHARES_SHORT` (details: each holder's refusal, e.g. `ACCESS_DENIED`,
 *   `NODE_CLOSED`, `KEY_SHARE_INVALID`) when fewer than the threshold released good shares.
 */
export async function fetchDriveKey (node: ShadwNode, drive: string, opts: { grant: string, auth: string, waitMs?: number }): Promise<Uint8Array> {
  const grant = await loadGrant(opts.grant)
  if (grant.drive !== drive) throw ShadwError.INVALID_ARGUMENT(`the key grant is for drive ${grant.drive}, not ${drive}`)
  let auth: unknown
  try { auth = JSON.parse(await readFile(opts.auth, 'utf8')) } catch (err) { throw ShadwError.AUTH_MALFORMED(`${opts.auth}: ${err instanceof Error ? err.message : String(err)}`) }
  const holders = Object.keys(grant.holders)
  // the one-use sealing key is made per request; this key pair only names the service
  const service = new KeyService({ host: node, keyPair: crypto.keyPair() })
  try {
    service.start()
    await node.joinTopic(keyHoldersTopic(), { server: false, client: true })
    // every holder if they come quickly; a threshold's worth is enough to try
    await waitFor(() => holders.every(h => service.peers().includes(h)), Math.min(opts.waitMs ?? DEFAULT_WAIT_MS, 15_000))
    await waitFor(() => holders.filter(h => service.peers().includes(h)).length >= grant.threshold, opts.waitMs ?? DEFAULT_WAIT_MS)
    try {
      return (await fetchKey(service, { keyId: grant.keyId, dealer: grant.dealer, holders, threshold: grant.threshold, auth })).key
    } catch (err) {
      // each holder's refusal is what the reader can act on: name them in the message
      const refusals = err instanceof ShadwError ? err.details?.['refusals'] as Record<string, string> | undefined : undefined
      if (err instanceof ShadwError && refusals !== undefined) {
        const why = Object.entries(refusals).map(([h, code]) => `${h.slice(0, 8)}: ${code}`).join(', ')
        throw new ShadwError(err.code, `${err.message.slice(err.code.length + 2)} (${why === '' ? 'no holder answered' : why})`, { details: err.details })
      }
      throw err
    }
  } finally {
    service.stop()
  }
}

async function waitFor (ok: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (!ok() && Date.now() < end) await new Promise(resolve => setTimeout(resolve, 50))
}

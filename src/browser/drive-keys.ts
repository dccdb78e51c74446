/**
 * The browser's drive keys, kept the way its publisher key is kept (publisher-host.ts): every
 * secret is derived by Corestore from the primary key in the node's OPFS storage, by a name,
 * so no secret is ever written anywhere else and the same name gives the same keys after a
 * reload. What is stored is an index of the drives this browser created, one JSON block
 * each in a local log that is never announced: their names, public keys and whether they are
 * encrypted, nothing secret. Clearing site data loses the drives' keys, like deleting the
 * CLI's `drives/<key>.json` files.
 */
import b4a from 'b4a'
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import crypto from 'hypercore-crypto'
import { ShadwError } from '../core/errors.ts'
import { isHexKey } from '../core/hex.ts'
import type { DriveKeyPair } from '../core/drive/index.ts'

/** Name of the local log listing the drives this browser owns (never followed nor announced). */
const INDEX_LOG_NAME = 'shadw-drive-index'
/** Corestore key-pair name of a drive: this prefix and the drive's random id. */
const KEY_NAME_PREFIX = 'shadw-drive/'
/** Hash domain of a drive's encryption key, so it never equals any signing secret. */
const ENCRYPTION_DOMAIN = b4a.from('shadw/drive-encryption/v1')
/** Drives one browser may own: the index is read whole at start, so it stays small. */
export const MAX_OWNED_DRIVES = 1_000
/** Longest label a drive may carry in the index. */
export const MAX_DRIVE_LABEL = 80
const ID = /^[0-9a-f]{32}$/

/** A drive this browser owns, as pages see it (no secret). */
export interface OwnedDrive {
  /** the drive's public key, hex */
  key: string
  /** what the owner called it */
  label: string
  encrypted: boolean
  /** ms since the epoch when it was created */
  created: number
}

/** An owned drive with its keys, inside the node worker only. */
export interface DriveSecrets { keyPair: DriveKeyPair, encryptionKey: Uint8Array | null }

interface IndexRecord extends OwnedDrive { id: string }

type KeyDeriver = { createKeyPair (name: string): Promise<{ publicKey: Uint8Array, secretKey: Uint8Array }> }

/** The index of owned drives and the derivation of their keys, on the node's Corestore. */
export class DriveKeyStore {
  readonly #store: Corestore
  #log: Hypercore | null = null
  #records: Map<string, IndexRecord> | null = null
  #opening: Promise<Map<string, IndexRecord>> | null = null
  /** index appends one at a time, so a record's order matches its creation */
  #writing: Promise<unknown> = Promise.resolve()

  constructor (store: Corestore) {
    this.#store = store
  }

  /** The drives this browser owns, newest first. */
  async list (): Promise<OwnedDrive[]> {
    const records = await this.#open()
    return [...records.values()].map(publicPart).sort((a, b) => b.created - a.created)
  }

  /** True when this browser owns drive `key`. */
  async owns (key: string): Promise<boolean> {
    return (await this.#open()).has(key)
  }

  /** Makes the keys of a new drive and records it. @throws `INVALID_ARGUMENT` past {@link MAX_OWNED_DRIVES} or for a bad label */
  async create (opts: { encrypt: boolean, label?: string }): Promise<OwnedDrive & DriveSecrets> {
    const label = opts.label ?? ''
    if (typeof label !== 'string' || label.length > MAX_DRIVE_LABEL) throw ShadwError.INVALID_ARGUMENT(`a drive label is at most ${MAX_DRIVE_LABEL} characters`)
    const records = await this.#open()
    if (records.size >= MAX_OWNED_DRIVES) throw ShadwError.INVALID_ARGUMENT(`this browser owns ${records.size} drives already (at most ${MAX_OWNED_DRIVES})`)
    const id = b4a.toString(crypto.randomBytes(16), 'hex')
    const secrets = await this.#derive(id, opts.encrypt)
    const record: IndexRecord = { id, key: b4a.toString(secrets.keyPair.publicKey, 'hex'), label, encrypted: opts.encrypt, created: Date.now() }
    const write = this.#writing.then(async () => { await this.#log!.append(b4a.from(JSON.stringify(record))) })
    this.#writing = write.catch(() => {})
    await write
    records.set(record.key, record)
    return { ...publicPart(record), ...secrets }
  }

  /** The keys of an owned drive, derived again; null when this browser does not own it. */
  async secrets (key: string): Promise<DriveSecrets | null> {
    const record = (await this.#open()).get(key)
    return record === undefined ? null : await this.#derive(record.id, record.encrypted)
  }

  async close (): Promise<void> {
    await this.#log?.close().catch(() => {})
  }

  async #derive (id: string, encrypt: boolean): Promise<DriveSecrets> {
    const kp = await (this.#store as unknown as KeyDeriver).createKeyPair(KEY_NAME_PREFIX + id)
    const keyPair = { publicKey: b4a.from(kp.publicKey), secretKey: b4a.from(kp.secretKey) }
    // the encryption key hangs off the same derived secret, under its own domain
    return { keyPair, encryptionKey: encrypt ? crypto.hash([ENCRYPTION_DOMAIN, keyPair.secretKey]) : null }
  }

  #open (): Promise<Map<string, IndexRecord>> {
    if (this.#records !== null) return Promise.resolve(this.#records)
    this.#opening ??= (async () => {
      const log = this.#store.get({ name: INDEX_LOG_NAME })
      await log.ready()
      this.#log = log
      const records = new Map<string, IndexRecord>()
      for (let i = 0; i < Math.min(log.length, MAX_OWNED_DRIVES); i++) {
        const block = await log.get(i, { wait: false })
        const record = block === null ? null : parseRecord(block)
        // a record that does not parse is skipped: the others stay usable
        if (record !== null) records.set(record.key, record)
      }
      this.#records = records
      return records
    })()
    this.#opening.catch(() => { this.#opening = null })
    return this.#opening
  }
}

function publicPart (r: IndexRecord): OwnedDrive {
  return { key: r.key, label: r.label, encrypted: r.encrypted, created: r.created }
}

function parseRecord (block: Uint8Array): IndexRecord | null {
  let v: Partial<IndexRecord>
  try {
    v = JSON.parse(b4a.toString(block)) as Partial<IndexRecord>
  } catch {
    return null
  }
  if (typeof v.id !== 'string' || !ID.test(v.id) || !isHexKey(v.key) || typeof v.label !== 'string' || typeof v.encrypted !== 'boolean' || typeof v.created !== 'number') return null
  return { id: v.id, key: v.key, label: v.label.slice(0, MAX_DRIVE_LABEL), encrypted: v.encrypted, created: v.created }
}

/**
 * The drives a browser owns, in the node worker: created with keys from its key store
 * (drive-keys.ts), written by files streamed from pages chunk by chunk (upload-session.ts),
 * pinned on holders found on the swarm and asked after, like `shadw drive create/put/pin/
 * status` do from a terminal. Owned drives stay open while the node runs: the node serves
 * their logs to the holders fetching them, and `/drive/*` reads them (decrypted, for an
 * encrypted one) in this origin only.
 */
import b4a from 'b4a'
import type Hypercore from 'hypercore'
import crypto from 'hypercore-crypto'
import { ShadwError } from '../core/errors.ts'
import { isHexKey } from '../core/hex.ts'
import { Drive, drivePath } from '../core/drive/index.ts'
import { describeLogs, driveStatus, driveVersionSource, MAX_REPLICAS, parseScheme, pinDrive, pinErasure, proofStatus, summarizeProofs, type DriveStatus, type HoldConfirmation, type HolderProof, type PinRequest } from '../core/pinning/index.ts'
import { reedSolomonBrowser } from './reed-solomon-browser.ts'
import type { BrowserNode } from './browser-node.ts'
import { DriveKeyStore, type OwnedDrive } from './drive-keys.ts'
import { UploadSession } from './upload-session.ts'

/** Uploads in progress at once, over every drive: a page uploads one file at a time. */
export const MAX_UPLOADS = 8
/** Largest chunk one upload call carries (the bridge's own cap is 16 MiB). */
export const MAX_UPLOAD_CHUNK = 4 * 1024 * 1024
/** Longest a page may wait for holders to fetch and confirm a pin. */
export const MAX_PIN_TIMEOUT_MS = 600_000
/** Default wait for holders to fetch and confirm, as `shadw drive pin`. */
export const DEFAULT_PIN_TIMEOUT_MS = 120_000
/** How long status looks for holders to ask for proof verdicts, as `shadw drive status`. */
const PROOF_DISCOVER_MS = 5_000

/** An owned drive with its latest version. */
export interface OwnedDriveInfo extends OwnedDrive { version: number }

/** See the module comment. */
export class DriveHost {
  readonly #host: BrowserNode
  readonly #keys: DriveKeyStore
  readonly #open = new Map<string, Promise<Drive>>()
  readonly #uploads = new Map<string, UploadSession>()
  /**
   * Pins and status queries one at a time: each opens the pin protocol's channels on the
   * node's connections for its run, and two at once on one connection would share a channel
   * pairing, so one of them would hear no holder.
   */
  #pinning: Promise<unknown> = Promise.resolve()
  #closed = false

  constructor (host: BrowserNode) {
    this.#host = host
    this.#keys = new DriveKeyStore(host.store)
  }

  /** The drives this browser owns, newest first, with their versions. */
  async list (): Promise<OwnedDriveInfo[]> {
    const owned = await this.#keys.list()
    return await Promise.all(owned.map(async d => ({ ...d, version: (await this.#drive(d.key)).version })))
  }

  /** Creates a drive (encrypted on request) and keeps it open. */
  async create (params: Record<string, unknown>): Promise<OwnedDriveInfo> {
    const encrypt = params['encrypt'] === true
    const label = params['label'] === undefined ? '' : params['label']
    if (typeof label !== 'string') throw ShadwError.INVALID_ARGUMENT('label must be a string')
    const made = await this.#keys.create({ encrypt, label })
    const opening = Drive.open(this.#host.node, made.keyPair, { encryptionKey: made.encryptionKey })
    this.#open.set(made.key, opening)
    const drive = await opening
    return { key: made.key, label: made.label, encrypted: made.encrypted, created: made.created, version: drive.version }
  }

  /** The open handle of an owned drive, or null when this browser does not own `key`. */
  async owned (key: string): Promise<Drive | null> {
    if (!isHexKey(key) || !await this.#keys.owns(key)) return null
    return await this.#drive(key)
  }

  /** Starts streaming one file into an owned drive; returns the upload's id. */
  async uploadStart (params: Record<string, unknown>): Promise<{ upload: string }> {
    const key = ownedKey(params['key'])
    const path = drivePath(typeof params['path'] === 'string' ? params['path'] : '')
    if (this.#uploads.size >= MAX_UPLOADS) throw ShadwError.BUSY(this.#uploads.size)
    for (const u of this.#uploads.values()) {
      if (u.drive === key) throw ShadwError.INVALID_ARGUMENT(`an upload into drive ${key} is in progress: one file at a time per drive`)
    }
    const drive = await this.owned(key)
    if (drive === null) throw ShadwError.INVALID_ARGUMENT(`drive ${key} is not owned by this browser: its secret key is not in this browser's key store`)
    const id = b4a.toString(crypto.randomBytes(16), 'hex')
    this.#uploads.set(id, new UploadSession({ id, drive: key, path, put: async (p, source) => await drive.put(p, source), onIdle: () => { this.#uploads.delete(id) } }))
    return { upload: id }
  }

  /** Writes one chunk of an upload; resolves once the drive took it. */
  async uploadChunk (params: Record<string, unknown>): Promise<{ bytes: number }> {
    const chunk = params['chunk']
    if (!(chunk instanceof Uint8Array) || chunk.byteLength === 0 || chunk.byteLength > MAX_UPLOAD_CHUNK) throw ShadwError.INVALID_ARGUMENT(`chunk must be a Uint8Array of 1-${MAX_UPLOAD_CHUNK} bytes`)
    const session = this.#session(params['upload'])
    try {
      return { bytes: await session.write(chunk) }
    } catch (err) {
      this.#uploads.delete(session.id)
      session.abort()
      throw err
    }
  }

  /** Ends an upload: the file's entry is written; resolves with the drive's new version. */
  async uploadEnd (params: Record<string, unknown>): Promise<{ path: string, size: number, version: number }> {
    const session = this.#session(params['upload'])
    this.#uploads.delete(session.id)
    return await session.end()
  }

  /** Drops an upload (the page gave up): no entry is written. */
  uploadAbort (params: Record<string, unknown>): { aborted: boolean } {
    const id = params['upload']
    const session = typeof id === 'string' ? this.#uploads.get(id) : undefined
    if (session === undefined) return { aborted: false }
    this.#uploads.delete(session.id)
    session.abort()
    return { aborted: true }
  }

  /**
   * What either pin needs checked first: the timeout asked for (default
   * {@link DEFAULT_PIN_TIMEOUT_MS}), and the drive, owned here and not empty.
   */
  async #pinnable (key: string, timeout: unknown): Promise<{ drive: Drive, timeoutMs: number }> {
    const timeoutMs = timeout ?? DEFAULT_PIN_TIMEOUT_MS
    if (typeof timeoutMs !== 'number' || !Number.isSafeInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_PIN_TIMEOUT_MS) throw ShadwError.INVALID_ARGUMENT(`timeout must be 1-${MAX_PIN_TIMEOUT_MS} ms`)
    const drive = await this.owned(key)
    if (drive === null) throw ShadwError.INVALID_ARGUMENT(`drive ${key} is not owned by this browser: pin it from where it was written`)
    if (drive.version === 0) throw ShadwError.DRIVE_NOT_FOUND(`drive ${key} is empty: upload a file before pinning it`, { key })
    return { drive, timeoutMs }
  }

  /**
   * Pins an owned drive's latest version on `replicas` distinct holders; resolves once they
   * confirmed, signed, that they hold every log. The node serves the logs meanwhile.
   */
  async pin (params: Record<string, unknown>): Promise<{ drive: string, replicas: number, logs: PinRequest['logs'], confirmations: HoldConfirmation[] }> {
    const key = ownedKey(params['key'])
    const replicas = params['replicas'] ?? 3
    if (typeof replicas !== 'number' || !Number.isSafeInteger(replicas) || replicas < 1 || replicas > MAX_REPLICAS) throw ShadwError.INVALID_ARGUMENT(`replicas must be an integer 1-${MAX_REPLICAS}`)
    const { drive, timeoutMs } = await this.#pinnable(key, params['timeout'])
    const node = this.#host.node
    const store = node.storeSession()
    try {
      const cores = (await drive.logs()).map(l => store.get({ key: b4a.from(l.key, 'hex') }))
      // an empty blob log (a drive of empty files) has nothing to hold
      const logs = (await describeLogs(cores)).filter(l => l.length > 0)
      // a session of an encrypted log counts bytes without the blocks' padding; holders count
      // the bytes the signed tree commits to, as stored
      for (const [i, l] of logs.entries()) logs[i] = { ...l, byteLength: await signedBytes(cores.find(c => b4a.toString(c.key!, 'hex') === l.key)!, l.length) }
      // the holders find the logs on their topics as well as on the pinner's connection to them
      for (const l of logs) await node.follow(l.key)
      const confirmations = await this.#oneAtATime(async () => await pinDrive({ node, request: { drive: key, logs, replicas }, timeoutMs, keyPair: this.#host.keyPair }))
      return { drive: key, replicas, logs, confirmations }
    } finally {
      await store.close().catch(() => {})
    }
  }

  /**
   * Codes an owned drive's latest version K+M onto K+M shard holders, streamed stripe by
   * stripe (two passes over the logs, never the whole version in memory); resolves once every
   * slot's holder signed its shard hold.
   */
  async pinErasure (params: Record<string, unknown>): Promise<{ drive: string, k: number, m: number, size: number, stripes: number, root: string, holds: Array<{ shard: number, holder: string }> }> {
    const key = ownedKey(params['key'])
    if (typeof params['scheme'] !== 'string') throw ShadwError.ERASURE_INVALID('scheme must be K+M, e.g. 4+2')
    const scheme = parseScheme(params['scheme'])
    const { drive, timeoutMs } = await this.#pinnable(key, params['timeout'])
    const node = this.#host.node
    const store = node.storeSession()
    try {
      const cores = (await drive.logs()).map(l => store.get({ key: b4a.from(l.key, 'hex') }))
      await Promise.all(cores.map(async c => { await c.ready() }))
      const source = await driveVersionSource(cores.filter(c => c.length > 0))
      const rs = await reedSolomonBrowser()
      const p = await this.#oneAtATime(async () => await pinErasure({ node, rs, keyPair: this.#host.keyPair, drive: key, version: source.version, source, scheme, timeoutMs }))
      const l = p.pin.layout
      return { drive: key, k: l.k, m: l.m, size: l.size, stripes: p.pin.stripes.length, root: p.pin.root, holds: p.holds.map(h => ({ shard: h.shard, holder: h.holder })) }
    } finally {
      await store.close().catch(() => {})
    }
  }

  /**
   * What the holders met on the holders' topic say of any drive: holders, liveness, health,
   * and per holder its last storage proof as its co-holders judged it (only the drive's
   * holders' verdicts count). Both asks run at once, each bounded as `shadw drive status`'s.
   */
  async status (params: Record<string, unknown>): Promise<DriveStatus & { proofs: HolderProof[] }> {
    if (!isHexKey(params['key'])) throw ShadwError.INVALID_DRIVE_REF(String(params['key']).slice(0, 80), 'a drive key is 64 hex characters')
    const drive = params['key']
    const node = this.#host.node
    return await this.#oneAtATime(async () => {
      const [s, verdicts] = await Promise.all([driveStatus({ node, drive }), proofStatus({ node, drive, discoverMs: PROOF_DISCOVER_MS })])
      return { ...s, proofs: summarizeProofs(verdicts, drive, s.holders.map(h => h.holder)) }
    })
  }

  async #oneAtATime<T> (run: () => Promise<T>): Promise<T> {
    const turn = this.#pinning.then(run)
    this.#pinning = turn.catch(() => {})
    return await turn
  }

  /** Aborts the uploads and closes the owned drives; safe to call twice. */
  async close (): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    for (const u of this.#uploads.values()) u.abort(ShadwError.NODE_CLOSED())
    this.#uploads.clear()
    const all = [...this.#open.values()]
    this.#open.clear()
    await Promise.allSettled(all.map(async p => { await (await p).close() }))
    await this.#keys.close()
  }

  #session (id: unknown): UploadSession {
    const session = typeof id === 'string' ? this.#uploads.get(id) : undefined
    if (session === undefined) throw ShadwError.INVALID_ARGUMENT('no such upload (it ended, failed or was idle too long)')
    return session
  }

  /** Opens an owned drive with its keys once; later calls share the handle. */
  #drive (key: string): Promise<Drive> {
    if (this.#closed) return Promise.reject(ShadwError.NODE_CLOSED())
    let opening = this.#open.get(key)
    if (opening === undefined) {
      opening = (async () => {
        const secrets = await this.#keys.secrets(key)
        if (secrets === null) throw ShadwError.INVALID_ARGUMENT(`drive ${key} is not owned by this browser`)
        return await Drive.open(this.#host.node, secrets.keyPair, { encryptionKey: secrets.encryptionKey })
      })()
      this.#open.set(key, opening)
      opening.catch(() => { if (this.#open.get(key) === opening) this.#open.delete(key) })
    }
    return opening
  }
}

/** Payload bytes of a log's first `length` blocks as its Merkle tree commits to them. */
async function signedBytes (core: Hypercore, length: number): Promise<number> {
  const roots = await (core as unknown as { core: { tree: { getRoots (length: number): Promise<Array<{ size: number }>> } } }).core.tree.getRoots(length)
  return roots.reduce((s, r) => s + r.size, 0)
}

function ownedKey (v: unknown): string {
  if (!isHexKey(v)) throw ShadwError.INVALID_DRIVE_REF(String(v).slice(0, 80), 'a drive key is 64 hex characters')
  return v
}

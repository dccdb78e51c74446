/**
 * A drive: a versioned file tree owned by one key pair, built on Hyperdrive 11 (a Hyperbee of
 * entries and a blob log, both signed by the drive's key). Every write makes a new version;
 * a version is the entry log's length and never changes once written. Files stream in and
 * out in blob-log blocks, so a file of any size passes through a bounded buffer. With an
 * encryption key every block of both logs is encrypted before it is stored or sent: holders
 * and relays see ciphertext only.
 *
 * A drive lives on a node's Corestore ({@link DriveHost}): its logs replicate on every
 * connection the node has, and opening a drive puts the node on the drive's topic.
 */
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import crypto from 'hypercore-crypto'
import Hyperdrive, { type BlobId, type DriveNode, type DriveWriteStream } from 'hyperdrive'
import { ShadwError } from '../errors.ts'
import { keyToHex } from '../keys.ts'
import { readBlob } from './blob-reader.ts'
import { CheckedBee, keyIsolatedStore } from './key-isolation.ts'
import { checkBlockSize, DRIVE_BLOCK_BYTES, toBlocks } from './blocks.ts'
import { drivePath, parseDriveKey } from './paths.ts'

/** What a drive needs from the node it lives on (a `ShadwNode` is one). */
export interface DriveHost {
  storeSession (): Corestore
  announce (discoveryKey: Uint8Array): Promise<void>
}

/** An ed25519 key pair (the drive's owner). */
export interface DriveKeyPair { publicKey: Uint8Array, secretKey: Uint8Array }

/** One file (or, in a listing, one folder) in a drive. */
export interface DriveEntry {
  /** canonical absolute path */
  path: string
  kind: 'file' | 'dir'
  /** bytes (0 for a folder) */
  size: number
  /** blob-log blocks the file spans */
  blocks: number
  executable: boolean
  /** version at which this entry was last written (0 for a folder) */
  version: number
}

/** One log of a drive at a version: what a holder must keep to hold that version. */
export interface DriveLog {
  /** the log's key, hex */
  key: string
  /** its length at that version */
  length: number
  /** BLAKE2b Merkle root of the first `length` blocks, hex: what a holder proves it holds */
  treeHash: string
}

/** One file of a drive at a version, read by ranges ({@link Drive.openFile}). */
export interface DriveFile {
  /** bytes */
  size: number
  /** names the file's bytes within the drive: equal ids, equal bytes (its place in the blob log) */
  blob: string
  /** `length` bytes from `start` (fewer past the end); fetches only the blocks they span */
  read (start: number, length: number): Promise<Uint8Array>
}

/** Options to open a drive. */
export interface OpenDriveOptions {
  /** the drive's encryption key; without it an encrypted drive reads as `DRIVE_LOCKED` */
  encryptionKey?: Uint8Array | null
  /** longest wait for a block or the drive's length from peers, ms */
  timeoutMs?: number
}

/** Default wait for peers to answer a block or the length of a drive. */
export const DRIVE_TIMEOUT_MS = 20_000

/** Longest folder listing returned in one call. */
export const MAX_LIST_ENTRIES = 10_000

/** Bytes of a 32-byte encryption key. */
const ENCRYPTION_KEY_BYTES = 32
/**
 * A drive opened on a node. `open` for the owner (writable, with the key pair) or anyone
 * (read-only, by key); close it before the node stops.
 *
 * @example
 * ```ts
 * const { drive, keyPair } = await Drive.create(node, { encrypt: false })
 * await drive.put('/hello.txt', [b4a.from('hi')])
 * for await (const chunk of drive.read('/hello.txt')) process(chunk)
 * ```
 */
export class Drive {
  readonly #hd: Hyperdrive
  readonly #store: Corestore
  readonly #timeoutMs: number
  readonly #encryptionKey: Uint8Array | null
  #fetched = 0
  #blobsCounted = false

  private constructor (hd: Hyperdrive, store: Corestore, encryptionKey: Uint8Array | null, timeoutMs: number) {
    this.#hd = hd
    this.#store = store
    this.#encryptionKey = encryptionKey
    this.#timeoutMs = timeoutMs
  }

  /** True when this handle was opened with an encryption key. */
  get encrypted (): boolean {
    return this.#encryptionKey !== null
  }

  /** Creates a new drive with a fresh key pair (and a fresh encryption key when `encrypt`). */
  static async create (host: DriveHost, opts: { encrypt?: boolean } = {}): Promise<{ drive: Drive, keyPair: DriveKeyPair, encryptionKey: Uint8Array | null }> {
    const keyPair = crypto.keyPair()
    const encryptionKey = opts.encrypt === true ? crypto.randomBytes(ENCRYPTION_KEY_BYTES) : null
    const drive = await Drive.open(host, keyPair, { encryptionKey })
    return { drive, keyPair, encryptionKey }
  }

  /**
   * Opens a drive: writable with its key pair, read-only with its key (bytes or hex). The
   * node joins the drive's topic; a read-only drive learns its latest version from peers
   * (within the timeout; with no peer it stays at what is stored locally).
   */
  static async open (host: DriveHost, keyOrPair: Uint8Array | string | DriveKeyPair, opts: OpenDriveOptions = {}): Promise<Drive> {
    const encryptionKey = opts.encryptionKey ?? null
    if (encryptionKey !== null && (!(encryptionKey instanceof Uint8Array) || encryptionKey.byteLength !== ENCRYPTION_KEY_BYTES)) {
      throw ShadwError.INVALID_ARGUMENT(`an encryption key is ${ENCRYPTION_KEY_BYTES} bytes`)
    }
    // each handle decrypts with its own key or not at all, whatever else is open on the node
    const store = keyIsolatedStore(host.storeSession())
    let core: Hypercore
    if (typeof keyOrPair === 'string' || keyOrPair instanceof Uint8Array) {
      const key = typeof keyOrPair === 'string' ? parseDriveKey(keyOrPair) : keyOrPair
      if (key.byteLength !== 32) throw ShadwError.INVALID_DRIVE_REF(`<${key.byteLength} bytes>`, 'a drive key is 32 bytes')
      core = store.get({ key, encryptionKey })
    } else {
      // the owner's key pair signs the entry log; Hyperdrive derives the blob log's signer from it
      core = store.get({ keyPair: keyOrPair, encryptionKey })
    }
    const db = new CheckedBee(core, { keyEncoding: 'utf-8', valueEncoding: 'json', metadata: { contentFeed: null } } as Record<string, unknown>)
    const hd = new Hyperdrive(store, { _db: db, encryptionKey })
    const drive = new Drive(hd, store, encryptionKey, opts.timeoutMs ?? DRIVE_TIMEOUT_MS)
    try {
      await hd.ready()
      drive.#count(hd.core)
      await host.announce(hd.discoveryKey)
      if (!hd.writable) await drive.update()
    } catch (err) {
      await drive.close()
      throw drive.#classify(err)
    }
    return drive
  }

  /**
   * Bytes of blocks this handle fetched from peers (entry log and blob log): what a sparse
   * read cost in transfer.
   */
  get bytesFetched (): number {
    return this.#fetched
  }

  #count (core: Hypercore): void {
    core.on('download', (_index: number, byteLength: number) => { this.#fetched += byteLength })
  }

  async #countBlobs (): Promise<void> {
    if (this.#blobsCounted) return
    const blobs = await this.#blobsCore()
    if (blobs === null || this.#blobsCounted) return
    this.#blobsCounted = true
    this.#count(blobs)
  }

  /** The drive's public key, hex. */
  get key (): string {
    return keyToHex(this.#hd.key)
  }

  /** The drive's discovery key (its swarm topic). */
  get discoveryKey (): Uint8Array {
    return this.#hd.discoveryKey
  }

  /** The latest version known here (0: empty). */
  get version (): number {
    return this.#hd.version
  }

  /** True when this node holds the drive's secret key. */
  get writable (): boolean {
    return this.#hd.writable
  }

  /**
   * Takes the newest version connected peers have announced (downloading its signed root);
   * resolves with the version known now. A remote write counts once its announcement has
   * arrived: Hypercore 10's update does not ask peers, it waits on what they have said.
   */
  async update (): Promise<number> {
    await withTimeout(this.#hd.core.update({ wait: true }), this.#timeoutMs).catch(() => false)
    return this.version
  }

  /**
   * Writes one file from a stream of chunks, with backpressure: at most a few blocks are
   * buffered whatever the file's size. The file is stored in blocks of `blockSize` (default
   * 64 KiB; 4 KiB to 64 KiB, a power of two), however the chunks were cut (blocks.ts). Resolves once the entry is stored, with the new version.
   */
  async put (path: string, source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, opts: { executable?: boolean, onProgress?: (bytes: number) => void, blockSize?: number } = {}): Promise<{ path: string, size: number, version: number }> {
    const p = drivePath(path)
    const blockSize = checkBlockSize(opts.blockSize ?? DRIVE_BLOCK_BYTES)
    if (!this.writable) throw ShadwError.INVALID_ARGUMENT(`drive ${this.key} is read-only here (its secret key is not in this key store)`)
    const ws = this.#hd.createWriteStream(p, { executable: opts.executable === true })
    const closed = streamClosed(ws)
    let size = 0
    try {
      for await (const chunk of toBlocks(source, blockSize)) {
        size += chunk.byteLength
        // at most 64 KiB: a bigger block would not fit a storage proof's answer (block-proof.ts)
        if (!ws.write(chunk)) await drained(ws)
        opts.onProgress?.(size)
      }
      ws.end()
    } catch (err) {
      ws.destroy(err as Error)
      await closed.catch(() => {})
      throw err
    }
    await closed
    return { path: p, size, version: this.version }
  }

  /** The entry at `path` (at `version`, default latest), or null. */
  async entry (path: string, opts: { version?: number } = {}): Promise<DriveEntry | null> {
    const p = drivePath(path)
    return await this.#at(opts.version, async hd => {
      const node = await hd.entry(p, { wait: true, timeout: this.#timeoutMs })
      return node === null ? null : toEntry(node)
    })
  }

  /**
   * The files and folders directly in `dir` (at `version`, default latest), sorted by name;
   * at most {@link MAX_LIST_ENTRIES}. @throws `DRIVE_NOT_FOUND` when nothing is there
   */
  async list (dir = '/', opts: { version?: number } = {}): Promise<DriveEntry[]> {
    const d = drivePath(dir, { dir: true })
    return await this.#at(opts.version, async hd => {
      const out: DriveEntry[] = []
      for await (const name of hd.readdir(d, { wait: true, timeout: this.#timeoutMs } as { wait: boolean })) {
        if (out.length >= MAX_LIST_ENTRIES) break
        const path = d === '/' ? '/' + name : d + '/' + name
        const node = await hd.entry(path, { wait: true, timeout: this.#timeoutMs })
        out.push(node === null ? { path, kind: 'dir', size: 0, blocks: 0, executable: false, version: 0 } : toEntry(node))
      }
      if (out.length === 0 && d !== '/') {
        const file = await hd.entry(d, { wait: true, timeout: this.#timeoutMs })
        if (file !== null) return [toEntry(file)]
        throw ShadwError.DRIVE_NOT_FOUND(`no folder ${d} in drive ${this.key}`, { key: this.key, path: d })
      }
      return out
    })
  }

  /**
   * Streams a file's bytes (`start`..`end` inclusive, default whole), fetching missing blocks
   * from peers; every block is verified against the drive's signed Merkle tree before it is
   * used. @throws `DRIVE_NOT_FOUND` for a missing file, `DRIVE_RANGE_INVALID` for a bad range
   */
  async * read (path: string, opts: { version?: number, start?: number, end?: number } = {}): AsyncGenerator<Uint8Array> {
    const p = drivePath(path)
    const hd = await this.#checkout(opts.version)
    try {
      const node = await hd.entry(p, { wait: true, timeout: this.#timeoutMs }).catch(err => { throw this.#classify(err) })
      if (node === null) throw ShadwError.DRIVE_NOT_FOUND(`no file ${p} in drive ${this.key}${opts.version === undefined ? '' : ` at version ${opts.version}`}`, { key: this.key, path: p })
      const size = node.value.blob?.byteLength ?? 0
      const start = opts.start ?? 0
      const end = opts.end ?? size - 1
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || (size > 0 && (start > end || end >= size)) || (size === 0 && (start !== 0 || opts.end !== undefined))) {
        throw ShadwError.DRIVE_RANGE_INVALID(`${start}-${opts.end ?? ''}`, size)
      }
      if (size === 0) return
      await this.#countBlobs()
      const blob = node.value.blob as BlobId & { blockMap?: boolean }
      const blobs = await hd.getBlobs().catch(err => { throw this.#classify(err) })
      if (blobs === null) throw ShadwError.DRIVE_NOT_FOUND(`drive ${this.key} has no blob log here`, { key: this.key })
      // a blob written through a block map (deduplicated, by other Hyperdrive writers) is
      // read by Hyperblobs; ours are plain runs of blocks, read with a read-ahead window
      const source = blob.blockMap === true
        ? hd.createReadStream(p, { start, end, wait: true, timeout: this.#timeoutMs })
        : readBlob(blobs.core, blob, start, end, this.#timeoutMs)
      try {
        for await (const chunk of source) yield chunk
      } catch (err) {
        throw this.#classify(err)
      } finally {
        if ('destroy' in source) source.destroy()
      }
    } finally {
      if (hd !== this.#hd) await hd.close()
    }
  }

  /**
   * The file at `path` (at `version`, default latest), for reads of byte ranges: the entry is
   * looked up once, and each read fetches only the blob blocks its range spans (a seek in
   * the blob log's Merkle tree finds them), verified like every block.
   * @throws `DRIVE_NOT_FOUND` for a missing file
   */
  async openFile (path: string, opts: { version?: number } = {}): Promise<DriveFile> {
    const p = drivePath(path)
    const node = await this.#at(opts.version, async hd => await hd.entry(p, { wait: true, timeout: this.#timeoutMs }))
    if (node === null) throw ShadwError.DRIVE_NOT_FOUND(`no file ${p} in drive ${this.key}`, { key: this.key, path: p })
    const blob = node.value.blob
    const size = blob?.byteLength ?? 0
    if (blob === null || size === 0) return { size: 0, blob: 'empty', read: async () => new Uint8Array(0) }
    await this.#countBlobs()
    const blobs = await this.#hd.getBlobs().catch(err => { throw this.#classify(err) })
    if (blobs === null) throw ShadwError.DRIVE_NOT_FOUND(`drive ${this.key} has no blob log here`, { key: this.key })
    return {
      size,
      blob: String(blob.byteOffset),
      read: async (start, length) => {
        if (!Number.isSafeInteger(start) || !Number.isSafeInteger(length) || start < 0 || length < 0) throw ShadwError.DRIVE_RANGE_INVALID(`${start}+${length}`, size)
        const n = Math.min(length, size - start)
        if (n <= 0) return new Uint8Array(0)
        let out: Uint8Array | null
        try {
          out = await blobs.get(blob, { start, length: n, wait: true, timeout: this.#timeoutMs })
        } catch (err) {
          throw this.#classify(err)
        }
        if (out === null) throw ShadwError.DRIVE_NOT_FOUND(`no peer sent the blocks of drive ${this.key} in time`, { key: this.key })
        return out
      }
    }
  }

  /**
   * The drive's logs at `version` (default latest): its entry log and its blob log, each with
   * the length that version spans and the Merkle root over it. Holders keep exactly these.
   * The version must be local (the writer's, or after {@link download}).
   */
  async logs (version?: number): Promise<DriveLog[]> {
    const v = version ?? this.version
    if (!Number.isSafeInteger(v) || v < 0 || v > this.version) throw ShadwError.DRIVE_NOT_FOUND(`drive ${this.key} has no version ${v} (latest known: ${this.version})`, { key: this.key, version: v })
    const core = this.#hd.core
    const out: DriveLog[] = [{ key: keyToHex(core.key as Uint8Array), length: v, treeHash: await this.#treeHash(core, v) }]
    const blobs = await this.#blobsCore()
    if (blobs !== null) {
      const length = await this.#blobsLength(v, blobs)
      out.push({ key: keyToHex(blobs.key as Uint8Array), length, treeHash: await this.#treeHash(blobs, length) })
    }
    return out
  }

  /** A log's Merkle root at `length`; its tree nodes are here once the version is downloaded. */
  async #treeHash (core: Hypercore, length: number): Promise<string> {
    try {
      return keyToHex(await core.treeHash(length))
    } catch (err) {
      throw ShadwError.DRIVE_NOT_FOUND(`the Merkle tree of drive ${this.key} at length ${length} is not local: download that version first`, { key: this.key, length, cause: String(err) })
    }
  }

  /** Makes every block of the drive up to `version` (default latest) local, fetching from peers. */
  async download (version?: number): Promise<void> {
    const v = version ?? this.version
    try {
      if (v > 0) await this.#hd.core.download({ start: 0, end: v }).done()
      const blobs = await this.#blobsCore()
      if (blobs !== null && v > 0) {
        const length = await this.#blobsLength(v, blobs)
        if (blobs.length < length) await withTimeout(blobs.update({ wait: true }), this.#timeoutMs).catch(() => false)
        await blobs.download({ start: 0, end: length }).done()
      }
    } catch (err) {
      throw this.#classify(err)
    }
  }

  /**
   * The blob log. Its key is in the entry log's header, encrypted with the rest: a holder
   * without the encryption key holds a drive's logs by key (`node.follow`/`node.download`
   * on what the owner's {@link logs} names), not through this class.
   */
  async #blobsCore (): Promise<Hypercore | null> {
    try {
      return (await this.#hd.getBlobs())?.core ?? null
    } catch (err) {
      throw this.#classify(err)
    }
  }

  /**
   * The blob log's length at a version: read from the entry log when the drive is readable
   * here; without the key only the latest version's is known (the blob log's own length).
   */
  async #blobsLength (version: number, blobs: Hypercore): Promise<number> {
    if (version === 0) return 0
    try {
      return await this.#hd.getBlobsLength(version)
    } catch (err) {
      if ((err as { code?: string }).code === 'DECODING_ERROR' && version === this.version) return blobs.length
      throw this.#classify(err)
    }
  }

  /** Closes the drive's sessions (not the node). */
  async close (): Promise<void> {
    await this.#hd.close().catch(() => {})
    await this.#store.close().catch(() => {})
  }

  async #checkout (version: number | undefined): Promise<Hyperdrive> {
    if (version === undefined || version === this.version) return this.#hd
    if (!Number.isSafeInteger(version) || version < 1) throw ShadwError.DRIVE_NOT_FOUND(`drive ${this.key} has no version ${version}`, { key: this.key, version })
    if (version > this.version && await this.update() < version) {
      throw ShadwError.DRIVE_NOT_FOUND(`drive ${this.key} has no version ${version} (latest known: ${this.version})`, { key: this.key, version })
    }
    const hd = this.#hd.checkout(version)
    await hd.ready()
    return hd
  }

  async #at<T> (version: number | undefined, fn: (hd: Hyperdrive) => Promise<T>): Promise<T> {
    const hd = await this.#checkout(version)
    try {
      return await fn(hd)
    } catch (err) {
      throw this.#classify(err)
    } finally {
      if (hd !== this.#hd) await hd.close()
    }
  }

  /** Maps Hypercore's and Hyperbee's failures to typed errors. */
  #classify (err: unknown): unknown {
    if (err instanceof ShadwError) return err
    const code = (err as { code?: string }).code
    if (code === 'DECODING_ERROR') return ShadwError.DRIVE_LOCKED(this.key)
    if (code === 'REQUEST_TIMEOUT' || code === 'REQUEST_CANCELLED' || code === 'SNAPSHOT_NOT_AVAILABLE') {
      return ShadwError.DRIVE_NOT_FOUND(`no peer sent the blocks of drive ${this.key} in time`, { key: this.key })
    }
    if (code === 'SESSION_CLOSED') return ShadwError.NODE_CLOSED()
    return err
  }
}

function toEntry (node: DriveNode): DriveEntry {
  const blob = node.value.blob
  return { path: node.key, kind: 'file', size: blob?.byteLength ?? 0, blocks: blob?.blockLength ?? 0, executable: node.value.executable, version: node.seq + 1 }
}

async function drained (ws: DriveWriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const done = (): void => { ws.off('drain', done); ws.off('close', done); resolve() }
    ws.on('drain', done)
    ws.on('close', done)
    if (ws.destroyed) reject(ShadwError.INTERNAL('drive write stream closed'))
  })
}

async function streamClosed (ws: DriveWriteStream): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let failure: Error | null = null
    ws.on('error', err => { failure = err })
    ws.on('close', () => { if (failure === null) resolve(); else reject(failure) })
  })
}

async function withTimeout<T> (p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([p, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(ShadwError.TIMEOUT('drive update', ms)) }, ms) })])
  } finally {
    clearTimeout(timer)
  }
}

/** The logs of `drive` at `version` (default latest): `drive.logs(version)` as a function. */
export async function driveLogs (drive: Drive, version?: number): Promise<DriveLog[]> {
  return await drive.logs(version)
}

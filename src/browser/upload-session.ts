/**
 * One file streaming from a page into a drive, chunk by chunk over the bridge. The page
 * sends a chunk and waits for its answer; the answer comes once the drive's write stream has
 * taken the chunk (and drained, when it pushed back), so the page never has more than one
 * chunk in flight and the node worker holds at most one besides Hyperdrive's own buffer,
 * whatever the file's size. A session the page stops feeding (its tab closed) is aborted
 * after {@link UPLOAD_IDLE_MS}.
 */
import { ShadwError } from '../core/errors.ts'

/** A session silent this long is dropped, with what it wrote left unreferenced in the blob log. */
export const UPLOAD_IDLE_MS = 60_000

/**
 * An async iterable fed one chunk at a time: `push` resolves when the consumer asks for the
 * next item, that is when it is done with this one. `null` ends it; `fail` makes the
 * consumer throw.
 */
export class ChunkFeed implements AsyncIterable<Uint8Array> {
  #item: { chunk: Uint8Array | null, taken: () => void } | null = null
  #wake: (() => void) | null = null
  #failure: Error | null = null

  /** Offers the next chunk (or the end). @throws `INVALID_ARGUMENT` while a chunk is still pending */
  push (chunk: Uint8Array | null): Promise<void> {
    if (this.#failure !== null) return Promise.reject(this.#failure)
    if (this.#item !== null) return Promise.reject(ShadwError.INVALID_ARGUMENT('send the next chunk once the last one is answered'))
    return new Promise(resolve => {
      this.#item = { chunk, taken: resolve }
      this.#wake?.()
    })
  }

  fail (err: Error): void {
    this.#failure ??= err
    this.#item?.taken()
    this.#item = null
    this.#wake?.()
  }

  async * [Symbol.asyncIterator] (): AsyncGenerator<Uint8Array> {
    for (;;) {
      while (this.#item === null && this.#failure === null) await new Promise<void>(resolve => { this.#wake = resolve })
      this.#wake = null
      if (this.#failure !== null) throw this.#failure
      const { chunk, taken } = this.#item!
      this.#item = null
      if (chunk === null) { taken(); return }
      yield chunk
      taken()
    }
  }
}

/** What a session writes into: `Drive.put`'s shape. */
export type PutFile = (path: string, source: AsyncIterable<Uint8Array>) => Promise<{ path: string, size: number, version: number }>

/** One upload in progress; see the module comment. */
export class UploadSession {
  readonly id: string
  readonly drive: string
  readonly #feed = new ChunkFeed()
  readonly #done: Promise<{ path: string, size: number, version: number }>
  readonly #onIdle: () => void
  #bytes = 0
  #timer: ReturnType<typeof setTimeout> | undefined

  constructor (opts: { id: string, drive: string, path: string, put: PutFile, onIdle: () => void }) {
    this.id = opts.id
    this.drive = opts.drive
    this.#onIdle = opts.onIdle
    this.#done = opts.put(opts.path, this.#feed)
    // a failure is reported to the next chunk or to end(); here it only must not go unhandled
    this.#done.catch(err => { this.#feed.fail(err as Error) })
    this.#arm()
  }

  /** Writes one chunk; resolves with the bytes taken so far. */
  async write (chunk: Uint8Array): Promise<number> {
    this.#arm()
    await Promise.race([this.#feed.push(chunk), this.#done.then(() => { throw ShadwError.INTERNAL('the drive write ended before its last chunk') })])
    this.#bytes += chunk.byteLength
    this.#arm()
    return this.#bytes
  }

  /** Ends the file; resolves once its entry is written, with the drive's new version. */
  async end (): Promise<{ path: string, size: number, version: number }> {
    clearTimeout(this.#timer)
    await this.#feed.push(null).catch(() => {})
    return await this.#done
  }

  /** Drops the upload: the write stream is destroyed, no entry is written. */
  abort (why: Error = ShadwError.ABORTED('upload aborted')): void {
    clearTimeout(this.#timer)
    this.#feed.fail(why)
  }

  #arm (): void {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(() => {
      this.abort(ShadwError.TIMEOUT('the next chunk of an upload', UPLOAD_IDLE_MS))
      this.#onIdle()
    }, UPLOAD_IDLE_MS)
  }
}

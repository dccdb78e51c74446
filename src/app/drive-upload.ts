/**
 * Uploading files and folders from the page into a drive this browser owns. Each file is
 * read from `File.stream()` and sent to the node worker in chunks of {@link CHUNK_BYTES},
 * one in flight while the next is read: the page holds two chunks at most, whatever the
 * file's size, and never reads a whole file into memory. Folders come from an
 * `<input webkitdirectory>` (each file's `webkitRelativePath`) or from a drop (the entries
 * API, walked breadth first).
 */
import { ShadwError } from '../core/errors.ts'
import { joinDrivePath } from '../core/drive/index.ts'
import type { NodeClient } from './node-client.ts'

/** Bytes per bridge call: large enough that round trips do not dominate, small beside the bridge's 16 MiB cap. */
export const CHUNK_BYTES = 4 * 1024 * 1024
/** A chunk written into the drive in the node worker (OPFS, backpressure) may take this long. */
const CHUNK_TIMEOUT_MS = 60_000
/** Files one upload may carry: a dropped folder is walked only this far. */
export const MAX_UPLOAD_FILES = 10_000
/** Folders deep a drop is walked. */
const MAX_DEPTH = 64

/** One file to upload and its path relative to the destination folder. */
export interface UploadItem { file: File, path: string }

/** Progress of an upload, in bytes of all its files. */
export interface UploadProgress { done: number, total: number, file: string, files: number, of: number }

/** The files of an `<input type=file>` (with `webkitdirectory`: their paths inside the folder). */
export function itemsOfInput (files: FileList | File[]): UploadItem[] {
  return Array.from(files, f => ({ file: f, path: f.webkitRelativePath !== '' ? f.webkitRelativePath : f.name }))
}

/** The files and folders dropped on the page, folders walked; bounded by {@link MAX_UPLOAD_FILES}. */
export async function itemsOfDrop (data: DataTransfer): Promise<UploadItem[]> {
  const roots = Array.from(data.items, i => i.webkitGetAsEntry?.() ?? null).filter((e): e is FileSystemEntry => e !== null)
  if (roots.length === 0) return itemsOfInput(data.files)
  const out: UploadItem[] = []
  const queue: Array<{ entry: FileSystemEntry, depth: number }> = roots.map(entry => ({ entry, depth: 0 }))
  while (queue.length > 0 && out.length < MAX_UPLOAD_FILES) {
    const { entry, depth } = queue.shift()!
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => { (entry as FileSystemFileEntry).file(resolve, reject) })
      out.push({ file, path: entry.fullPath.replace(/^\//, '') })
    } else if (entry.isDirectory && depth < MAX_DEPTH) {
      const reader = (entry as FileSystemDirectoryEntry).createReader()
      // readEntries answers in batches until an empty one
      for (let i = 0; i < MAX_UPLOAD_FILES; i++) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => { reader.readEntries(resolve, reject) })
        if (batch.length === 0) break
        for (const child of batch) queue.push({ entry: child, depth: depth + 1 })
      }
    }
  }
  return out
}

/** Reads a stream into chunks of exactly `size` bytes (the last shorter), one at a time. */
async function * chunks (stream: ReadableStream<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader()
  let buf = new Uint8Array(size)
  let at = 0
  try {
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      let from = 0
      while (from < value.byteLength) {
        const n = Math.min(size - at, value.byteLength - from)
        buf.set(value.subarray(from, from + n), at)
        at += n
        from += n
        if (at === size) {
          yield buf
          buf = new Uint8Array(size)
          at = 0
        }
      }
    }
    if (at > 0) yield buf.slice(0, at)
  } finally {
    reader.releaseLock()
  }
}

/**
 * Uploads `items` into folder `to` of owned drive `key`, one file after another; resolves
 * with the drive's version after the last. `signal` stops between chunks (the file being
 * written gets no entry). @throws the node's typed errors; `ABORTED`
 */
export async function uploadItems (client: NodeClient, key: string, to: string, items: UploadItem[], onProgress: (p: UploadProgress) => void, signal?: AbortSignal): Promise<{ version: number, files: number, bytes: number }> {
  if (items.length > MAX_UPLOAD_FILES) throw ShadwError.INVALID_ARGUMENT(`at most ${MAX_UPLOAD_FILES} files in one upload, got ${items.length}`)
  // every path is checked before a byte moves, so a bad name fails the upload, not its middle
  const paths = items.map(i => joinDrivePath(to, i.path))
  const total = items.reduce((s, i) => s + i.file.size, 0)
  let done = 0
  let version = 0
  for (const [n, item] of items.entries()) {
    const path = paths[n]!
    onProgress({ done, total, file: path, files: n, of: items.length })
    const { upload } = await client.call('driveUploadStart', { key, path })
    const source = chunks(item.file.stream(), CHUNK_BYTES)
    try {
      let next = source.next()
      for (;;) {
        const r = await next
        if (r.done === true) break
        if (signal?.aborted === true) throw ShadwError.ABORTED('upload cancelled')
        const sent = client.call('driveUploadChunk', { upload, chunk: r.value }, CHUNK_TIMEOUT_MS, { streaming: true })
        // the next chunk is read from disk while this one is written
        next = source.next()
        await sent
        done += r.value.byteLength
        onProgress({ done, total, file: path, files: n, of: items.length })
      }
      version = (await client.call('driveUploadEnd', { upload }, CHUNK_TIMEOUT_MS)).version
    } catch (err) {
      await client.call('driveUploadAbort', { upload }).catch(() => {})
      void source.return(undefined).catch(() => {})
      throw err
    }
  }
  onProgress({ done, total, file: '', files: items.length, of: items.length })
  return { version, files: items.length, bytes: done }
}

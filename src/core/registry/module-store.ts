/**
 * A persistent cache of verified module bytes by SHA-256, over any random-access-storage
 * factory: OPFS (`opfsStorage`) in the browser node worker, files on a super node, memory in
 * tests. The loader writes only verified bytes and re-verifies every hit, so a torn or
 * tampered entry costs a refetch, never a wrong run.
 */
import b4a from 'b4a'
import type RandomAccessStorage from 'random-access-storage'
import { ShadwError } from '../errors.ts'
import { isHexKey } from '../hex.ts'
import { MAX_MODULE_BYTES } from '../sandbox/index.ts'
import type { ModuleStore } from './function-loader.ts'

/** Each entry starts with its length (u32 LE), so a shorter rewrite never reads stale tail bytes. */
const HEADER_BYTES = 4

/** Opens a file of a random-access-storage factory. */
export type StorageFactory = (name: string) => RandomAccessStorage

function call<T> (fn: (cb: (err: Error | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => { fn((err, value) => { if (err !== null) reject(err); else resolve(value as T) }) })
}

/**
 * @example
 * ```ts
 * const loader = new FunctionLoader({ host: node, cache: new StorageModuleStore(opfsStorage('shadw/modules')) })
 * ```
 */
export class StorageModuleStore implements ModuleStore {
  readonly #open: StorageFactory

  constructor (storage: StorageFactory) {
    this.#open = storage
  }

  /** The cached bytes of `hash`, or null when absent or unreadable. */
  async get (hash: string): Promise<Uint8Array | null> {
    if (!isHexKey(hash)) throw ShadwError.INVALID_ARGUMENT('module hash must be 64 lowercase hex characters')
    const file = this.#open(`modules/${hash}`)
    try {
      const { size } = await call<{ size: number }>(cb => { file.stat(cb) })
      if (size < HEADER_BYTES) return null
      const header = await call<Uint8Array>(cb => { file.read(0, HEADER_BYTES, cb) })
      const length = new DataView(header.buffer, header.byteOffset, HEADER_BYTES).getUint32(0, true)
      if (length === 0 || length > MAX_MODULE_BYTES || HEADER_BYTES + length > size) return null
      return b4a.from(await call<Uint8Array>(cb => { file.read(HEADER_BYTES, length, cb) }))
    } catch {
      return null
    } finally {
      await call<void>(cb => { file.close(cb) }).catch(() => {})
    }
  }

  /** Stores verified bytes under their hash. */
  async put (hash: string, bytes: Uint8Array): Promise<void> {
    if (!isHexKey(hash)) throw ShadwError.INVALID_ARGUMENT('module hash must be 64 lowercase hex characters')
    if (bytes.byteLength === 0 || bytes.byteLength > MAX_MODULE_BYTES) throw ShadwError.MODULE_TOO_LARGE(bytes.byteLength, MAX_MODULE_BYTES)
    const file = this.#open(`modules/${hash}`)
    try {
      const entry = b4a.alloc(HEADER_BYTES + bytes.byteLength)
      new DataView(entry.buffer, entry.byteOffset, HEADER_BYTES).setUint32(0, bytes.byteLength, true)
      entry.set(bytes, HEADER_BYTES)
      await call<void>(cb => { file.write(0, entry, cb) })
    } finally {
      await call<void>(cb => { file.close(cb) }).catch(() => {})
    }
  }
}

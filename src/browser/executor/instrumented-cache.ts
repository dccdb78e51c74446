/**
 * The browser executor's {@link InstrumentedStore}: instrumented modules in Cache Storage, so a
 * contributor tab that reloads compiles a module it ran before without instrumenting it again.
 *
 * Cache Storage rather than OPFS: it is reachable from the executor's (nested) Dedicated
 * Workers, and a module compiled with `WebAssembly.compileStreaming` from a Cache Storage
 * response of type `application/wasm` is one V8 may keep compiled code for beside the entry
 * (Chromium's wasm code cache), which no byte store gives. Each entry carries the SHA-256 of
 * its bytes; a hit is hashed again before its module is used, so a torn or altered entry is
 * dropped and the module instrumented afresh.
 *
 * Bounded: at most {@link MAX_ENTRIES} entries and {@link MAX_BYTES} bytes; the oldest entries
 * (Cache Storage lists requests in insertion order) go first.
 */
import { sha256Hex, type InstrumentedEntry, type InstrumentedHit, type InstrumentedStore, type WasmModule } from '../../core/sandbox/index.ts'

/** The Cache Storage cache's name (its version is in each key, {@link instrumentedKey}). */
export const INSTRUMENTED_CACHE = 'shadw-instrumented'
/** Entries kept at most. */
export const MAX_ENTRIES = 64
/** Bytes kept at most across entries (each module is at most MAX_MODULE_BYTES). */
export const MAX_BYTES = 64 * 1024 * 1024

const HASH = 'x-shadw-sha256'
const MEMORY = 'x-shadw-imported-memory'
const START = 'x-shadw-has-start'

/** A same-origin URL per key: Cache Storage keys are requests. */
function url (key: string): string {
  return new URL(`/.shadw/instrumented/${key}`, self.location.origin).href
}

function parseMemory (v: string | null): InstrumentedEntry['importedMemory'] | null {
  if (v === null) return null
  if (v === '') return undefined
  const m = JSON.parse(v) as Record<string, unknown>
  if (typeof m['module'] !== 'string' || typeof m['name'] !== 'string' || typeof m['initial'] !== 'number' || typeof m['maximum'] !== 'number') return null
  return { module: m['module'], name: m['name'], initial: m['initial'], maximum: m['maximum'] }
}

export class CacheStorageInstrumentedStore implements InstrumentedStore {
  readonly #name: string

  constructor (name = INSTRUMENTED_CACHE) {
    this.#name = name
  }

  /** True where Cache Storage exists (a secure context). */
  static available (): boolean {
    return typeof caches !== 'undefined'
  }

  async get (key: string): Promise<InstrumentedHit | null> {
    const cache = await caches.open(this.#name)
    const res = await cache.match(url(key))
    if (res === undefined) return null
    const want = res.headers.get(HASH)
    const importedMemory = parseMemory(res.headers.get(MEMORY))
    const start = res.headers.get(START)
    if (want === null || importedMemory === null || (start !== '0' && start !== '1')) {
      await cache.delete(url(key))
      return null
    }
    // compile from the response (where V8's code cache applies) while the copy is hashed
    const copy = res.clone()
    const compiled = WebAssembly.compileStreaming(res).then(m => m as WasmModule, () => null)
    const bytes = new Uint8Array(await copy.arrayBuffer())
    if (await sha256Hex(bytes) !== want) {
      await compiled
      await cache.delete(url(key))
      return null
    }
    const module = await compiled
    return { bytes, importedMemory, hasStart: start === '1', ...(module === null ? {} : { module }) }
  }

  async put (key: string, entry: InstrumentedEntry): Promise<void> {
    const cache = await caches.open(this.#name)
    const headers = {
      'content-type': 'application/wasm',
      'content-length': String(entry.bytes.byteLength),
      [HASH]: await sha256Hex(entry.bytes),
      [MEMORY]: entry.importedMemory === undefined ? '' : JSON.stringify(entry.importedMemory),
      [START]: entry.hasStart ? '1' : '0'
    }
    await cache.put(url(key), new Response(entry.bytes.slice().buffer, { headers }))
    await this.#evict(cache)
  }

  async #evict (cache: Cache): Promise<void> {
    const keys = await cache.keys()
    const sizes: number[] = []
    for (const req of keys) {
      const res = await cache.match(req)
      sizes.push(Number(res?.headers.get('content-length') ?? 0))
    }
    let total = sizes.reduce((a, b) => a + b, 0)
    for (let i = 0; i < keys.length && (keys.length - i > MAX_ENTRIES || total > MAX_BYTES); i++) {
      await cache.delete(keys[i] as Request)
      total -= sizes[i] ?? 0
    }
  }
}

/**
 * Keeps each session's encryption key its own on a Corestore shared by everything on a node.
 *
 * Why: Corestore keeps one root Hypercore per key, created by whoever asks for the key first,
 * with that asker's encryption key. Every later session of the same key starts from the
 * root's block encryption and only replaces it when it brings a key of its own. So once a
 * drive had been opened with its key, a keyless session of the same log (a drive served by
 * key, a mount without the key, a holder's raw reads) decrypted too: plaintext where only
 * ciphertext belongs. Hypercore's sessions are otherwise separate in this respect (a keyed
 * session opened over a keyless root changes only itself and its own sessions), so the cure
 * is at the root: it is always created without a key. A keyed `get` first opens (and, once
 * the keyed session is open on the same root, closes) a keyless session of the same log;
 * every session then has exactly the encryption it asked for, none or its own.
 *
 * Patching Hypercore would be the other place to cure it; node_modules is shared and the
 * wrapper below is all the drive needs (Hyperdrive opens its blob log through `get`).
 */
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import Hyperbee from 'hyperbee'
import { ShadwError } from '../errors.ts'
import { keyToHex } from '../keys.ts'

type GetOptions = Record<string, unknown> & { encryptionKey?: Uint8Array | null, preload?: () => Promise<Record<string, unknown>> }

/**
 * `store` with a `get` that never lets a keyed session be the log's root. Everything else is
 * the store's own (bound to it), so closing the wrapper closes the session it wraps.
 */
export function keyIsolatedStore (store: Corestore): Corestore {
  const get = (opts: GetOptions = {}): Hypercore => {
    const encryptionKey = opts.encryptionKey ?? null
    if (encryptionKey === null) return store.get(opts as Parameters<Corestore['get']>[0])
    const plain: GetOptions = { ...opts, encryptionKey: null, cache: false }
    delete plain.preload
    // an exclusive anchor would hold the write lock the keyed session waits for
    delete plain['exclusive']
    const anchor = store.get(plain as Parameters<Corestore['get']>[0])
    const keyed: GetOptions = {
      ...opts,
      preload: async () => {
        // the keyless session opens (and so creates the root) before this one looks for it
        await anchor.ready()
        return opts.preload === undefined ? {} : await opts.preload()
      }
    }
    const core = store.get(keyed as Parameters<Corestore['get']>[0])
    const release = (): void => { anchor.close().catch(() => {}) }
    core.ready().then(release, release)
    return core
  }
  return new Proxy(store, {
    get (target, prop) {
      if (prop === 'get') return get
      const value = Reflect.get(target, prop, target) as unknown
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
    }
  })
}

/**
 * A Hyperbee whose header must be a Hyperbee header. Its decoder takes most byte strings, so
 * an entry log read without its key (or with a wrong one) can decode to a header of nothing,
 * and Hyperdrive then fails on the missing blob-log key with an untyped TypeError; a header
 * that does not say it is a Hyperbee's is read as a locked drive instead.
 */
export class CheckedBee extends Hyperbee {
  override async getHeader (opts?: unknown): Promise<unknown> {
    const header = await super.getHeader(opts) as { protocol?: unknown } | null
    if (header !== null && header.protocol !== 'hyperbee') throw ShadwError.DRIVE_LOCKED(keyToHex(this.core.key as Uint8Array))
    return header
  }
}

/**
 * Loads functions for execution on a node: follows the publisher's registry (joining its
 * topic), syncs it, resolves the ref, verifies the manifest, fetches only the module's blocks
 * from the blob log (sparse range download, each block checked by Hypercore's Merkle proof),
 * then verifies the bytes. Only fully verified modules are cached or returned.
 */
import b4a from 'b4a'
import type Hypercore from 'hypercore'
import { ShadwError } from '../errors.ts'
import { mark } from '../trace.ts'
import { parseRefOrAlias, type FunctionAliases, type FunctionRef } from './function-ref.ts'
import type { FunctionManifest, SignedManifest } from './manifest.ts'
import { Registry } from './registry.ts'
import { DEFAULT_CEILINGS, verifyFunction, verifyManifest, type NodeCeilings, type VerifiedFunction, type VerifyContext } from './verify.ts'

/** How long a load waits for a registry or module from peers. */
export const DEFAULT_LOAD_TIMEOUT_MS = 15_000

/** The parts of a node the loader uses (ShadwNode implements them). */
export interface RegistryHost {
  /**
   * `tentative`: not remembered across restarts until `keep`, removed by `forget`;
   * `awaitAnnounce: false`: resolves once the log is open, its topic joined meanwhile
   */
  follow (key: string, opts?: { tentative?: boolean, awaitAnnounce?: boolean }): Promise<unknown>
  /** makes a tentative follow lasting (the registry was found); absent: every follow lasts */
  keep? (key: string): Promise<void>
  /** whether the host holds the log for good (written here, or followed lastingly before a restart) */
  lasting? (key: string): boolean
  /** drops a tentative follow, its topic and its storage (the registry was not found) */
  forget? (key: string): Promise<void>
  session (key: string): Hypercore
  waitForLength (key: string, length: number, timeoutMs: number): Promise<number>
  download (key: string, range: { start?: number, end?: number }, opts?: { timeout?: number, signal?: AbortSignal }): Promise<unknown>
  get (key: string, index: number, opts?: { wait?: boolean, timeout?: number }): Promise<Uint8Array | null>
}

/** A cache of verified module bytes by SHA-256 hex (OPFS in browsers, memory in tests). */
export interface ModuleStore {
  get (hash: string): Promise<Uint8Array | null>
  put (hash: string, bytes: Uint8Array): Promise<void>
}

/** Loader options. */
export interface FunctionLoaderOptions {
  host: RegistryHost
  ceilings?: Readonly<NodeCeilings>
  cache?: ModuleStore
  timeoutMs?: number
  /** local short names for refs */
  aliases?: FunctionAliases
}

/** A verified function and how it was obtained. */
export interface LoadedFunction extends VerifiedFunction {
  /** where the verified bytes came from: the module cache or the publisher's blob log */
  source: 'cache' | 'blob-log'
  /** the registry's length the manifest was resolved at: a registry that grows past it may hold a yank or a newer version */
  registryLength?: number
}

/**
 * @example
 * ```ts
 * const loader = new FunctionLoader({ host: node })
 * const fn = await loader.load(`${publisher}/upper@^1`)
 * await executor.execute({ module: fn.module, abi: fn.manifest.abi, limits: fn.manifest.limits, input })
 * ```
 */
export class FunctionLoader {
  readonly #host: RegistryHost
  readonly #ceilings: Readonly<NodeCeilings>
  readonly #cache: ModuleStore | undefined
  readonly #timeout: number
  readonly #aliases: FunctionAliases
  readonly #registries = new Map<string, Promise<Registry>>()
  /** syncs in flight by publisher: a registry not found is forgotten once none is left */
  readonly #syncing = new Map<string, number>()
  /** publishers whose registry this node follows for good (followed so, or found once) */
  readonly #found = new Set<string>()

  constructor (opts: FunctionLoaderOptions) {
    this.#host = opts.host
    this.#ceilings = opts.ceilings ?? DEFAULT_CEILINGS
    this.#cache = opts.cache
    this.#timeout = opts.timeoutMs ?? DEFAULT_LOAD_TIMEOUT_MS
    this.#aliases = opts.aliases ?? {}
  }

  /** Follows a publisher: replicates its registry (and, once known, its blob log, sparsely). */
  async follow (publisher: string, opts: { tentative?: boolean, awaitAnnounce?: boolean } = {}): Promise<Registry> {
    let reg = this.#registries.get(publisher)
    if (reg === undefined) {
      reg = (async () => {
        await this.#host.follow(publisher, opts)
        const r = await Registry.open(this.#host.session(publisher))
        if (opts.tentative !== true) this.#found.add(publisher)
        return r
      })()
      this.#registries.set(publisher, reg)
      reg.catch(() => { this.#registries.delete(publisher) })
    }
    return await reg
  }

  /**
   * Brings the registry up to the latest length peers have, and makes all of it local. A
   * registry this node did not hold is followed tentatively: it is kept once found, and
   * forgotten (topic left, storage deleted) when no peer served it, so a made-up publisher
   * leaves nothing behind.
   */
  async sync (publisher: string, opts: { signal?: AbortSignal } = {}): Promise<Registry> {
    this.#syncing.set(publisher, (this.#syncing.get(publisher) ?? 0) + 1)
    let found = false
    try {
      // the call waits for the registry, not for this node's announce of it (peers already
      // connected serve it at once; the lookup runs meanwhile and reads wait for it)
      const reg = await this.follow(publisher, { tentative: true, awaitAnnounce: false })
      mark('load.registry-followed', { length: reg.core.length })
      try {
        // a caller that leaves (its deadline passed) stops waiting here at once
        if (reg.core.length === 0) await whileLive(this.#host.waitForLength(publisher, 1, this.#timeout), opts.signal)
        else await whileLive(withTimeout(reg.core.update({ wait: true }), this.#timeout), opts.signal)
        mark('load.registry-length', { length: reg.core.length })
        // manifests are small: the whole registry is kept, only blobs are sparse
        await this.#host.download(publisher, { start: 0, end: reg.core.length }, { timeout: this.#timeout, signal: opts.signal })
      } catch (err) {
        if ((err as ShadwError).code === 'TIMEOUT') throw ShadwError.FUNCTION_NOT_FOUND(publisher, 'registry not reachable', err)
        throw err
      }
      found = true
      this.#found.add(publisher)
      await this.#host.keep?.(publisher)
      return reg
    } finally {
      const left = (this.#syncing.get(publisher) ?? 1) - 1
      if (left > 0) this.#syncing.set(publisher, left)
      else this.#syncing.delete(publisher)
      if (!found && left === 0) await this.#abandon(publisher)
    }
  }

  /** Forgets a registry no peer served (a lasting follow is left alone by the host). */
  async #abandon (publisher: string): Promise<void> {
    const reg = this.#registries.get(publisher)
    const r = await reg?.catch(() => null)
    // held by a lasting follow (already found once, or this node's own): stays, and so does its reader
    if (r !== undefined && r !== null && r.core.length > 0) return
    this.#registries.delete(publisher)
    await r?.close().catch(() => {})
    await this.#host.forget?.(publisher).catch(() => {})
  }

  /**
   * Whether the publisher `input` names is one this node already follows for good (found
   * once, followed so, or held lastingly from before a restart): looking its function up then
   * starts no follow of a registry nobody may serve. False for a ref that does not parse.
   */
  follows (input: string): boolean {
    try {
      const publisher = parseRefOrAlias(input, this.#aliases).publisher
      return this.#found.has(publisher) || this.#host.lasting?.(publisher) === true
    } catch {
      return false
    }
  }

  /**
   * Resolves, fetches and verifies `<publisher>/<name>@<range>` (or a local alias). Throws the verification
   * codes of {@link verifyFunction}, INVALID_FUNCTION_REF, FUNCTION_NOT_FOUND,
   * VERSION_NOT_FOUND or FUNCTION_YANKED.
   */
  async load (input: string | FunctionRef, opts: { signal?: AbortSignal } = {}): Promise<LoadedFunction> {
    // everything about the manifest is checked before a single module block is fetched
    const { signed, ctx, registryLength } = await this.#manifest(input, opts)
    mark('load.manifest-verified')
    const m = signed.manifest
    const cached = await this.#cache?.get(m.moduleHash) ?? null
    mark('load.cache-read', { hit: cached !== null })
    if (cached !== null) {
      const fn = await verifyFunction(signed, cached, ctx).catch(() => null)
      mark('load.module-verified')
      if (fn !== null) return { ...fn, source: 'cache', registryLength }
    }
    const bytes = await this.#fetchBlob(m, opts.signal)
    mark('load.module-fetched', { bytes: bytes.byteLength })
    const fn = await verifyFunction(signed, bytes, ctx)
    mark('load.module-verified')
    await this.#cache?.put(m.moduleHash, fn.module)
    mark('load.cache-written')
    return { ...fn, source: 'blob-log', registryLength }
  }

  /**
   * Resolves and verifies the manifest `input` names, without fetching its module: what a
   * caller reads of a function before calling it (its mounts, to pin their "latest"). Throws
   * as {@link load} does, less the module's checks.
   */
  async manifest (input: string | FunctionRef, opts: { signal?: AbortSignal } = {}): Promise<SignedManifest> {
    return (await this.#manifest(input, opts)).signed
  }

  async #manifest (input: string | FunctionRef, opts: { signal?: AbortSignal }): Promise<{ signed: SignedManifest, ctx: VerifyContext, registryLength: number }> {
    const ref = typeof input === 'string' ? parseRefOrAlias(input, this.#aliases) : input
    mark('load.start')
    const reg = await this.sync(ref.publisher, opts)
    const registryLength = reg.core.length
    mark('load.registry-synced')
    const version = await reg.resolve(ref.name, ref.range)
    const stored = await reg.signedManifest(ref.name, version)
    const tomb = await reg.tombstone(ref.name, version)
    const ctx: VerifyContext = {
      registryKey: reg.key,
      ceilings: this.#ceilings,
      yanked: tomb !== null,
      ...(tomb === null ? {} : { yankReason: tomb.tombstone.reason }),
      expect: { name: ref.name, version }
    }
    return { signed: verifyManifest(stored, ctx), ctx, registryLength }
  }

  async #fetchBlob (m: FunctionManifest, signal?: AbortSignal): Promise<Uint8Array> {
    const { blob, size } = m
    await this.#host.follow(blob.key, { awaitAnnounce: false })
    mark('load.blob-followed')
    const end = blob.start + blob.length
    try {
      await this.#host.download(blob.key, { start: blob.start, end }, { timeout: this.#timeout, signal })
    } catch (err) {
      if ((err as ShadwError).code === 'TIMEOUT') throw ShadwError.FUNCTION_NOT_FOUND(blob.key, 'module blocks not reachable', err)
      throw err
    }
    const blocks: Uint8Array[] = []
    let total = 0
    for (let i = blob.start; i < end; i++) {
      const block = await this.#host.get(blob.key, i, { wait: false })
      if (block === null) throw ShadwError.FUNCTION_NOT_FOUND(blob.key, `module block ${i} missing`)
      total += block.byteLength
      // a lying blob log cannot make us buffer more than the manifest's size
      if (total > size) throw ShadwError.MODULE_HASH_MISMATCH(m.moduleHash, '(not hashed: blob is larger than the manifest size)', { size: total, expectedSize: size })
      blocks.push(block)
    }
    return b4a.concat(blocks)
  }

  /** Closes the registry sessions this loader opened. */
  async close (): Promise<void> {
    const regs = [...this.#registries.values()]
    this.#registries.clear()
    for (const r of regs) await (await r.catch(() => null))?.close()
  }
}

async function withTimeout<T> (p: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    return await Promise.race([p, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(ShadwError.TIMEOUT('registry update', ms)) }, ms) })])
  } finally {
    clearTimeout(timer)
  }
}

/** `p`, or a rejection as soon as `signal` aborts (`p` goes on to its own timeout, unobserved). */
async function whileLive<T> (p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return await p
  p.catch(() => {})
  signal.throwIfAborted()
  let onAbort: () => void = () => {}
  const aborted = new Promise<never>((_resolve, reject) => { onAbort = () => { reject(signal.reason instanceof ShadwError ? signal.reason : ShadwError.ABORTED()) } })
  signal.addEventListener('abort', onAbort, { once: true })
  try {
    return await Promise.race([p, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/**
 * A node's catalogue of the swarm's functions: it announces the registries it serves on
 * `shadw/registries/v1`, follows the registries peers announce (a bounded number of
 * publishers, first come), reads each one whole when it grows, verifies every manifest's
 * signature against its publisher, and keeps the highest live version of each function in a
 * bounded {@link FunctionIndex}. A manifest that does not verify never enters the index.
 */
import b4a from 'b4a'
import type Hypercore from 'hypercore'
import { ShadwError } from '../errors.ts'
import { log } from '../log.ts'
import type { ConnectionHost } from '../connection-channels.ts'
import { formatFunctionRef, Registry, verifyManifest, type FunctionManifest, type FunctionRef } from '../registry/index.ts'
import { FunctionIndex, type CatalogueEntry, type CataloguePage } from './function-index.ts'
import { RegistryAnnouncer, type RegistryAnnouncement } from './registry-announce.ts'

const debug = log('catalogue')

/**
 * Publishers followed for the catalogue, at most: first come. Each costs a replicated
 * registry and a topic, so a swarm of made-up publishers cannot make a node follow without end.
 */
export const MAX_CATALOGUE_PUBLISHERS = 256
/** Functions read from one registry, at most (in name order): one publisher cannot fill the index. */
export const MAX_FUNCTIONS_PER_PUBLISHER = 64
/** A registry longer than this (blocks) is not read: the index is for catalogues, not archives. */
export const MAX_REGISTRY_BLOCKS = 4096
/** Bound on fetching one registry or resolving one function from peers. */
export const READ_WAIT_MS = 15_000

/** The parts of a node the catalogue uses (ShadwNode implements them). */
export interface CatalogueHost extends ConnectionHost {
  on (event: 'connection', listener: Parameters<ConnectionHost['on']>[1]): () => void
  on (event: 'append', listener: (log: { key: string, length: number }) => void): () => void
  follow (key: string): Promise<unknown>
  session (key: string): Hypercore
  download (key: string, range: { start?: number, end?: number }, opts?: { timeout?: number }): Promise<unknown>
}

/** Options of {@link Catalogue}. */
export interface CatalogueOptions {
  host: CatalogueHost
  /** this node's public key, hex */
  publicKey: string
  /** whether this node executes (it then counts as a holder of what it serves) */
  executes: boolean
  /** publisher keys (hex) this node serves */
  served: () => string[]
  maxPublishers?: number
  maxEntries?: number
  maxBytes?: number
}

/** One function in full: its catalogue entry and its verified manifest. */
export interface CatalogueFunction {
  entry: CatalogueEntry
  manifest: FunctionManifest
  /** the publisher's signature over the manifest, hex */
  signature: string
  /** the publisher's versions, highest first */
  versions: Array<{ version: string, yanked: boolean }>
}

/** What `/api/status` and tests read about the catalogue. */
export interface CatalogueStats {
  publishers: number
  entries: number
  bytes: number
  /** manifests refused in the latest read of each registry (bad signature, wrong publisher, over this node's ceilings) */
  refused: number
  /** announced publishers not followed because the catalogue was full, counted per announcement */
  skipped: number
}

function withTimeout<T> (p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  return Promise.race([p, new Promise<never>((_resolve, reject) => { timer = setTimeout(() => { reject(ShadwError.TIMEOUT(what, READ_WAIT_MS)) }, READ_WAIT_MS) })])
    .finally(() => { clearTimeout(timer) })
}

/**
 * @example
 * ```ts
 * const catalogue = new Catalogue({ host: node, publicKey: node.publicKey, executes: true, served: () => publishers })
 * catalogue.start()
 * catalogue.search('upper', { limit: 10 })
 * ```
 */
export class Catalogue {
  readonly index: FunctionIndex
  readonly #opts: CatalogueOptions
  readonly #announcer: RegistryAnnouncer
  readonly #publishers = new Set<string>()
  readonly #reads = new Map<string, { running: Promise<void>, again: boolean }>()
  #offAppend: (() => void) | null = null
  #stopped = false
  /** publisher -> manifests refused in its latest read */
  readonly #refused = new Map<string, number>()
  #skipped = 0

  constructor (opts: CatalogueOptions) {
    this.#opts = opts
    this.index = new FunctionIndex({ maxEntries: opts.maxEntries, maxBytes: opts.maxBytes })
    this.#announcer = new RegistryAnnouncer({
      host: opts.host,
      executes: opts.executes,
      registries: opts.served,
      onannounce: (a) => { this.#onannounce(a) },
      onclose: (peer) => { this.index.dropHolder(peer) }
    })
  }

  /** Announces, listens, and indexes this node's own registries. Safe to call twice. */
  start (): void {
    if (this.#offAppend !== null || this.#stopped) return
    this.#offAppend = this.#opts.host.on('append', ({ key }) => { if (this.#publishers.has(key)) this.#read(key) })
    this.#announcer.start()
    this.#onannounce({ peer: this.#opts.publicKey, executes: this.#opts.executes, registries: this.#opts.served() })
  }

  /** Stops for good. Safe to call twice. */
  stop (): void {
    this.#stopped = true
    this.#announcer.stop()
    this.#offAppend?.()
  }

  /** Counts for status pages. */
  stats (): CatalogueStats {
    return { publishers: this.#publishers.size, entries: this.index.size, bytes: this.index.bytes, refused: [...this.#refused.values()].reduce((a, b) => a + b, 0), skipped: this.#skipped }
  }

  /** One page of the functions whose name, description or publisher matches `q`. */
  search (q: string, opts: { limit?: number, cursor?: string | null } = {}): CataloguePage {
    return this.index.search(q, opts)
  }

  /** Resolves `ref` in a catalogued registry and verifies its manifest; FUNCTION_NOT_FOUND for publishers not catalogued. */
  async lookup (ref: FunctionRef): Promise<CatalogueFunction> {
    if (!this.#publishers.has(ref.publisher)) throw ShadwError.FUNCTION_NOT_FOUND(formatFunctionRef(ref), 'not in this node\'s catalogue')
    const registry = await Registry.open(this.#opts.host.session(ref.publisher))
    try {
      return await withTimeout((async () => {
        const version = await registry.resolve(ref.name, ref.range)
        const signed = verifyManifest(await registry.signedManifest(ref.name, version), { registryKey: ref.publisher, expect: { name: ref.name, version } })
        const m = signed.manifest
        const entry = this.index.get(ref.publisher, ref.name)
        const versions = await registry.versions(ref.name)
        return {
          entry: entry?.version === m.version ? entry : { ...FunctionIndex.entryOf(m), holders: this.index.holders(m.publisher) },
          manifest: m,
          signature: b4a.toString(signed.signature, 'hex'),
          versions
        }
      })(), `resolving ${formatFunctionRef(ref)}`)
    } finally {
      await registry.close()
    }
  }

  #onannounce (a: RegistryAnnouncement): void {
    if (this.#stopped) return
    for (const publisher of a.registries) {
      if (!this.#learn(publisher)) continue
      if (a.executes) this.index.addHolder(publisher, a.peer)
    }
  }

  /** Follows a publisher for the catalogue; false when the catalogue is full of others. */
  #learn (publisher: string): boolean {
    if (this.#publishers.has(publisher)) return true
    if (this.#publishers.size >= (this.#opts.maxPublishers ?? MAX_CATALOGUE_PUBLISHERS)) {
      this.#skipped++
      return false
    }
    this.#publishers.add(publisher)
    this.#read(publisher)
    return true
  }

  /** Reads a registry now, and once more after a read in progress when it grew meanwhile. */
  #read (publisher: string): void {
    const current = this.#reads.get(publisher)
    if (current !== undefined) { current.again = true; return }
    const state = { running: Promise.resolve(), again: false }
    state.running = this.#index(publisher)
      .catch(err => { debug('registry', publisher.slice(0, 8), 'not read:', (err as Error).message) })
      .finally(() => {
        this.#reads.delete(publisher)
        if (state.again && !this.#stopped) this.#read(publisher)
      })
    this.#reads.set(publisher, state)
  }

  async #index (publisher: string): Promise<void> {
    if (this.#stopped) return
    const host = this.#opts.host
    await host.follow(publisher)
    const probe = host.session(publisher)
    await probe.ready()
    const length = probe.length
    await probe.close()
    // nothing known yet: the first peer that has the log makes Hypercore emit an append
    if (length === 0) return
    if (length > MAX_REGISTRY_BLOCKS) { debug('registry', publisher.slice(0, 8), 'has', length, 'blocks; not read'); return }
    await host.download(publisher, { start: 0, end: length }, { timeout: READ_WAIT_MS })
    const registry = await Registry.open(host.session(publisher))
    try {
      const names = (await registry.names()).slice(0, MAX_FUNCTIONS_PER_PUBLISHER)
      this.index.retain(publisher, new Set(names))
      let refused = 0
      for (const name of names) {
        if (this.#stopped) return
        const live = (await registry.versions(name)).find(v => !v.yanked)
        if (live === undefined) { this.index.remove(publisher, name); continue }
        const stored = await registry.manifest(name, live.version)
        if (stored === null) continue
        try {
          this.index.put(verifyManifest(stored, { registryKey: publisher, expect: { name, version: live.version } }).manifest)
        } catch (err) {
          refused++
          this.index.remove(publisher, name)
          debug('refused', `${publisher.slice(0, 8)}/${name}@${live.version}:`, (err as Error).message)
        }
      }
      this.#refused.set(publisher, refused)
    } finally {
      await registry.close()
    }
  }
}

import b4a from 'b4a'
import { ShadwError } from '../core/errors.ts'
import { checkKeyPair, Registry, type PublishOptions, type PublisherKeyPair, type SignedManifest } from '../core/registry/index.ts'
import { RegistryAnnouncer } from '../core/catalogue/index.ts'
import type { PublishParams } from './bridge-protocol.ts'
import type { BrowserNode } from './browser-node.ts'

/**
 * Name under which Corestore derives this browser's publisher key from its primary key. The
 * primary key sits in the node's OPFS storage, so the publisher key never leaves the browser
 * and is the same after every reload; clearing site data loses it (like `shadw keys` files).
 */
const PUBLISHER_KEY_NAME = 'shadw-publisher'

/** Largest module a page may publish through the bridge (the bridge's own cap is 16 MiB). */
export const MAX_PUBLISH_BYTES = 8 * 1024 * 1024

/**
 * The browser's own publisher: a registry written by the node worker into its Corestore and
 * followed by the node, so the swarm finds it on its topic and replicates it like any log.
 * Opened on the first publish: most tabs never publish.
 */
export class PublisherHost {
  readonly #host: BrowserNode
  #registry: Promise<Registry> | null = null
  #announcer: RegistryAnnouncer | null = null

  constructor (host: BrowserNode) {
    this.#host = host
  }

  /** The publisher key (= registry key), hex; opens the registry. */
  async key (): Promise<string> {
    return (await this.#open()).key
  }

  /** Publishes a module; returns the exact ref and the signed manifest. */
  async publish (params: unknown): Promise<{ ref: string, signed: SignedManifest }> {
    const p = params as Partial<PublishParams> | null
    if (p === null || typeof p !== 'object' || !(p.module instanceof Uint8Array)) throw ShadwError.INVALID_ARGUMENT('module must be a Uint8Array')
    if (p.module.byteLength > MAX_PUBLISH_BYTES) throw ShadwError.INVALID_ARGUMENT(`module exceeds ${MAX_PUBLISH_BYTES} bytes`)
    if (typeof p.name !== 'string' || typeof p.version !== 'string') throw ShadwError.INVALID_ARGUMENT('name and version must be strings')
    const opts: PublishOptions = { name: p.name, version: p.version }
    // the rest is checked by the registry's manifest validation, which names what is wrong
    if (p.abi !== undefined) opts.abi = p.abi
    if (p.limits !== undefined) opts.limits = p.limits
    if (p.access !== undefined) opts.access = p.access
    if (p.authDomains !== undefined) opts.authDomains = p.authDomains
    if (p.description !== undefined) opts.description = p.description
    if (p.readme !== undefined) opts.readme = p.readme
    if (p.examples !== undefined) opts.examples = p.examples
    const registry = await this.#open()
    const signed = await registry.publish(p.module, opts)
    return { ref: `${registry.key}/${p.name}@${p.version}`, signed }
  }

  async close (): Promise<void> {
    this.#announcer?.stop()
    this.#announcer = null
    const r = this.#registry
    this.#registry = null
    if (r !== null) await (await r).close()
  }

  #open (): Promise<Registry> {
    this.#registry ??= (async () => {
      const kp = await (this.#host.store as unknown as { createKeyPair (name: string): Promise<PublisherKeyPair> }).createKeyPair(PUBLISHER_KEY_NAME)
      const registry = await Registry.create(this.#host.store, checkKeyPair({ publicKey: b4a.from(kp.publicKey), secretKey: b4a.from(kp.secretKey) }))
      // followed logs are announced on their topics and reopened after a restart
      await this.#host.node.follow(registry.key)
      const blobKey = await registry.blobKey()
      if (blobKey !== null) await this.#host.node.follow(blobKey)
      // super nodes' catalogues learn the registry from this announcement (docs/functions.md);
      // a tab announces no holding: the executors that count are the ones serving it
      this.#announcer ??= new RegistryAnnouncer({ host: this.#host.node, executes: false, registries: () => [registry.key], onannounce: () => {} })
      this.#announcer.start()
      return registry
    })()
    this.#registry.catch(() => { this.#registry = null })
    return this.#registry
  }
}

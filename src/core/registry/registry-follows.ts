/**
 * The publishers a node's storage serves: a local, never-announced Hyperbee of publisher keys.
 * `shadw publish` adds the publisher to it (the super node may not be running then), and the
 * super node follows every publisher in it when it starts, so published functions are served.
 */
import b4a from 'b4a'
import type Corestore from 'corestore'
import Hyperbee from 'hyperbee'
import { parseKey, keyToHex } from '../keys.ts'

/** Name of the local core; never joined on the swarm. */
export const FOLLOWS_CORE_NAME = 'shadw-registry-follows'

/** @example `const follows = await RegistryFollows.open(store); await follows.add(key)` */
export class RegistryFollows {
  readonly #bee: Hyperbee<Uint8Array>

  private constructor (bee: Hyperbee<Uint8Array>) {
    this.#bee = bee
  }

  /** Opens (creating if needed) the follow list in `store`. */
  static async open (store: Corestore): Promise<RegistryFollows> {
    const bee = new Hyperbee<Uint8Array>(store.get({ name: FOLLOWS_CORE_NAME }), { keyEncoding: 'utf-8', valueEncoding: 'binary' })
    await bee.ready()
    return new RegistryFollows(bee)
  }

  /** Adds a publisher (hex key); idempotent. */
  async add (publisher: string): Promise<void> {
    const hex = keyToHex(parseKey(publisher))
    if (await this.#bee.get(hex) === null) await this.#bee.put(hex, b4a.from([1]))
  }

  /** Every followed publisher, hex. */
  async list (): Promise<string[]> {
    const out: string[] = []
    for await (const { key } of this.#bee.createReadStream()) out.push(key)
    return out
  }

  /** Closes the list. */
  async close (): Promise<void> {
    await this.#bee.close()
  }
}

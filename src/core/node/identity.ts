/**
 * A node's swarm identity: the ed25519 key pair its connections are made with and its
 * receipts and records are signed with. Corestore derives it from the store's primary key
 * and a fixed name, so it lives and dies with the node's storage and is never written on its
 * own; every host (super node, node worker) derives it here, the same way.
 */
import type Corestore from 'corestore'
import type { KeyPair } from 'hyperswarm'

/**
 * Name under which Corestore derives the node's swarm identity from its primary key. Part of
 * what is stored: another name would give an existing node a new identity.
 */
export const IDENTITY_KEY_NAME = 'shadw-swarm-identity'

/**
 * The node's swarm identity, from its (ready) store: the same key pair on every start.
 *
 * @example
 * ```ts
 * const store = new Corestore(storage)
 * await store.ready()
 * const swarm = new Hyperswarm({ dht, keyPair: await nodeIdentity(store) })
 * ```
 */
export async function nodeIdentity (store: Corestore): Promise<KeyPair> {
  // corestore's typings (src/types) leave out createKeyPair; it is public API of Corestore 6
  return await (store as unknown as { createKeyPair (name: string): Promise<KeyPair> }).createKeyPair(IDENTITY_KEY_NAME)
}

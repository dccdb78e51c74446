/**
 * Serving published registries: a node follows every publisher in its storage's follow list
 * (joining each registry's topic, so peers that follow the publisher find it) and, when the
 * registry is fully local, the publisher's blob log too.
 */
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { log } from '../core/log.ts'
import { Registry } from './registry.ts'
import { RegistryFollows } from './registry-follows.ts'

const debug = log('registry')

/** The parts of a node this needs (ShadwNode implements them). */
export interface FollowHost {
  follow (key: string): Promise<unknown>
  session (key: string): Hypercore
}

/** Follows every publisher listed in `store`; returns their keys. */
export async function followPublishers (host: FollowHost, store: Corestore): Promise<string[]> {
  const follows = await RegistryFollows.open(store)
  try {
    const publishers = await follows.list()
    for (const publisher of publishers) {
      await host.follow(publisher)
      const registry = await Registry.open(host.session(publisher))
      try {
        // only a fully local registry is read here: a remote one must not stall start-up
        const core = registry.core
        const blobKey = core.length > 0 && core.contiguousLength === core.length ? await registry.blobKey() : null
        if (blobKey !== null) await host.follow(blobKey)
        debug('serving publisher', publisher.slice(0, 8), 'blob log', blobKey?.slice(0, 8) ?? '(not local yet)')
      } finally {
        await registry.close()
      }
    }
    return publishers
  } finally {
    await follows.close()
  }
}

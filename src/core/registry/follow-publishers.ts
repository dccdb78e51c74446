/**
 * Serving registries: a node follows every publisher in its storage's follow list, joining
 * each registry's topic so peers that follow the publisher find it. A publisher's own
 * registry (written into this storage by `shadw publish`) is already local; any other is
 * mirrored in the background — the whole registry and every block its manifests name — and
 * mirrored again whenever it grows, so the node keeps serving it while the publisher is away.
 */
import type Corestore from 'corestore'
import type Hypercore from 'hypercore'
import { log } from '../log.ts'
import { Registry } from './registry.ts'
import { RegistryFollows } from './registry-follows.ts'

const debug = log('registry')

/** Bound on one mirror download; a stalled one is retried at the registry's next append. */
export const MIRROR_WAIT_MS = 60_000

/** The parts of a node this needs (ShadwNode implements them). */
export interface FollowHost {
  follow (key: string): Promise<unknown>
  session (key: string): Hypercore
  download (key: string, range: { start?: number, end?: number }, opts?: { timeout?: number }): Promise<unknown>
  on (event: 'append', listener: (log: { key: string, length: number }) => void): () => void
}

/** Follows every publisher listed in `store`; returns their keys. Never waits on the network. */
export async function followPublishers (host: FollowHost, store: Corestore): Promise<string[]> {
  const follows = await RegistryFollows.open(store)
  let publishers: string[]
  try {
    publishers = await follows.list()
  } finally {
    await follows.close()
  }
  for (const publisher of publishers) {
    await host.follow(publisher)
    const core = host.session(publisher)
    const local = core.length > 0 && core.contiguousLength === core.length
    await core.close()
    if (local) {
      const registry = await Registry.open(host.session(publisher))
      try {
        const blobKey = await registry.blobKey()
        if (blobKey !== null) await host.follow(blobKey)
      } finally {
        await registry.close()
      }
      debug('serving own registry', publisher.slice(0, 8))
    } else {
      startMirror(host, publisher)
    }
  }
  return publishers
}

/** Mirrors a remote registry now and after every append to it; failures are logged, never thrown. */
function startMirror (host: FollowHost, publisher: string): void {
  let running: Promise<void> | null = null
  let again = false
  const run = (): void => {
    if (running !== null) { again = true; return }
    running = mirror(host, publisher)
      .catch(err => { debug('mirror of', publisher.slice(0, 8), 'paused:', (err as Error).message) })
      .finally(() => {
        running = null
        if (again) { again = false; run() }
      })
  }
  host.on('append', ({ key }) => { if (key === publisher) run() })
  run()
}

async function mirror (host: FollowHost, publisher: string): Promise<void> {
  // Nothing known yet: Hypercore learns the length from the first peer that has the log and
  // emits an append, which runs the mirror again. No timer is armed meanwhile, so a stopping
  // node is never held open by a wait for a publisher that may never come.
  const probe = host.session(publisher)
  const length = probe.length
  await probe.close()
  if (length === 0) return
  await host.download(publisher, { start: 0, end: length }, { timeout: MIRROR_WAIT_MS })
  const registry = await Registry.open(host.session(publisher))
  let blobKey: string | null
  let blobEnd = 0
  try {
    blobKey = await registry.blobKey()
    for (const name of await registry.names()) {
      for (const { version } of await registry.versions(name)) {
        const { blob } = (await registry.signedManifest(name, version)).manifest
        // manifests are checked against the registry's own blob log; anything else is not ours to mirror
        if (blob.key === blobKey) blobEnd = Math.max(blobEnd, blob.start + blob.length)
      }
    }
  } finally {
    await registry.close()
  }
  if (blobKey === null || blobEnd === 0) return
  await host.follow(blobKey)
  await host.download(blobKey, { start: 0, end: blobEnd }, { timeout: MIRROR_WAIT_MS })
  debug('mirrored', publisher.slice(0, 8), 'blob blocks', blobEnd)
}

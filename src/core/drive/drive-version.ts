/**
 * Which version of a drive a caller may pin, checked by the caller itself: executors tell it
 * the versions they know, and a version counts only once this node's own copy of the drive's
 * entry log reaches it. Hypercore accepts a longer log only with a root the drive's key
 * signed, so a peer cannot invent a version; the most a liar can do is offer an older one,
 * and the newest wins.
 */
import type Hypercore from 'hypercore'
import type { DriveHost } from './drive.ts'
import { keyIsolatedStore } from './key-isolation.ts'
import { parseDriveKey } from './paths.ts'

/** Pause between asks for a longer log while no peer has shown one yet. */
const VERSION_POLL_MS = 25
/** Most asks one check makes, whatever its time: bounds the loop on a clock that stalls. */
const MAX_VERSION_ASKS = 400

/**
 * The newest version of drive `key` this node can vouch for: its entry log's signed length,
 * brought up to the highest of `claims` when peers serve it within `timeoutMs` (a claim no
 * peer backs with a signed root is left behind). 0 when this node knows no version.
 * Encrypted drives too: only the log's length is read, never a block.
 */
export async function verifiedVersion (host: DriveHost, key: string, claims: readonly number[], timeoutMs: number): Promise<number> {
  const store = keyIsolatedStore(host.storeSession())
  let core: Hypercore | null = null
  try {
    core = store.get({ key: parseDriveKey(key) })
    await core.ready()
    const want = Math.max(1, ...claims)
    const end = Date.now() + timeoutMs
    // a log just opened hears of peers' lengths as their channels open: ask until it reaches
    // the claim or the time is up
    for (let i = 0; i < MAX_VERSION_ASKS && core.length < want; i++) {
      const left = end - Date.now()
      if (left <= 0) break
      await within(core.update({ wait: true }), left)
      if (core.length < want) await new Promise(resolve => setTimeout(resolve, Math.min(VERSION_POLL_MS, Math.max(0, end - Date.now()))))
    }
    return core.length
  } catch {
    return core?.length ?? 0
  } finally {
    await core?.close().catch(() => {})
    await store.close().catch(() => {})
  }
}

async function within (p: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    await Promise.race([p.catch(() => {}), new Promise<void>(resolve => { timer = setTimeout(resolve, ms) })])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Drives opened read-only on a node as requests name them, at most `max` at a time (least
 * recently used closed first), so a stream of requests for random keys cannot make a node
 * hold topics and sessions without end. What every host serving `/drive/*` uses.
 */
import { Drive, type DriveHost } from './drive.ts'
import type { DriveOpener } from './http.ts'

/** Most drives a node keeps open for serving by default. */
export const MAX_OPEN_DRIVES = 64

/** An opener over `host` and a `close()` for when the host stops. */
export function driveOpener (host: DriveHost, max = MAX_OPEN_DRIVES): { open: DriveOpener, close (): Promise<void> } {
  const open = new Map<string, Promise<Drive>>()
  return {
    open: async key => {
      const cached = open.get(key)
      if (cached !== undefined) {
        // most recently used last
        open.delete(key)
        open.set(key, cached)
        return await cached
      }
      const opening = Drive.open(host, key)
      open.set(key, opening)
      opening.catch(() => { if (open.get(key) === opening) open.delete(key) })
      while (open.size > max) {
        const [oldest, drive] = open.entries().next().value as [string, Promise<Drive>]
        open.delete(oldest)
        drive.then(async d => { await d.close() }, () => {})
      }
      return await opening
    },
    close: async () => {
      const all = [...open.values()]
      open.clear()
      await Promise.allSettled(all.map(async p => { await (await p).close() }))
    }
  }
}

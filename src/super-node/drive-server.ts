/**
 * The super node's `/drive/*`: drives opened read-only on its node as requests name them, at
 * most {@link MAX_OPEN_DRIVES} at a time (least recently used closed first), so a stream of
 * requests for random keys cannot make it hold topics and sessions without end.
 */
import { Drive, driveHandler, type DriveOpener } from '../core/drive/index.ts'
import type { ShadwNode } from '../core/node/index.ts'

/** Most drives one super node keeps open for serving. */
export const MAX_OPEN_DRIVES = 64

/** The Fetch handler for `/drive/*` on `node`, and a `close()` for when the node stops. */
export function driveServer (node: ShadwNode): { handler: (req: Request) => Promise<Response>, close (): Promise<void> } {
  const open = new Map<string, Promise<Drive>>()
  const opener: DriveOpener = async key => {
    const cached = open.get(key)
    if (cached !== undefined) {
      // most recently used last
      open.delete(key)
      open.set(key, cached)
      return await cached
    }
    const opening = Drive.open(node, key)
    open.set(key, opening)
    opening.catch(() => { if (open.get(key) === opening) open.delete(key) })
    while (open.size > MAX_OPEN_DRIVES) {
      const [oldest, drive] = open.entries().next().value as [string, Promise<Drive>]
      open.delete(oldest)
      drive.then(async d => { await d.close() }, () => {})
    }
    return await opening
  }
  return {
    handler: driveHandler(opener),
    close: async () => {
      const all = [...open.values()]
      open.clear()
      await Promise.allSettled(all.map(async p => { await (await p).close() }))
    }
  }
}

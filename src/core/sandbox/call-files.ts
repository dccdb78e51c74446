/**
 * A call's on-demand files on the pool's side: served to the worker through a shared block
 * (file-channel.ts) where this thread can share memory, or else fetched whole before the call
 * and sent with it, the only way a worker without shared memory can read them (a browser page
 * that is not cross-origin isolated).
 */
import { ShadwError } from '../errors.ts'
import { WINDOW_BYTES, type FileSource } from './file-channel.ts'
import type { Preopen, TreeEntry } from './wasi-fs-tree.ts'

/** Most bytes fetched before a call when its worker cannot fetch on demand. */
export const MAX_PREFETCH_BYTES = 256 * 1024 * 1024

/** Number of on-demand files `preopens` name (the highest id + 1; 0: none). */
export function lazyFileCount (preopens: Preopen[] | undefined): number {
  let n = 0
  const walk = (t: TreeEntry): void => {
    if (t.kind === 'lazy') n = Math.max(n, t.id + 1)
    else if (t.kind === 'dir') for (const e of Object.values(t.entries)) walk(e)
  }
  for (const p of preopens ?? []) walk(p.tree)
  return n
}

/**
 * The bytes of every lazy file `preopens` name, by id, fetched whole from `source`. The
 * worker reads them through the same pages and fuel as fetches during the call
 * (lazy-files.ts), so a call costs the same fuel either way. @throws `MOUNT_TOO_LARGE` past
 * {@link MAX_PREFETCH_BYTES} (checked before any fetch), `ABORTED`, or what `source` throws
 */
export async function prefetchLazyFiles (preopens: Preopen[], source: FileSource, signal?: { readonly aborted: boolean }): Promise<Uint8Array[]> {
  const sizes = new Map<number, number>()
  const walk = (t: TreeEntry): void => {
    if (t.kind === 'lazy') sizes.set(t.id, Math.max(t.size, sizes.get(t.id) ?? 0))
    else if (t.kind === 'dir') for (const e of Object.values(t.entries)) walk(e)
  }
  for (const p of preopens) walk(p.tree)
  let total = 0
  for (const size of sizes.values()) total += size
  if (total > MAX_PREFETCH_BYTES) throw ShadwError.MOUNT_TOO_LARGE('(all mounts of the call)', `${MAX_PREFETCH_BYTES} bytes to fetch before a call whose worker cannot fetch on demand`)
  const out: Uint8Array[] = Array.from({ length: lazyFileCount(preopens) }, () => new Uint8Array(0))
  for (const [id, size] of [...sizes].sort(([a], [b]) => a - b)) {
    const data = new Uint8Array(size)
    for (let at = 0; at < size;) {
      if (signal?.aborted === true) throw ShadwError.ABORTED()
      const chunk = await source.read(id, at, Math.min(WINDOW_BYTES, size - at))
      if (chunk.length === 0) throw ShadwError.INTERNAL(`on-demand file ${id} ended at ${at} of ${size} bytes`)
      data.set(chunk.subarray(0, size - at), at)
      at += chunk.length
    }
    out[id] = data
  }
  return out
}

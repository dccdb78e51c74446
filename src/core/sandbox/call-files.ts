/**
 * A call's on-demand files on the pool's side: served to the worker through a shared block
 * (file-channel.ts) where this thread can share memory, or else fetched whole before the call
 * and sent as plain bytes, the only way a worker without shared memory can read them (a
 * browser page that is not cross-origin isolated).
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
 * `preopens` with every lazy file's bytes fetched from `source` (new trees; the given ones
 * are left as they are). @throws `MOUNT_TOO_LARGE` past {@link MAX_PREFETCH_BYTES} (checked
 * before any fetch), `ABORTED`, or what `source` throws
 */
export async function prefetchLazyFiles (preopens: Preopen[], source: FileSource, signal?: { readonly aborted: boolean }): Promise<Preopen[]> {
  let total = 0
  const sum = (t: TreeEntry): void => {
    if (t.kind === 'lazy') total += t.size
    else if (t.kind === 'dir') for (const e of Object.values(t.entries)) sum(e)
  }
  for (const p of preopens) sum(p.tree)
  if (total > MAX_PREFETCH_BYTES) throw ShadwError.MOUNT_TOO_LARGE('(all mounts of the call)', `${MAX_PREFETCH_BYTES} bytes to fetch before a call whose worker cannot fetch on demand`)
  const fetch = async (t: TreeEntry): Promise<TreeEntry> => {
    if (t.kind === 'dir') {
      const entries: Record<string, TreeEntry> = {}
      for (const [name, e] of Object.entries(t.entries)) entries[name] = await fetch(e)
      return { kind: 'dir', entries }
    }
    if (t.kind !== 'lazy') return t
    const data = new Uint8Array(t.size)
    for (let at = 0; at < t.size;) {
      if (signal?.aborted === true) throw ShadwError.ABORTED()
      const chunk = await source.read(t.id, at, Math.min(WINDOW_BYTES, t.size - at))
      if (chunk.length === 0) throw ShadwError.INTERNAL(`on-demand file ${t.id} ended at ${at} of ${t.size} bytes`)
      data.set(chunk.subarray(0, t.size - at), at)
      at += chunk.length
    }
    return { kind: 'file', data }
  }
  const out: Preopen[] = []
  for (const p of preopens) out.push({ guest: p.guest, tree: await fetch(p.tree) })
  return out
}

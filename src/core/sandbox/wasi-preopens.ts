/**
 * Validation of the directory trees a WASI call mounts. They come from a CLI user, a page or
 * a peer, and a worker trusts nothing it is sent: each tree is checked for shape, names and
 * size before a call runs over it.
 */
import { ShadwError } from '../errors.ts'
import { isPageSize, MIN_PAGE_BYTES, PAGE_BYTES } from './lazy-files.ts'
import type { Preopen, TreeEntry } from './wasi-fs-tree.ts'

/** Most preopens one call may have. */
export const MAX_PREOPENS = 16
/** Most nodes across a call's trees. */
export const MAX_TREE_NODES = 100_000
/** Most file bytes across a call's trees (they are copied to the worker). */
export const MAX_TREE_BYTES = 512 * 1024 * 1024
/** Most on-demand files a call may have (their bytes are not in the tree, only their sizes). */
export const MAX_LAZY_FILES = MAX_TREE_NODES
/** Deepest directory nesting. */
export const MAX_TREE_DEPTH = 64
/** Largest scratch budget a call may ask for. */
export const MAX_SCRATCH_BYTES = 1024 * 1024 * 1024

function bad (msg: string): never {
  throw ShadwError.INVALID_ARGUMENT(`preopens: ${msg}`)
}

function validName (name: string): boolean {
  return name.length > 0 && name.length <= 255 && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0')
}

/** Checks `v` is a list of {@link Preopen}s within the bounds above; returns it typed. */
export function parsePreopens (v: unknown): Preopen[] {
  if (v === undefined) return []
  if (!Array.isArray(v) || v.length > MAX_PREOPENS) bad(`must be an array of at most ${MAX_PREOPENS}`)
  let nodes = 0
  let bytes = 0
  const walk = (t: unknown, depth: number): void => {
    if (++nodes > MAX_TREE_NODES) bad(`more than ${MAX_TREE_NODES} nodes`)
    if (depth > MAX_TREE_DEPTH) bad(`deeper than ${MAX_TREE_DEPTH}`)
    if (typeof t !== 'object' || t === null) bad('a node must be an object')
    const n = t as Record<string, unknown>
    if (n['kind'] === 'file') {
      if (!(n['data'] instanceof Uint8Array)) bad('a file needs data bytes')
      bytes += n['data'].length
      if (bytes > MAX_TREE_BYTES) bad(`more than ${MAX_TREE_BYTES} bytes`)
    } else if (n['kind'] === 'lazy') {
      const { size, id } = n
      if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) bad('a lazy file needs a size')
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= MAX_LAZY_FILES) bad('a lazy file needs an id')
      if (n['page'] !== undefined && !isPageSize(n['page'])) bad(`a lazy file's page is a power of two from ${MIN_PAGE_BYTES} to ${PAGE_BYTES} bytes`)
    } else if (n['kind'] === 'symlink') {
      if (typeof n['target'] !== 'string' || n['target'].length > 4096) bad('a symlink needs a target string')
    } else if (n['kind'] === 'dir') {
      const entries = n['entries']
      if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) bad('a dir needs an entries object')
      for (const [name, child] of Object.entries(entries)) {
        if (!validName(name)) bad(`bad entry name ${JSON.stringify(name.slice(0, 64))}`)
        walk(child, depth + 1)
      }
    } else {
      bad('kind must be file, lazy, dir or symlink')
    }
  }
  for (const p of v as unknown[]) {
    if (typeof p !== 'object' || p === null) bad('each preopen must be an object')
    const { guest, tree } = p as Record<string, unknown>
    if (typeof guest !== 'string' || guest.length === 0 || guest.length > 4096) bad('guest must be a path')
    if ((tree as TreeEntry | undefined)?.kind !== 'dir') bad(`${guest} must be a directory`)
    walk(tree, 0)
  }
  return v as Preopen[]
}

/** True when some tree of `preopens` has a lazy file. */
export function hasLazyFiles (preopens: Preopen[]): boolean {
  const walk = (t: TreeEntry): boolean => t.kind === 'lazy' || (t.kind === 'dir' && Object.values(t.entries).some(walk))
  return preopens.some(p => walk(p.tree))
}

/** Checks a scratch budget; undefined keeps the default. */
export function parseScratchBytes (v: unknown): number | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > MAX_SCRATCH_BYTES) {
    throw ShadwError.INVALID_ARGUMENT(`scratchBytes must be an integer in 0..${MAX_SCRATCH_BYTES}`)
  }
  return v
}

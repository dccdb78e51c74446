/**
 * Reads a host directory into the plain tree a WASI preopen is built from (`shadw run
 * --dir`). The tree is a snapshot: the module's writes go to its per-call overlay, so the
 * host directory is never modified. Reading stops with a typed error past a size bound
 * instead of copying an unexpectedly large directory into memory.
 */
import { lstat, readdir, readFile, readlink } from 'node:fs/promises'
import { join } from 'node:path'
import { ShadwError } from '../core/errors.ts'
import type { TreeEntry } from '../core/sandbox/index.ts'

/** Most file bytes `--dir` copies from the host, across all its directories. */
export const MAX_HOST_TREE_BYTES = 256 * 1024 * 1024
/** Most files, directories and symlinks `--dir` copies. */
export const MAX_HOST_TREE_NODES = 50_000

/** Running totals shared by every `--dir` of one command. */
export interface TreeBudget { bytes: number, nodes: number }

/**
 * Snapshots `dir`. Symlinks are kept as links (an absolute one cannot be followed inside the
 * sandbox); sockets, devices and FIFOs are left out.
 */
export async function readHostTree (dir: string, budget: TreeBudget = { bytes: 0, nodes: 0 }): Promise<TreeEntry> {
  const st = await lstat(dir)
  if (!st.isDirectory()) throw ShadwError.INVALID_ARGUMENT(`--dir ${dir} is not a directory`)
  return await readDir(dir, budget)
}

async function readDir (dir: string, budget: TreeBudget): Promise<TreeEntry> {
  const entries: Record<string, TreeEntry> = {}
  for (const ent of await readdir(dir, { withFileTypes: true })) {
    if (++budget.nodes > MAX_HOST_TREE_NODES) throw ShadwError.INVALID_ARGUMENT(`--dir holds more than ${MAX_HOST_TREE_NODES} entries`)
    const path = join(dir, ent.name)
    if (ent.isDirectory()) {
      entries[ent.name] = await readDir(path, budget)
    } else if (ent.isSymbolicLink()) {
      entries[ent.name] = { kind: 'symlink', target: await readlink(path) }
    } else if (ent.isFile()) {
      const size = (await lstat(path)).size
      budget.bytes += size
      if (budget.bytes > MAX_HOST_TREE_BYTES) throw ShadwError.INVALID_ARGUMENT(`--dir holds more than ${MAX_HOST_TREE_BYTES} bytes of files`)
      const bytes = await readFile(path)
      entries[ent.name] = { kind: 'file', data: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) }
    }
  }
  return { kind: 'dir', entries }
}

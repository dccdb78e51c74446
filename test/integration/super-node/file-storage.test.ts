/**
 * A super node's storage against the storage compliance suites: `fileStorage` (random-access-
 * file with synchronous reads and writes) in a real directory, each file opened as Corestore 6
 * opens the directory it is given, failures reported through the super node's `storageError`.
 * Corestore's own default for a path runs the same suites, so the two stay interchangeable.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Hypercore from 'hypercore'
import { afterAll, beforeAll } from 'vitest'
import { fileStorage } from '../../../src/super-node/file-storage.ts'
import { storageError } from '../../../src/super-node/storage-error.ts'
import { describeModuleStore } from '../../compliance/module-store.ts'
import { describeRandomAccessStorage } from '../../compliance/random-access-storage.ts'
import { FILES } from '../../compliance/storage-capabilities.ts'
import { StorageRunner, type StorageFactory } from '../../compliance/storage-wire.ts'

/**
 * The options Corestore 6's constructor hands `Hypercore.defaultStorage` for a directory
 * (corestore/index.js): only `primary-key` is locked, up to 512 files stay open, and unlink
 * removes the directories it empties.
 */
const AS_CORESTORE_OPENS = { lock: 'primary-key', poolSize: 512, rmdir: true }

const dirs: string[] = []
const runners = new Map<string, StorageRunner>()

function setUp (name: string, open: (dir: string) => StorageFactory): void {
  beforeAll(async () => {
    const base = await mkdtemp(join(tmpdir(), 'shadw-file-storage-'))
    dirs.push(base)
    runners.set(name, new StorageRunner({
      factory: root => open(join(base, root)),
      hostError: (err, path) => storageError(path, err),
      remove: async root => { await rm(join(base, root), { recursive: true, force: true }) }
    }))
  })
}

afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true })
})

function target (name: string): () => StorageRunner {
  return () => {
    const runner = runners.get(name)
    if (runner === undefined) throw new Error(`the ${name} storage runner is not set up`)
    return runner
  }
}

setUp('sync', dir => fileStorage(dir) as unknown as StorageFactory)
setUp('default', dir => Hypercore.defaultStorage(dir, AS_CORESTORE_OPENS) as StorageFactory)

describeRandomAccessStorage('fileStorage (synchronous random-access-file), as a super node opens it', FILES, target('sync'))
describeModuleStore('StorageModuleStore over fileStorage', { persistent: true }, target('sync'))
describeRandomAccessStorage('random-access-file, as Corestore opens a path', FILES, target('default'))

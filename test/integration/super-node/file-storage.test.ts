/**
 * A super node's storage against the storage compliance suites: random-access-file in a real
 * directory, each file opened as Corestore 6 opens the directory it is given (`new
 * Corestore(path)` in super-node.ts), failures reported through the super node's
 * `storageError`.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Hypercore from 'hypercore'
import { afterAll, beforeAll } from 'vitest'
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

let dir: string | undefined
let runner: StorageRunner | undefined

beforeAll(async () => {
  const base = await mkdtemp(join(tmpdir(), 'shadw-file-storage-'))
  dir = base
  runner = new StorageRunner({
    factory: root => Hypercore.defaultStorage(join(base, root), AS_CORESTORE_OPENS) as StorageFactory,
    hostError: (err, path) => storageError(path, err),
    remove: async root => { await rm(join(base, root), { recursive: true, force: true }) }
  })
})

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

function target (): StorageRunner {
  if (runner === undefined) throw new Error('the storage runner is not set up')
  return runner
}

describeRandomAccessStorage('random-access-file, as a super node opens it', FILES, target)
describeModuleStore('StorageModuleStore over random-access-file', { persistent: true }, target)

/**
 * random-access-memory against the storage compliance suites: it stores the CLI's throwaway
 * node (`shadw invoke`, src/cli/invoke.ts) and most tests' nodes, so where it parts from the
 * files and OPFS a node keeps for real, the difference is written down here.
 */
import RAM from 'random-access-memory'
import { describeRandomAccessStorage, type StorageCapabilities } from '../../compliance/random-access-storage.ts'
import { StorageRunner } from '../../compliance/storage-wire.ts'

/** How random-access-memory 6 differs, each read from its source. */
const MEMORY: StorageCapabilities = {
  // it has no open step that could fail: a name never written is an empty file
  missing: 'empty',
  // its read error carries no code, only this message
  readPastEnd: { ok: false, code: null, message: 'Could not satisfy length' },
  // it checks offset + size against the length even for an empty read
  emptyReadPastEnd: 'fails',
  // a write sets the length to offset + size, even when size is 0
  emptyWritePastEnd: 'grows',
  // del only drops whole 1 MiB pages; bytes of a page it partly covers stay
  delClears: 'whole-pages',
  delToEnd: 'truncates',
  // del sets the length to its offset when it reaches past the end, wherever that offset is
  delPastEnd: 'grows',
  // every call completes before it returns
  completesInIssueOrder: true,
  // RAM.reusable() hands each new instance a copy of the file as it was
  instancesShareFile: false,
  // memory dies with the process: a restart or another process starts empty
  persistent: false,
  exclusive: false,
  // a name is a key, not a path
  directories: false
}

const runner = new StorageRunner({ factory: () => RAM.reusable() })

describeRandomAccessStorage('random-access-memory', MEMORY, () => runner)

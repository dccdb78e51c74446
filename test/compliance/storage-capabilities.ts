/**
 * Where each storage shadw keeps cores on parts from the others, side by side. Every flag is
 * read from the implementation's source and checked by the random-access-storage suite.
 */
import type { StorageCapabilities } from './random-access-storage.ts'

/**
 * random-access-file 4 in a super node's directory, opened as Corestore 6 opens it. Locks and
 * hole punching come from fs-native-extensions, an optional dependency of random-access-file:
 * without it a second super node would not be refused and `del` would clear nothing, and the
 * suite would say so.
 */
export const FILES: StorageCapabilities = {
  missing: 'ENOENT',
  readPastEnd: { ok: false, code: 'EPARTIALREAD' },
  emptyReadPastEnd: 'answered',
  emptyWritePastEnd: 'ignored',
  delClears: 'bytes',
  // del punches a hole (fallocate with KEEP_SIZE) and never truncates, except with size Infinity
  delToEnd: 'zeroes',
  delPastEnd: 'ignored',
  // each call is its own job on libuv's thread pool, and two jobs may run at once
  completesInIssueOrder: false,
  instancesShareFile: true,
  persistent: true,
  exclusive: true,
  directories: true
}

/** `OpfsStorage` over the Origin Private File System, in the browser node worker. */
export const OPFS: StorageCapabilities = {
  missing: 'ENOENT',
  readPastEnd: { ok: false, code: 'EPARTIALREAD' },
  emptyReadPastEnd: 'answered',
  emptyWritePastEnd: 'ignored',
  delClears: 'bytes',
  // a sync access handle cannot punch holes: a del that reaches the end truncates rather
  // than write zeros up to it
  delToEnd: 'truncates',
  delPastEnd: 'ignored',
  // once the (async) open is done, every handle call is synchronous
  completesInIssueOrder: true,
  // instances on one path share one handle
  instancesShareFile: true,
  persistent: true,
  exclusive: true,
  directories: true
}

/**
 * random-access-memory 6 through `RAM.reusable()`: the CLI's throwaway node (`shadw invoke`)
 * and most tests' nodes.
 */
export const MEMORY: StorageCapabilities = {
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

/**
 * random-access-memory against the random-access-storage compliance suite: it stores the
 * CLI's throwaway node (`shadw invoke`, src/cli/invoke.ts) and most tests' nodes, so where it
 * parts from the files and OPFS a node keeps for real is written down (storage-capabilities.ts).
 */
import RAM from 'random-access-memory'
import { describeRandomAccessStorage } from '../../compliance/random-access-storage.ts'
import { MEMORY } from '../../compliance/storage-capabilities.ts'
import { StorageRunner } from '../../compliance/storage-wire.ts'

const runner = new StorageRunner({ factory: () => RAM.reusable() })

describeRandomAccessStorage('random-access-memory', MEMORY, () => runner)

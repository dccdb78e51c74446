import RAM from 'random-access-memory'
import { describeModuleStore } from '../../../compliance/module-store.ts'
import { StorageRunner } from '../../../compliance/storage-wire.ts'

// The module store over memory, as tests and the CLI's throwaway node run it; over files in
// test/integration/super-node/file-storage.test.ts, over OPFS in test/browser/browser/opfs-storage.test.ts
const runner = new StorageRunner({ factory: () => RAM.reusable() })

describeModuleStore('StorageModuleStore over random-access-memory', { persistent: false }, () => runner)

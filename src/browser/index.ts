// Public exports of the browser host (runs in the node's Dedicated Worker).
export { OpfsStorage, opfsStorage, LOCK_RETRIES, LOCK_RETRY_DELAY_MS, LOCK_RETRY_MAX_DELAY_MS, type OpfsStorageFactory, type OpfsStorageOptions, type OpfsDirectoryHandle, type OpfsFileHandle, type OpfsSyncAccessHandle } from './opfs-storage.ts'
export { coreOpenError, storageError, StorageProtocolError, type StorageProtocolCode } from './storage-errors.ts'

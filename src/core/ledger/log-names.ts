/**
 * The local names of the logs a node's services write, the same on every host. A node's
 * Corestore derives a named log's key from its primary key and this name, so a name is part
 * of the stored data: renaming one would start an empty log beside the old one.
 */

/** Where an executor appends its signed receipts (each with its price, docs/pricing.md). */
export const LEDGER_LOG_NAME = 'ledger'

/**
 * Where a calling node appends its signed miss records (miss.ts). Not the ledger: the
 * executor role is the ledger's only writer, which is what lets it give a receipt its block
 * index before the append completes.
 */
export const MISSES_LOG_NAME = 'misses'

/** Where a light node appends its attestations (attestation.ts). */
export const ATTESTATIONS_LOG_NAME = 'attestations'

/**
 * Where a holder appends its signed storage receipts (storage-receipt.ts): its own log, so
 * the executor stays the compute ledger's only writer.
 */
export const STORAGE_LEDGER_LOG_NAME = 'storage-ledger'

/** Every log a node's own services write: pages read them but never append (bridge-server.ts). */
export const SERVICE_LOG_NAMES: readonly string[] = [LEDGER_LOG_NAME, ATTESTATIONS_LOG_NAME, MISSES_LOG_NAME, STORAGE_LEDGER_LOG_NAME]

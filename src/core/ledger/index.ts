/** The ledger: every signed record kind (receipts and their batches, attestations, misses), the one signed-record codec, and the code that reads and announces ledgers (isomorphic). See docs/pricing.md. */
export {
  RECEIPT_VERSION, RECEIPT_DOMAIN, RECEIPT_BATCH_VERSION, RECEIPT_BATCH_DOMAIN, RECEIPT_CHAIN_VERSION, RECEIPT_CHAIN_BATCH_VERSION, UNPRICED, VERIFIED_ROOTS,
  signReceipt, verifyReceipt, openReceipt, encodeReceipt, decodeReceipt, encodeReceiptBody, parseReceiptJson,
  batchMessage, receiptHash, VerifiedRoots, type ReceiptBody, type SignedReceipt, type ReceiptBatchProof, type ChainBlock
} from './receipt.ts'
export { prepareReceipt, signReceiptBatch, type PendingReceipt } from './receipt-batch.ts'
export { merkleLeaf, merkleTree, merkleRootFromPath, MERKLE_HASH_BYTES } from './merkle.ts'
export {
  MISS_TAG, MISS_DOMAIN, signMiss, encodeMiss, decodeMiss, verifyMiss, type MissBody, type MissReason,
  type SignedMiss
} from './miss.ts'
export {
  ATTESTATION_TAG, ATTESTATION_DOMAIN, signAttestation, encodeAttestation, decodeAttestation, verifyAttestation,
  type AttestationBody, type SignedAttestation, type Verdict, type AttestMethod
} from './attestation.ts'
export { LedgerAnnouncer, LEDGERS_PROTOCOL, type AnnounceHost, type LedgerAnnouncerOptions } from './ledger-announce.ts'
export { RELEASE_TAG, encodeRelease, decodeRelease, openRelease } from './release.ts'
export { readLedgerEntry, readLedger, type LedgerEntry, type LedgerSource } from './ledger-entry.ts'
export { computeCredits, creditsFromLedgers, type Credits } from './credits.ts'
export { AnnouncedLogs, type AnnouncedLogsHost } from './announced-logs.ts'
export { MAX_RECEIPT_BYTES } from './receipt.ts'
export { LedgerWriter, type Ledger, type LedgerWriterOptions, type RecordedReceipt } from './ledger-writer.ts'
export { LEDGER_LOG_NAME, MISSES_LOG_NAME, ATTESTATIONS_LOG_NAME, STORAGE_LEDGER_LOG_NAME, SERVICE_LOG_NAMES } from './log-names.ts'
export {
  STORAGE_RECEIPT_TAG, STORAGE_RECEIPT_DOMAIN, MAX_STORAGE_UNIT_PRICE, GIB, MIB, MONTH_MS, storageCharge, signStorageReceipt, encodeStorageReceipt,
  decodeStorageReceipt, verifyStorageReceipt, parseStorageReceiptJson, storageReceiptHash, type StorageKind, type StorageReceiptBody,
  type SignedStorageReceipt
} from './storage-receipt.ts'
export { computeStorageCredits, CLOCK_SKEW_MS, type StorageCredits, type HolderRecord } from './storage-credits.ts'
export {
  STORAGE_PIN_TAG, STORAGE_PIN_HOLDER_DOMAIN, STORAGE_PIN_PINNER_DOMAIN, signStorageOrder, verifyStorageOrder, cosignStorageOrder,
  verifyCosignedPin, encodeCosignedPin, decodeCosignedPin, parseStorageOrder, cosignedPinHash, type StoragePinBody, type StorageOrder,
  type CosignedPin
} from './storage-pin.ts'
export {
  STANDING_ORDER_TAG, REPLACEMENT_TAG, SLOT_ORDER_TAG, SLOT_REPLACEMENT_TAG, STANDING_ORDER_DOMAIN, REPLACEMENT_REPAIRER_DOMAIN, REPLACEMENT_HOLDER_DOMAIN, signStandingOrder,
  verifyStandingOrder, encodeStandingOrder, standingOrderHash, signReplacement, verifyReplacementOffer, cosignReplacement, verifyReplacement,
  encodeReplacement, decodeReplacement, replacementHash, type StandingOrderBody, type StandingOrder, type ReplacementBody,
  type ReplacementOffer, type Replacement
} from './standing-order.ts'
export {
  VERDICT_TAG, VERDICT_DOMAIN, DEFAULT_PROOF_QUORUM, signVerdict, verifyVerdict, encodeVerdict, decodeVerdict, proofFailures, holderFailed,
  type ProofVerdict, type ProofVerdictBody, type ProofKind, type FailedPeriod
} from './proof-verdict.ts'
export { RECEIPT_MOUNT_VERSION, RECEIPT_MOUNT_BATCH_VERSION, MAX_RECEIPT_MOUNTS, type ReceiptMount } from './receipt-mounts.ts'
export {
  SERVED_WRONG_TAG, SERVED_WRONG_DOMAIN, SHARD_ANSWER_DOMAIN, NONCE_HEX, signShardAnswer, verifyShardAnswer, signServedWrong, verifyServedWrong,
  encodeServedWrong, decodeServedWrong, servedWrongKey, type ShardAnswer, type ShardAnswerBody, type ServedWrong, type ServedWrongBody
} from './served-wrong.ts'

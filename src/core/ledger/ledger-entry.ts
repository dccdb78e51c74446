/**
 * Reading a ledger log: every block is a receipt (first byte: its version, 3 or 4), an
 * attestation (`0xa1`, a light node's), a miss record (`0xb1`, a caller's), a storage receipt
 * (`0xc1`, a holder's, in its storage ledger), a key holder's release record (`0xc2`), a
 * co-signed pin record (`0xc3`, a holder's and its pinner's, in the holder's storage ledger) or
 * a challenger's proof verdict (`0xc4`, in its storage ledger) or a replacement record (`0xc6`, a
 * re-pinned holder's and its repairer's under the pinner's standing order; `0xcd` under a slot
 * order, for a repaired erasure slot) or a served-wrong record (`0xc7`, a shard reader's, with
 * the holder's signed answer in it). Each is decoded
 * and its signature checked here; a block that fails is reported as `invalid` with its code
 * and never counts for anything.
 */
import { ShadwError, type ErrorCode } from '../errors.ts'
import { decodeAttestation, verifyAttestation, ATTESTATION_TAG, type SignedAttestation } from './attestation.ts'
import { decodeReceipt, verifyReceipt, type SignedReceipt } from './receipt.ts'
import { decodeMiss, MISS_TAG, verifyMiss, type SignedMiss } from './miss.ts'
import { decodeStorageReceipt, STORAGE_RECEIPT_TAG, verifyStorageReceipt, type SignedStorageReceipt } from './storage-receipt.ts'
import { openRelease, RELEASE_TAG } from './release.ts'
import { decodeCosignedPin, STORAGE_PIN_TAG, verifyCosignedPin, type CosignedPin } from './storage-pin.ts'
import { decodeVerdict, verifyVerdict, VERDICT_TAG, type ProofVerdict } from './proof-verdict.ts'
import { decodeReplacement, REPLACEMENT_TAG, SLOT_REPLACEMENT_TAG, verifyReplacement, type Replacement } from './standing-order.ts'
import { decodeServedWrong, SERVED_WRONG_TAG, verifyServedWrong, type ServedWrong } from './served-wrong.ts'
import type { ReleaseRecord } from '../access/index.ts'

/** One block of a ledger, decoded and its signature checked. */
export type LedgerEntry =
  | { kind: 'receipt', receipt: SignedReceipt, bytes: Uint8Array }
  | { kind: 'attestation', attestation: SignedAttestation }
  | { kind: 'miss', miss: SignedMiss }
  | { kind: 'storage', receipt: SignedStorageReceipt }
  | { kind: 'storage-pin', pin: CosignedPin }
  | { kind: 'release', release: ReleaseRecord }
  | { kind: 'verdict', verdict: ProofVerdict }
  | { kind: 'replacement', replacement: Replacement }
  | { kind: 'served-wrong', record: ServedWrong }
  | { kind: 'invalid', code: ErrorCode, message: string }

/** Decodes one ledger block; never throws. */
export function readLedgerEntry (block: Uint8Array): LedgerEntry {
  try {
    switch (block[0]) {
      case ATTESTATION_TAG: return { kind: 'attestation', attestation: verifyAttestation(decodeAttestation(block)) }
      case MISS_TAG: return { kind: 'miss', miss: verifyMiss(decodeMiss(block)) }
      case STORAGE_RECEIPT_TAG: return { kind: 'storage', receipt: verifyStorageReceipt(decodeStorageReceipt(block)) }
      case STORAGE_PIN_TAG: return { kind: 'storage-pin', pin: verifyCosignedPin(decodeCosignedPin(block)) }
      case RELEASE_TAG: return { kind: 'release', release: openRelease(block) }
      case VERDICT_TAG: return { kind: 'verdict', verdict: verifyVerdict(decodeVerdict(block)) }
      case REPLACEMENT_TAG:
      case SLOT_REPLACEMENT_TAG: return { kind: 'replacement', replacement: verifyReplacement(decodeReplacement(block)) }
      case SERVED_WRONG_TAG: return { kind: 'served-wrong', record: verifyServedWrong(decodeServedWrong(block)) }
      // receipts start with their version (single or batch-signed); decodeReceipt refuses any other
      default: return { kind: 'receipt', receipt: verifyReceipt(decodeReceipt(block)), bytes: block }
    }
  } catch (err) {
    const e = err instanceof ShadwError ? err : ShadwError.INTERNAL(String(err))
    return { kind: 'invalid', code: e.code, message: e.message }
  }
}

/** A log to read: a Hypercore session or anything with its length and get. */
export interface LedgerSource {
  readonly length: number
  get (index: number): Promise<Uint8Array | null>
}

/** Reads every block of a ledger (fetching what is not local, verified by Hypercore). */
export async function readLedger (source: LedgerSource): Promise<LedgerEntry[]> {
  const out: LedgerEntry[] = []
  const length = source.length
  for (let i = 0; i < length; i++) {
    const block = await source.get(i)
    out.push(block === null ? { kind: 'invalid', code: 'LOG_NOT_FOUND', message: `block ${i} unavailable` } : readLedgerEntry(block))
  }
  return out
}

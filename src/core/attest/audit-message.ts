/**
 * The one message of `shadw/audit/v1`: a tenant reveals a call's input to a light node so
 * that it can re-execute the call and vouch for (or against) the receipts of that call. The
 * input must hash to the receipt's `inputHash`, so it is the input of every receipt of that
 * call. The receipt's signature proves only that someone holding its key signed it — any
 * throwaway key can — so an audit does not show that the call happened or who executed it: a
 * light node takes only the input from it and judges only receipts read from executors'
 * announced ledgers (see LightSigningService).
 *
 * Encoding: `uint8 version (1), buffer receipt (encoded, ≤ MAX_RECEIPT_BYTES), buffer input
 * (≤ MAX_INPUT_BYTES)`, nothing after.
 */
import c from 'compact-encoding'
import { encodeFields, put } from '../encoding.ts'
import { ShadwError } from '../errors.ts'
import { MAX_INPUT_BYTES, MAX_RECEIPT_BYTES } from '../invoke/index.ts'
import { decodeReceipt, encodeReceipt, verifyReceipt, type SignedReceipt } from '../ledger/index.ts'
import { sha256 } from '../sha256.ts'

/** Version byte of an audit message. */
export const AUDIT_VERSION = 1
/** Largest audit message: the receipt and input bounds plus the framing's few varint bytes. */
export const MAX_AUDIT_BYTES = 1 + MAX_RECEIPT_BYTES + MAX_INPUT_BYTES + 16

/** One call a tenant asks a light node to check by running it again. */
export interface Audit {
  receipt: SignedReceipt
  input: Uint8Array
}

/** Encodes an audit. @throws ShadwError `AUDIT_INVALID` when the input is too large or does not match the receipt */
export function encodeAudit (audit: Audit): Uint8Array {
  if (!(audit.input instanceof Uint8Array) || audit.input.byteLength > MAX_INPUT_BYTES) throw ShadwError.AUDIT_INVALID(`audit input must be at most ${MAX_INPUT_BYTES} bytes`)
  if (sha256(audit.input) !== audit.receipt.inputHash) throw ShadwError.AUDIT_INVALID('audit input does not hash to the receipt\'s inputHash')
  const receipt = encodeReceipt(audit.receipt)
  return encodeFields((s, pre) => {
    put(s, pre, c.uint8, AUDIT_VERSION); put(s, pre, c.buffer, receipt); put(s, pre, c.buffer, audit.input)
  })
}

/**
 * Decodes and checks an audit from a peer: structure, sizes, the executor's signature on
 * the receipt, and the input against the receipt's input hash.
 *
 * @throws ShadwError `AUDIT_INVALID` (with the receipt's own reason when its signature or form is bad)
 */
export function decodeAudit (bytes: Uint8Array): Audit {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength > MAX_AUDIT_BYTES) throw ShadwError.AUDIT_INVALID(`audit message must be at most ${MAX_AUDIT_BYTES} bytes`)
  let receiptBytes: Uint8Array | null
  let input: Uint8Array | null
  try {
    const s = c.state(0, bytes.byteLength, bytes)
    const version = c.uint8.decode(s)
    if (version !== AUDIT_VERSION) throw ShadwError.AUDIT_INVALID(`unknown audit version ${version}`)
    receiptBytes = c.buffer.decode(s)
    input = c.buffer.decode(s)
    if (s.start !== s.end) throw ShadwError.AUDIT_INVALID('trailing bytes after the audit')
  } catch (err) {
    if (err instanceof ShadwError) throw err
    throw ShadwError.AUDIT_INVALID('truncated audit message')
  }
  if (receiptBytes === null || receiptBytes.byteLength > MAX_RECEIPT_BYTES) throw ShadwError.AUDIT_INVALID(`audit receipt must be 1-${MAX_RECEIPT_BYTES} bytes`)
  const inputBytes = input ?? new Uint8Array(0)
  if (inputBytes.byteLength > MAX_INPUT_BYTES) throw ShadwError.AUDIT_INVALID(`audit input must be at most ${MAX_INPUT_BYTES} bytes`)
  let receipt: SignedReceipt
  try {
    receipt = verifyReceipt(decodeReceipt(receiptBytes))
  } catch (err) {
    throw ShadwError.AUDIT_INVALID(`audit receipt: ${(err as Error).message}`)
  }
  if (sha256(inputBytes) !== receipt.inputHash) throw ShadwError.AUDIT_INVALID('audit input does not hash to the receipt\'s inputHash')
  return { receipt, input: inputBytes }
}

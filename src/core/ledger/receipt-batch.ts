/**
 * Signing receipts in batches: the executor's group commit signs the Merkle root of all the
 * receipts it appends together, once, and gives each receipt its inclusion proof (version-2
 * receipts, see receipt.ts). A batch of one is a tree of one leaf: the same format, an empty
 * path.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import { ShadwError } from '../errors.ts'
import { MERKLE_HASH_BYTES, merkleLeaf, merkleTree } from './merkle.ts'
import { batchBody, encodeReceiptBody, MAX_RECEIPT_BATCH, RECEIPT_BATCH_VERSION, RECEIPT_BATCH_SIGNATURE, type ReceiptBody, type SignedReceipt, type VerifiedRoots } from './receipt.ts'

/** Room after a body for the largest proof: three varints, 8 path hashes, the signature. */
const MAX_TAIL_BYTES = 3 * 9 + 8 * MERKLE_HASH_BYTES + 64

/** A receipt body already checked and encoded (version 2), waiting for its batch signature. */
export interface PendingReceipt {
  body: ReceiptBody
  /** the encoded body, with room after it for the proof */
  bytes: Uint8Array
}

/**
 * Checks and encodes one receipt body for a batch; throws `RECEIPT_INVALID` for this body
 * alone, before it can spoil a batch.
 */
export function prepareReceipt (body: ReceiptBody): PendingReceipt {
  return { body, bytes: encodeReceiptBody(body, RECEIPT_BATCH_VERSION, MAX_TAIL_BYTES) }
}

/**
 * Signs `pending` (1-{@link MAX_RECEIPT_BATCH} receipts of one executor) with one ed25519
 * signature over their Merkle root. Returns each signed receipt with its encoding, in order.
 * The root goes into `roots` when given: this node never verifies its own signature again.
 *
 * @example
 * ```ts
 * const [one, two] = signReceiptBatch([prepareReceipt(a), prepareReceipt(b)], keyPair.secretKey)
 * await ledger.append([one.bytes, two.bytes])
 * ```
 */
export function signReceiptBatch (pending: PendingReceipt[], secretKey: Uint8Array, roots?: VerifiedRoots): Array<{ receipt: SignedReceipt, bytes: Uint8Array }> {
  const size = pending.length
  if (size < 1 || size > MAX_RECEIPT_BATCH) throw ShadwError.INVALID_ARGUMENT(`a receipt batch holds 1-${MAX_RECEIPT_BATCH} receipts`)
  const { root, paths } = merkleTree(pending.map(p => merkleLeaf(p.bytes)))
  const sig = RECEIPT_BATCH_SIGNATURE.sign(batchBody(size, root), secretKey)
  const signature = b4a.toString(sig, 'hex')
  const executor = (pending[0] as PendingReceipt).body.executor
  roots?.add(executor, size, root, signature)
  return pending.map((p, index) => {
    const path = paths[index] as Uint8Array[]
    const bodyLength = p.bytes.byteLength
    const full = new Uint8Array(p.bytes.buffer, p.bytes.byteOffset, bodyLength + MAX_TAIL_BYTES)
    const s = c.state(bodyLength, full.byteLength, full)
    c.uint.encode(s, size)
    c.uint.encode(s, index)
    c.uint.encode(s, path.length)
    for (const h of path) c.fixed32.encode(s, h)
    c.fixed64.encode(s, sig)
    const receipt: SignedReceipt = { ...p.body, signature, batch: { size, index, path: path.map(h => b4a.toString(h, 'hex')) } }
    return { receipt, bytes: full.subarray(0, s.start) }
  })
}

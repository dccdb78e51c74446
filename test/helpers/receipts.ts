/**
 * Receipts for tests: a body every field of which is valid (unpriced, `echo@1.0.0` of a fixed
 * publisher), signed by the executor key given; a test overrides only what it looks at.
 */
import b4a from 'b4a'
import { sha256 } from '../../src/core/sha256.ts'
import { signReceipt, type ReceiptBody, type SignedReceipt } from '../../src/core/ledger/index.ts'

/** The publisher of the default function, hex. */
export const TEST_PUBLISHER = 'ab'.repeat(32)

/** A valid receipt body; `executor` is a placeholder until {@link testReceipt} signs it. */
export function testReceiptBody (over: Partial<ReceiptBody> = {}): ReceiptBody {
  return {
    fn: `${TEST_PUBLISHER}/echo@1.0.0`,
    manifestSignature: 'cd'.repeat(64),
    moduleHash: '01'.repeat(32),
    inputHash: sha256(b4a.from('input')),
    outputHash: sha256(b4a.from('output')),
    fuel: 1234,
    executor: '00'.repeat(32),
    tenant: '0xTenant',
    time: 1_763_000_000_000,
    nonce: '8000000a'.padEnd(64, '0'),
    deadline: 1_763_000_001_000,
    bytes: 0,
    price: { utilisationPpm: 0, fuelPrice: 0, bytePrice: 0 },
    total: 0,
    ...over
  }
}

/** A receipt signed alone by `kp`, which it names as its executor. */
export function testReceipt (kp: { publicKey: Uint8Array, secretKey: Uint8Array }, over: Partial<ReceiptBody> = {}): SignedReceipt {
  return signReceipt(testReceiptBody({ ...over, executor: b4a.toString(kp.publicKey, 'hex') }), kp.secretKey)
}

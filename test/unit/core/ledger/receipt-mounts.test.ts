import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { decodeReceipt, encodeReceipt, parseReceiptJson, prepareReceipt, RECEIPT_MOUNT_BATCH_VERSION, RECEIPT_MOUNT_VERSION, RECEIPT_VERSION, signReceipt, signReceiptBatch, verifyReceipt, type ReceiptBody } from '../../../../src/core/ledger/index.ts'

const kp = crypto.keyPair()
const body = (over: Partial<ReceiptBody> = {}): ReceiptBody => ({
  fn: `${'ab'.repeat(32)}/read@1.0.0`,
  manifestSignature: 'cd'.repeat(64),
  moduleHash: '01'.repeat(32),
  inputHash: '02'.repeat(32),
  outputHash: '03'.repeat(32),
  fuel: 1000,
  executor: b4a.toString(kp.publicKey, 'hex'),
  tenant: '0xAbC',
  time: 1_763_000_000_000,
  nonce: '04'.repeat(32),
  deadline: 1_763_000_010_000,
  bytes: 0,
  price: { utilisationPpm: 0, fuelPrice: 0, bytePrice: 0 },
  total: 0,
  ...over
})
const mounts = [{ drive: 'ee'.repeat(32), version: 7 }, { drive: 'ff'.repeat(32), version: 300 }]

describe('receipts naming drive versions', () => {
  it('a receipt without mounts keeps version 3; with mounts it is version 7 (8 batched) and round-trips, with or without chain reads', () => {
    expect(encodeReceipt(signReceipt(body(), kp.secretKey))[0]).toBe(RECEIPT_VERSION)
    for (const extra of [{}, { chainBlocks: [{ chain: 'ethereum', block: 12 }] }]) {
      const signed = signReceipt(body({ mounts, ...extra }), kp.secretKey)
      const bytes = encodeReceipt(signed)
      expect(bytes[0]).toBe(RECEIPT_MOUNT_VERSION)
      const back = decodeReceipt(bytes)
      expect(back).toEqual(signed)
      expect(verifyReceipt(back)).toEqual(signed)
      expect(verifyReceipt(parseReceiptJson(JSON.parse(JSON.stringify(back))))).toEqual(signed)
    }
    const [batched] = signReceiptBatch([prepareReceipt(body({ mounts }))], kp.secretKey)
    expect(batched?.bytes[0]).toBe(RECEIPT_MOUNT_BATCH_VERSION)
    expect(verifyReceipt(decodeReceipt(batched?.bytes as Uint8Array)).mounts).toEqual(mounts)
  })

  it('the versions are signed: changing one fails verification; bad lists are RECEIPT_INVALID', () => {
    const signed = signReceipt(body({ mounts }), kp.secretKey)
    expect(() => verifyReceipt({ ...signed, mounts: [{ drive: 'ee'.repeat(32), version: 8 }, mounts[1] as typeof mounts[0]] })).toThrow(/RECEIPT_INVALID/)
    for (const bad of [[], [{ drive: 'EE'.repeat(32), version: 1 }], [{ drive: 'ee'.repeat(32), version: 0 }], Array.from({ length: 9 }, () => mounts[0])]) {
      expect(() => signReceipt(body({ mounts: bad as typeof mounts }), kp.secretKey)).toThrow(/RECEIPT_INVALID/)
    }
  })
})

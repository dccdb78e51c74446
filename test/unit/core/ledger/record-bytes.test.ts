/**
 * Ledger records as they were written before the shared encoder and signature helpers
 * (src/core/encoding.ts, src/core/signature-domain.ts): the same inputs must give the same
 * bytes, and bytes already in ledgers must still decode and verify. The keys come from fixed
 * seeds and ed25519 signatures are deterministic, so every byte is pinned.
 */
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import {
  decodeAttestation, decodeMiss, decodeReceipt, encodeAttestation, encodeMiss, encodeReceipt, openReceipt, prepareReceipt,
  signAttestation, signMiss, signReceipt, signReceiptBatch, UNPRICED, verifyAttestation, verifyMiss, verifyReceipt, type ReceiptBody
} from '../../../../src/core/ledger/index.ts'
import { charge } from '../../../../src/core/pricing/index.ts'
import { sha256 } from '../../../../src/core/sha256.ts'

const executor = crypto.keyPair(new Uint8Array(32).fill(7))
const light = crypto.keyPair(new Uint8Array(32).fill(9))
const hex = (b: Uint8Array): string => b4a.toString(b, 'hex')

const price = { utilisationPpm: 500_000, fuelPrice: 3, bytePrice: 2 }
const body: ReceiptBody = {
  fn: 'ab'.repeat(32) + '/echo@1.0.0',
  manifestSignature: 'cd'.repeat(64),
  moduleHash: '01'.repeat(32),
  inputHash: sha256(b4a.from('input')),
  outputHash: sha256(b4a.from('output')),
  fuel: 123_456_789,
  executor: hex(executor.publicKey),
  tenant: '0xTenant',
  time: 1_763_000_000_000,
  nonce: '8000000a'.padEnd(64, '0'),
  deadline: 1_763_000_001_000,
  bytes: 70_000,
  price,
  total: charge(price, 123_456_789, 70_000)
}

/** A version-3 receipt, signed alone. */
const RECEIPT_V3 = [
  '034b61626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162',
  '6162616261622f6563686f40312e302e30cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd',
  'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd0101010101010101010101010101010101010101010101010101010101010101c96c6d5be8d08a',
  '12e7b5cdc1b207fa6b2430974c86803d8891675e76fd992c20e0ee8bb50685e05fa0f47ed04203ae953fdfd055f5bd2892ea186504254f8c3afe15cd',
  '5b07ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c08307854656e616e74ff001efd7a9a0100008000000a00000000',
  '000000000000000000000000000000000000000000000000ffe821fd7a9a010000fe70110100fe20a107000302fd74013fefb725cc620c37743d3cbf',
  'b884b738e15420e795c09f70835192e4abc2e632f60968f1c29fb0b3ca22d3116bb6d9ae9de1fab05e06a142805b058e6ccc0200'
].join('')
/** The second receipt of a batch of three (version 4, with its inclusion proof). */
const RECEIPT_V4 = [
  '044b61626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162',
  '6162616261622f6563686f40312e302e30cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd',
  'cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd0101010101010101010101010101010101010101010101010101010101010101c96c6d5be8d08a',
  '12e7b5cdc1b207fa6b2430974c86803d8891675e76fd992c20e0ee8bb50685e05fa0f47ed04203ae953fdfd055f5bd2892ea186504254f8c3a01ea4a',
  '6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c08307854656e616e74ff001efd7a9a0100008000000a0000000000000000',
  '0000000000000000000000000000000000000000ffe821fd7a9a01000000000000000301029f8eac1fda8b912846389e0ded80fc1b995cd1272eba9d',
  '4cb3775285302fd15ec8018a867c0c7b7ad9626f31b2d5825702655fec2a3b4482672bea21d8c1275ee45d82c49d2712ceb49d29395de4795c46541a',
  'f0d2c009c8fd602539946ba2fba6820291f3706a733a8a9c3b0a442be48db32338c9878ef15c426940d595150e'
].join('')
/** A light node's disagreeing re-execution verdict on {@link RECEIPT_V3}. */
const ATTESTATION = [
  'a1cea25323ce18982210f5ae602e0525d05da0263ec62a7b62611ca95cf92fbb02ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea',
  '691446d22ce0ee8bb50685e05fa0f47ed04203ae953fdfd055f5bd2892ea186504254f8c3afe15cd5b07fd1724385aa0c75b64fb78cd602fa1d991fd',
  'ebf76b13c58ed702eac835e9f6180101ff7b1efd7a9a010000056b18c0490b149f12a0ba770d92f0347ff011ddabef3861984de5f770544ecb1a210b',
  'eb869c0e116607d4802de596e80a61e6124e36ff188c22e025a82e0305'
].join('')
/** A caller's miss record against the executor. */
const MISS = [
  'b1ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22cfd1724385aa0c75b64fb78cd602fa1d991fdebf76b13c58ed702ea',
  'c835e9f6181111111111111111111111111111111111111111111111111111111111111111fe9f86010001fe4e61bc0085d8b557e0e92d8d8d53500d',
  '7def535adb12d0cf8b05832b0b437e63cd5cdb11b6105963e77f5116cb82675283fb4299df7efd12f6daf201052220857fd8080e'
].join('')

function batchOfThree (): Array<{ bytes: Uint8Array }> {
  return signReceiptBatch([0, 1, 2].map(fuel => prepareReceipt({ ...body, fuel, bytes: 0, price: UNPRICED, total: 0 })), executor.secretKey)
}

describe('ledger records keep their bytes', () => {
  it('encodes receipts, batch receipts, attestations and misses exactly as before', () => {
    const receipt = signReceipt(body, executor.secretKey)
    expect(hex(encodeReceipt(receipt))).toBe(RECEIPT_V3)
    const batch = batchOfThree()
    expect(hex(batch[1]?.bytes ?? new Uint8Array())).toBe(RECEIPT_V4)
    expect(hex(encodeReceipt(openReceipt(b4a.from(RECEIPT_V4, 'hex'))))).toBe(RECEIPT_V4)
    expect(hex(encodeAttestation(signAttestation(receipt, 'disagree', 'reexec', light, 1_763_000_000_123)))).toBe(ATTESTATION)
    expect(hex(encodeMiss(signMiss({ executor: hex(executor.publicKey), nonce: '11'.repeat(32), deadline: 99_999, reason: 'closed', time: 12_345_678 }, light)))).toBe(MISS)
  })

  it('reads and verifies records written before', () => {
    const receipt = verifyReceipt(decodeReceipt(b4a.from(RECEIPT_V3, 'hex')))
    expect(receipt).toEqual({ ...body, signature: RECEIPT_V3.slice(-128) })
    expect(openReceipt(b4a.from(RECEIPT_V4, 'hex'))).toMatchObject({ fuel: 1, executor: body.executor, batch: { size: 3, index: 1 } })
    expect(verifyAttestation(decodeAttestation(b4a.from(ATTESTATION, 'hex')))).toMatchObject({ signer: hex(light.publicKey), executor: body.executor, verdict: 'disagree', method: 'reexec' })
    expect(verifyMiss(decodeMiss(b4a.from(MISS, 'hex')))).toMatchObject({ caller: hex(light.publicKey), executor: body.executor, reason: 'closed', deadline: 99_999 })
  })

  it('refuses a stored record whose signature is off by one bit', () => {
    const flip = (h: string): Uint8Array => {
      const b = b4a.from(h, 'hex')
      b[b.byteLength - 1] = (b[b.byteLength - 1] ?? 0) ^ 1
      return b
    }
    expect(() => openReceipt(flip(RECEIPT_V3))).toThrow(expect.objectContaining({ code: 'RECEIPT_INVALID' }))
    expect(() => openReceipt(flip(RECEIPT_V4))).toThrow(expect.objectContaining({ code: 'RECEIPT_INVALID' }))
    expect(() => verifyAttestation(decodeAttestation(flip(ATTESTATION)))).toThrow(expect.objectContaining({ code: 'ATTESTATION_INVALID' }))
    expect(() => verifyMiss(decodeMiss(flip(MISS)))).toThrow(expect.objectContaining({ code: 'MISS_INVALID' }))
  })
})

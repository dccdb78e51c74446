import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import { decodeReceipt, encodeReceipt, merkleLeaf, merkleRootFromPath, merkleTree, openReceipt, parseReceiptJson, prepareReceipt, signReceipt, signReceiptBatch, verifyReceipt, VerifiedRoots, type ReceiptBody } from '../../../../src/core/ledger/index.ts'

function code (fn: () => unknown): string {
  try { fn() } catch (err) { if (err instanceof ShadwError) return err.code; throw err }
  throw new Error('expected a typed error')
}

const kp = crypto.keyPair()
function body (i: number, over: Partial<ReceiptBody> = {}): ReceiptBody {
  return {
    fn: `${'ab'.repeat(32)}/echo@1.0.0`,
    manifestSignature: 'cd'.repeat(64),
    moduleHash: '01'.repeat(32),
    inputHash: '02'.repeat(32),
    outputHash: '03'.repeat(32),
    fuel: 1000 + i,
    executor: b4a.toString(kp.publicKey, 'hex'),
    tenant: '0xAbC',
    time: 1_763_000_000_000,
    nonce: i.toString(16).padStart(64, '0'),
    deadline: 1_763_000_010_000,
    bytes: 0,
    price: { utilisationPpm: 0, fuelPrice: 0, bytePrice: 0 },
    total: 0,
    ...over
  }
}

describe('Merkle tree (RFC 9162)', () => {
  it('every audit path of trees of 1-33 leaves leads to the root, and only from its own position', () => {
    for (let n = 1; n <= 33; n++) {
      const leaves = Array.from({ length: n }, (_, i) => merkleLeaf(b4a.from(`leaf ${i}`)))
      const { root, paths } = merkleTree(leaves)
      for (let i = 0; i < n; i++) {
        expect(b4a.equals(merkleRootFromPath(leaves[i] as Uint8Array, i, n, paths[i] as Uint8Array[]) as Uint8Array, root)).toBe(true)
        const other = merkleRootFromPath(leaves[i] as Uint8Array, (i + 1) % n, n, paths[i] as Uint8Array[])
        if (n > 1) expect(other === null || !b4a.equals(other, root)).toBe(true)
      }
    }
    expect(merkleRootFromPath(merkleLeaf(b4a.from('x')), 3, 3, [])).toBe(null)
  })
})

describe('batch-signed receipts', () => {
  it('one signature covers a batch; each receipt encodes, decodes and verifies on its own, offline', () => {
    const signed = signReceiptBatch([0, 1, 2, 3, 4].map(i => prepareReceipt(body(i))), kp.secretKey)
    expect(new Set(signed.map(s => s.receipt.signature)).size).toBe(1)
    expect(signed.map(s => s.receipt.batch?.index)).toEqual([0, 1, 2, 3, 4])
    expect(signed.map(s => s.receipt.batch?.path.length)).toEqual([3, 3, 3, 3, 1])
    for (const s of signed) {
      expect(encodeReceipt(s.receipt)).toEqual(s.bytes)
      expect(decodeReceipt(s.bytes)).toEqual(s.receipt)
      expect(openReceipt(s.bytes)).toEqual(s.receipt)
      expect(verifyReceipt(parseReceiptJson(JSON.parse(JSON.stringify(s.receipt))))).toEqual(s.receipt)
    }
    const one = signReceiptBatch([prepareReceipt(body(9))], kp.secretKey)[0]
    if (one === undefined) throw new Error('no receipt')
    expect(one.receipt.batch).toEqual({ size: 1, index: 0, path: [] })
    expect(verifyReceipt(one.receipt)).toEqual(one.receipt)
  })

  it('a changed field, a moved position, a foreign path or another key fails with RECEIPT_INVALID', () => {
    const [a, b] = signReceiptBatch([prepareReceipt(body(0)), prepareReceipt(body(1)), prepareReceipt(body(2))], kp.secretKey)
    if (a === undefined || b === undefined) throw new Error('no receipts')
    const r = a.receipt
    expect(code(() => verifyReceipt({ ...r, fuel: r.fuel + 1 }))).toBe('RECEIPT_INVALID')
    expect(code(() => verifyReceipt({ ...r, batch: { size: 3, index: 1, path: r.batch?.path ?? [] } }))).toBe('RECEIPT_INVALID')
    expect(code(() => verifyReceipt({ ...r, batch: { size: 4, index: 0, path: r.batch?.path ?? [] } }))).toBe('RECEIPT_INVALID')
    expect(code(() => verifyReceipt({ ...r, batch: b.receipt.batch }))).toBe('RECEIPT_INVALID')
    expect(code(() => verifyReceipt({ ...r, batch: undefined }))).toBe('RECEIPT_INVALID')
    expect(code(() => verifyReceipt({ ...r, executor: b4a.toString(crypto.keyPair().publicKey, 'hex') }))).toBe('RECEIPT_INVALID')
    expect(code(() => parseReceiptJson({ ...r, batch: { size: 0, index: 0, path: [] } }))).toBe('RECEIPT_INVALID')
    expect(code(() => parseReceiptJson({ ...r, batch: { size: 3, index: 3, path: [] } }))).toBe('RECEIPT_INVALID')
    expect(code(() => parseReceiptJson({ ...r, batch: { size: 3, index: 0, path: ['zz'] } }))).toBe('RECEIPT_INVALID')
    const tampered = b4a.from(a.bytes)
    tampered[tampered.byteLength - 70] = (tampered[tampered.byteLength - 70] as number) ^ 1
    expect(code(() => openReceipt(tampered))).toBe('RECEIPT_INVALID')
    expect(code(() => decodeReceipt(b4a.concat([a.bytes, b4a.from([0])])))).toBe('RECEIPT_INVALID')
  })

  it('a verified root spares the signature check of the batch\'s other receipts, never a proof check', () => {
    const signed = signReceiptBatch([0, 1, 2].map(i => prepareReceipt(body(i))), kp.secretKey)
    const roots = new VerifiedRoots()
    const [s0, s1] = signed
    if (s0 === undefined || s1 === undefined) throw new Error('no receipts')
    expect(openReceipt(s0.bytes, roots)).toEqual(s0.receipt)
    // a forged body under the cached root and signature still has to prove its leaf
    const forged = { ...s1.receipt, outputHash: 'ee'.repeat(32) }
    expect(code(() => verifyReceipt(forged, roots))).toBe('RECEIPT_INVALID')
    expect(verifyReceipt(s1.receipt, roots)).toEqual(s1.receipt)
    // a signer's own roots are known without a check; a forged signature is not
    const own = new VerifiedRoots()
    const mine = signReceiptBatch([prepareReceipt(body(5)), prepareReceipt(body(6))], kp.secretKey, own)[1]
    if (mine === undefined) throw new Error('no receipt')
    expect(verifyReceipt(mine.receipt, own)).toEqual(mine.receipt)
    expect(code(() => verifyReceipt({ ...mine.receipt, signature: '00'.repeat(64) }, own))).toBe('RECEIPT_INVALID')
  })

  it('the verified-root cache is bounded', () => {
    const roots = new VerifiedRoots(2)
    const root = (i: number): Uint8Array => new Uint8Array(32).fill(i)
    roots.add('k', 1, root(1), 's'); roots.add('k', 1, root(2), 's'); roots.add('k', 1, root(3), 's')
    expect([1, 2, 3].map(i => roots.has('k', 1, root(i), 's'))).toEqual([false, true, true])
    expect(roots.has('k', 2, root(3), 's')).toBe(false)
  })
})

describe('receipt canonical form', () => {
  /** A v3 receipt (unpriced: price and total 0) with the fields written by hand: `fuel` and `tenant` as raw bytes. */
  function handmade (fuel: number[], tenant: number[]): Uint8Array {
    const r = signReceipt(body(0), kp.secretKey)
    const hexBytes = (h: string): number[] => [...b4a.from(h, 'hex')]
    const fn = [...b4a.from(r.fn)]
    return b4a.from([
      3, fn.length, ...fn, ...hexBytes(r.manifestSignature), ...hexBytes(r.moduleHash), ...hexBytes(r.inputHash), ...hexBytes(r.outputHash),
      ...fuel, ...hexBytes(r.executor), tenant.length, ...tenant, 0, ...hexBytes(r.nonce), 0, 0, 0, 0, 0, 0, ...hexBytes(r.signature)
    ])
  }

  it('decodes only the one encoding of a receipt: a long-form varint or non-canonical UTF-8 is RECEIPT_INVALID', () => {
    const ok = handmade([0xfc], [0x61])
    expect(decodeReceipt(ok)).toMatchObject({ fuel: 0xfc, tenant: 'a', time: 0 })
    expect(encodeReceipt(decodeReceipt(ok))).toEqual(ok)
    expect(decodeReceipt(handmade([0xfd, 0xfd, 0x00], [0xc3, 0xa9]))).toMatchObject({ fuel: 0xfd, tenant: 'é' })
    expect(code(() => decodeReceipt(handmade([0xfd, 0x05, 0x00], [0x61])))).toBe('RECEIPT_INVALID')
    expect(code(() => decodeReceipt(handmade([0xfe, 0x05, 0x00, 0x00, 0x00], [0x61])))).toBe('RECEIPT_INVALID')
    // a truncated 4-byte sequence decodes to one U+FFFD, itself 3 bytes: same length, other bytes
    expect(code(() => decodeReceipt(handmade([0x05], [0xf0, 0x90, 0x80])))).toBe('RECEIPT_INVALID')
    expect(code(() => decodeReceipt(handmade([0x05], [0xff])))).toBe('RECEIPT_INVALID')
  })
})

describe('receipts with the chain reads of their access decision', () => {
  const blocks = [{ chain: 'base', block: 31_000_123 }, { chain: 'ethereum', block: 21_000_000 }]

  it('carry chainBlocks signed alone (version 5) or in a batch (version 6); receipts without keep versions 3 and 4', () => {
    const single = signReceipt(body(1, { chainBlocks: blocks }), kp.secretKey)
    const bytes = encodeReceipt(single)
    expect(bytes[0]).toBe(5)
    expect(decodeReceipt(bytes)).toEqual(single)
    expect(openReceipt(bytes)).toEqual(single)
    expect(verifyReceipt(parseReceiptJson(JSON.parse(JSON.stringify(single))))).toEqual(single)
    expect(encodeReceipt(signReceipt(body(1), kp.secretKey))[0]).toBe(3)

    const batch = signReceiptBatch([prepareReceipt(body(2, { chainBlocks: blocks })), prepareReceipt(body(3))], kp.secretKey)
    expect(batch.map(b => b.bytes[0])).toEqual([6, 4])
    for (const { receipt, bytes } of batch) {
      expect(openReceipt(bytes)).toEqual(receipt)
      expect(verifyReceipt(parseReceiptJson(JSON.parse(JSON.stringify(receipt))))).toEqual(receipt)
    }
    // the blocks are signed: moving the read to another block breaks the signature
    const moved = { ...single, chainBlocks: [{ chain: 'base', block: 31_000_124 }, { chain: 'ethereum', block: 21_000_000 }] }
    expect(code(() => verifyReceipt(moved))).toBe('RECEIPT_INVALID')
    const dropped: Record<string, unknown> = { ...batch[0]?.receipt }
    delete dropped['chainBlocks']
    expect(code(() => verifyReceipt(dropped as unknown as ReceiptBody & { signature: string }))).toBe('RECEIPT_INVALID')
  })

  it('has one form: unsorted, repeated, empty or malformed chain reads are RECEIPT_INVALID', () => {
    for (const bad of [[], [...blocks].reverse(), [blocks[0], blocks[0]], [{ chain: 'no spaces', block: 1 }], [{ chain: 'base', block: -1 }], Array.from({ length: 9 }, (_, i) => ({ chain: `c${i}`, block: i }))]) {
      expect(code(() => signReceipt(body(4, { chainBlocks: bad as typeof blocks }), kp.secretKey))).toBe('RECEIPT_INVALID')
    }
  })
})

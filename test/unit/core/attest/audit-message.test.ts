import b4a from 'b4a'
import c from 'compact-encoding'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import { decodeAudit, encodeAudit, LightSigner, seedOf } from '../../../../src/core/attest/index.ts'
import { MAX_AUDIT_BYTES } from '../../../../src/core/attest/audit-message.ts'
import { encodeReceipt, signReceipt, type SignedReceipt } from '../../../../src/core/ledger/index.ts'
import { MAX_INPUT_BYTES } from '../../../../src/core/invoke/index.ts'
import { sha256 } from '../../../../src/core/sha256.ts'
import { testReceipt } from '../../../helpers/receipts.ts'

function code (fn: () => unknown): string {
  try { fn() } catch (err) { if (err instanceof ShadwError) return err.code; throw err }
  throw new Error('expected a typed error')
}

const exec = crypto.keyPair()
const input = b4a.from('the tenant\'s input')

function receipt (over: { inputHash?: string, signature?: string } = {}): SignedReceipt {
  const r = testReceipt(exec, { inputHash: over.inputHash ?? sha256(input), outputHash: '03'.repeat(32) })
  return over.signature === undefined ? r : { ...r, signature: over.signature }
}

function frame (version: number, receiptBytes: Uint8Array, inputBytes: Uint8Array, trailing = 0): Uint8Array {
  const s = c.state()
  c.uint8.preencode(s, version); c.buffer.preencode(s, receiptBytes); c.buffer.preencode(s, inputBytes)
  s.buffer = new Uint8Array(s.end + trailing)
  c.uint8.encode(s, version); c.buffer.encode(s, receiptBytes); c.buffer.encode(s, inputBytes)
  return s.buffer
}

describe('audit messages (shadw/audit/v1)', () => {
  it('an audit round-trips: the executor-signed receipt and the input that hashes to it', () => {
    const r = receipt()
    const back = decodeAudit(encodeAudit({ receipt: r, input }))
    expect(back.receipt).toEqual(r)
    expect(b4a.toString(back.input)).toBe('the tenant\'s input')
    const empty = receipt({ inputHash: sha256(new Uint8Array(0)) })
    expect(decodeAudit(encodeAudit({ receipt: empty, input: new Uint8Array(0) })).input.byteLength).toBe(0)
  })

  it('refuses, with AUDIT_INVALID, an input that is not the receipt\'s, a forged receipt, another version, trailing or truncated bytes, and oversized messages', () => {
    const r = receipt()
    expect(code(() => encodeAudit({ receipt: r, input: b4a.from('another input') }))).toBe('AUDIT_INVALID')
    expect(code(() => decodeAudit(frame(1, encodeReceipt(r), b4a.from('another input'))))).toBe('AUDIT_INVALID')
    const forged = receipt({ signature: '00'.repeat(64) })
    expect(code(() => decodeAudit(frame(1, encodeReceipt(forged), input)))).toBe('AUDIT_INVALID')
    expect(code(() => decodeAudit(frame(2, encodeReceipt(r), input)))).toBe('AUDIT_INVALID')
    expect(code(() => decodeAudit(frame(1, encodeReceipt(r), input, 1)))).toBe('AUDIT_INVALID')
    const good = encodeAudit({ receipt: r, input })
    expect(code(() => decodeAudit(good.subarray(0, good.byteLength - 1)))).toBe('AUDIT_INVALID')
    expect(code(() => decodeAudit(new Uint8Array(0)))).toBe('AUDIT_INVALID')
    expect(code(() => decodeAudit(new Uint8Array(MAX_AUDIT_BYTES + 1)))).toBe('AUDIT_INVALID')
    const big = new Uint8Array(MAX_INPUT_BYTES + 1)
    expect(code(() => encodeAudit({ receipt: receipt({ inputHash: sha256(big) }), input: big }))).toBe('AUDIT_INVALID')
    expect(code(() => decodeAudit(frame(1, encodeReceipt(receipt({ inputHash: sha256(big) })), big)))).toBe('AUDIT_INVALID')
  })

  it('a re-execution decides over quorum evidence when a tenant audits the call, and the seed is the nonce\'s first four bytes', async () => {
    const r = receipt()
    expect(seedOf(r.nonce)).toBe(0x8000000a)
    const light = crypto.keyPair()
    const signer = new LightSigner({ keyPair: light, sampleRate: 0, rerun: async () => ({ outputHash: '04'.repeat(32), fuel: 1234 }) })
    // two other executors agree with the receipt: quorum evidence alone says agree
    const others = [crypto.keyPair(), crypto.keyPair()].map(kp => signReceipt({ ...r, executor: b4a.toString(kp.publicKey, 'hex') }, kp.secretKey))
    expect(await signer.attest(r, others)).toMatchObject({ verdict: 'agree', method: 'quorum' })
    expect(await signer.attest(r, others, true)).toMatchObject({ verdict: 'disagree', method: 'reexec' })
  })
})

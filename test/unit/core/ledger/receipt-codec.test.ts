/**
 * The executor's one-pass receipt body writer against compact-encoding's own codecs, field by
 * field: every varint width, ASCII strings of every length prefix width, and the cases it
 * must leave to the generic writer (non-ASCII strings, chain reads, mounts).
 */
import b4a from 'b4a'
import c, { type Encoding } from 'compact-encoding'
import { describe, expect, it } from 'vitest'
import { encodePlainBody, type PlainReceiptBody } from '../../../../src/core/ledger/receipt-codec.ts'

const VARINTS = [0, 1, 0xfc, 0xfd, 0xfe, 0xffff, 0x10000, 0xffffffff, 0x100000000, 1_763_000_000_000, Number.MAX_SAFE_INTEGER]

function reference (r: PlainReceiptBody, version: number): Uint8Array {
  const fields: Array<[Encoding<any>, unknown]> = [
    [c.uint8, version], [c.string, r.fn], [c.fixed64, b4a.from(r.manifestSignature, 'hex')], [c.fixed32, b4a.from(r.moduleHash, 'hex')],
    [c.fixed32, b4a.from(r.inputHash, 'hex')], [c.fixed32, b4a.from(r.outputHash, 'hex')], [c.uint, r.fuel], [c.fixed32, b4a.from(r.executor, 'hex')],
    [c.string, r.tenant], [c.uint, r.time], [c.fixed32, b4a.from(r.nonce, 'hex')], [c.uint, r.deadline], [c.uint, r.bytes],
    [c.uint, r.price.utilisationPpm], [c.uint, r.price.fuelPrice], [c.uint, r.price.bytePrice], [c.uint, r.total]
  ]
  const s = c.state()
  for (const [codec, v] of fields) codec.preencode(s, v)
  s.buffer = b4a.alloc(s.end)
  for (const [codec, v] of fields) codec.encode(s, v)
  return s.buffer
}

const hex = (n: number, seed: number): string => Array.from({ length: n }, (_, i) => ((i * 31 + seed) & 0xff).toString(16).padStart(2, '0')).join('')

function body (n: number, i: number): PlainReceiptBody {
  return {
    fn: `${hex(32, i)}/echo@1.0.${n % 1000}` + 'x'.repeat(i % 300 === 0 ? 0 : (i * 7) % 250),
    manifestSignature: hex(64, i + 1),
    moduleHash: hex(32, i + 2),
    inputHash: hex(32, i + 3),
    outputHash: hex(32, i + 4),
    fuel: n,
    executor: hex(32, i + 5),
    tenant: i % 2 === 0 ? '0xAbCdEf0123456789abcdef0123456789ABCDEF01' : hex(32, i + 6),
    time: VARINTS[(i + 3) % VARINTS.length] as number,
    nonce: hex(32, i + 7),
    deadline: VARINTS[(i + 5) % VARINTS.length] as number,
    bytes: VARINTS[(i + 7) % VARINTS.length] as number,
    price: { utilisationPpm: VARINTS[(i + 1) % VARINTS.length] as number, fuelPrice: VARINTS[(i + 2) % VARINTS.length] as number, bytePrice: VARINTS[(i + 4) % VARINTS.length] as number },
    total: VARINTS[(i + 6) % VARINTS.length] as number
  }
}

describe('encodePlainBody', () => {
  it('writes exactly what compact-encoding writes, for every varint width and string length prefix', () => {
    let i = 0
    for (const n of VARINTS) {
      for (const version of [3, 4]) {
        for (let k = 0; k < 6; k++, i++) {
          const r = body(n, i)
          expect(b4a.toString(encodePlainBody(r, version, 0) as Uint8Array, 'hex')).toBe(b4a.toString(reference(r, version), 'hex'))
        }
      }
    }
  })

  it('leaves room after the body and views the body only', () => {
    const r = body(5, 1)
    const out = encodePlainBody(r, 4, 100) as Uint8Array
    expect(b4a.toString(out, 'hex')).toBe(b4a.toString(reference(r, 4), 'hex'))
    expect(out.buffer.byteLength).toBe(out.byteLength + 100)
  })

  it('leaves non-ASCII strings, chain reads and mounts to the generic writer', () => {
    expect(encodePlainBody({ ...body(1, 1), fn: `${hex(32, 1)}/échо@1.0.0` }, 3, 0)).toBeNull()
    expect(encodePlainBody({ ...body(1, 1), tenant: 'ténant' }, 3, 0)).toBeNull()
    expect(encodePlainBody({ ...body(1, 1), chainBlocks: [{ chain: 'ethereum', block: 1 }] }, 5, 0)).toBeNull()
    expect(encodePlainBody({ ...body(1, 1), mounts: [] }, 7, 0)).toBeNull()
  })
})

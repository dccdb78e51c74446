import b4a from 'b4a'
import { describe, expect, it } from 'vitest'
import { ShadwError } from '../../../../src/core/errors.ts'
import { decodeMessage, encodeMessage, MAX_AUTH_CHARS, MAX_INPUT_BYTES, type InvokeMessage } from '../../../../src/core/invoke/index.ts'
import { MAX_FRAME_BYTES } from '../../../../src/core/invoke/protocol.ts'

function code (fn: () => unknown): string {
  try { fn() } catch (err) { if (err instanceof ShadwError) return err.code; throw err }
  throw new Error('expected a typed error')
}

const request: InvokeMessage = { type: 'request', id: 7, ref: `${'ab'.repeat(32)}/echo@^1`, input: new Uint8Array([105, 110]), nonce: new Uint8Array(32).fill(3), deadline: 1_800_000_000_000, redundancy: 3, auth: '{"sig":"0x"}' }

describe('invocation wire codec', () => {
  it('refuses a mounts answer with more versions than a manifest has mounts, no manifest, or a query without a ref', () => {
    expect(code(() => encodeMessage({ type: 'mounts', id: 1, manifest: new Uint8Array(10), versions: new Array(9).fill(1) }))).toBe('INVOKE_PROTOCOL')
    expect(code(() => encodeMessage({ type: 'mounts', id: 1, manifest: new Uint8Array(0), versions: [] }))).toBe('INVOKE_PROTOCOL')
    expect(code(() => encodeMessage({ type: 'mounts', id: 1, manifest: new Uint8Array(10), versions: [-1] }))).toBe('INVOKE_PROTOCOL')
    expect(code(() => encodeMessage({ type: 'mounts-query', id: 1, ref: '' }))).toBe('INVOKE_PROTOCOL')
    expect(code(() => encodeMessage({ type: 'mounts-query', id: 0, ref: 'x' }))).toBe('INVOKE_PROTOCOL')
    // a count past the bound is refused before the loop reads it
    const frame = encodeMessage({ type: 'mounts', id: 1, manifest: new Uint8Array(10), versions: [1] })
    const forged = b4a.from(frame)
    forged[forged.byteLength - 2] = 200
    expect(code(() => decodeMessage(forged))).toBe('INVOKE_PROTOCOL')
  })

  it('carries the blocks an executor would pin in a mounts answer, and refuses bad ones', () => {
    const answer: InvokeMessage = { type: 'mounts', id: 4, manifest: new Uint8Array(10).fill(1), versions: [2], blocks: { sepolia: '123', hardhat: '7' } }
    expect(decodeMessage(encodeMessage(answer))).toEqual(answer)
    expect(code(() => encodeMessage({ ...answer, blocks: {} } as InvokeMessage))).toBe('INVOKE_PROTOCOL')
    expect(code(() => encodeMessage({ ...answer, blocks: { sepolia: '-1' } } as InvokeMessage))).toBe('INVOKE_PROTOCOL')
    // an empty list after the versions is a trailing byte, not "no blocks"
    const plain = encodeMessage({ type: 'mounts', id: 4, manifest: new Uint8Array(10).fill(1), versions: [2] })
    expect(code(() => decodeMessage(b4a.concat([plain, b4a.from([0])])))).toBe('INVOKE_PROTOCOL')
  })

  it('round-trips every message type exactly', () => {
    const messages: InvokeMessage[] = [
      { type: 'capacity', id: 0, free: 3, total: 4, cpuBudget: 50, tier: 'storm' },
      { type: 'capacity-query', id: 9 },
      request,
      { ...request, auth: null } as InvokeMessage,
      { ...request, maxCharge: 0, blocks: { sepolia: '123', base: '0' } } as InvokeMessage,
      // a chain named like a prototype key stays an own field
      { ...request, blocks: Object.fromEntries([['__proto__', '18446744073709551615']]) } as InvokeMessage,
      // pinned drive mounts, with and without a spending cap, a private drive's key among them
      { ...request, mounts: [{ drive: 'ee'.repeat(32), version: 3, path: '/data', from: '/models' }, { drive: 'ff'.repeat(32), version: 1, path: '/in', encryptionKey: '11'.repeat(32) }] } as InvokeMessage,
      { ...request, maxCharge: 5, mounts: [{ drive: 'ee'.repeat(32), version: 3, path: '/data' }] } as InvokeMessage,
      { ...request, maxCharge: 7, blocks: { sepolia: '9' }, mounts: [{ drive: 'ee'.repeat(32), version: 2, path: '/data' }] } as InvokeMessage,
      { type: 'result', id: 7, output: new Uint8Array([111, 117, 116]), receipt: new Uint8Array(300).fill(1), ledgerKey: new Uint8Array(32).fill(2), ledgerIndex: 41 },
      { type: 'error', id: 7, code: 'TRAP', message: 'TRAP: unreachable' },
      { type: 'cancel', id: 7 },
      // a caller's question about a function's mounts, and an executor's answer
      { type: 'mounts-query', id: 8, ref: `${'ab'.repeat(32)}/read@^1` },
      { type: 'mounts', id: 8, manifest: new Uint8Array(500).fill(4), versions: [0, 12, 3] },
      { type: 'mounts', id: 8, manifest: new Uint8Array(1).fill(4), versions: [] }
    ]
    for (const m of messages) expect(decodeMessage(encodeMessage(m))).toEqual(m)
  })

  it('refuses malformed frames with INVOKE_PROTOCOL', () => {
    const good = encodeMessage(request)
    expect(code(() => decodeMessage('text'))).toBe('INVOKE_PROTOCOL')
    expect(code(() => decodeMessage(new Uint8Array(0)))).toBe('INVOKE_PROTOCOL')
    expect(code(() => decodeMessage(b4a.from([6, 1])))).toBe('INVOKE_PROTOCOL')
    expect(code(() => decodeMessage(good.subarray(0, good.byteLength - 1)))).toBe('INVOKE_PROTOCOL')
    expect(code(() => decodeMessage(b4a.concat([good, b4a.from([0])])))).toBe('INVOKE_PROTOCOL')
    expect(code(() => decodeMessage(new Uint8Array(MAX_FRAME_BYTES + 1)))).toBe('INVOKE_PROTOCOL')
    // a request's no-cap marker (0) with no pinned blocks after it, a pin count of 0, a chain pinned twice, a block not in decimal
    expect(code(() => decodeMessage(b4a.concat([good, b4a.from([0])])))).toBe('INVOKE_PROTOCOL')
    expect(code(() => decodeMessage(b4a.concat([good, b4a.from([0, 0])])))).toBe('INVOKE_PROTOCOL')
    const pin = (chain: string, block: string): Uint8Array => b4a.concat([b4a.from([chain.length]), b4a.from(chain), b4a.from([block.length]), b4a.from(block)])
    expect(decodeMessage(b4a.concat([good, b4a.from([0, 1]), pin('base', '9')]))).toMatchObject({ ref: request.ref, blocks: { base: '9' } })
    expect(code(() => decodeMessage(b4a.concat([good, b4a.from([0, 2]), pin('base', '9'), pin('base', '8')])))).toBe('INVOKE_PROTOCOL')
    expect(code(() => decodeMessage(b4a.concat([good, b4a.from([0, 1]), pin('base', '0x9')])))).toBe('INVOKE_PROTOCOL')
    expect(code(() => encodeMessage({ ...request, blocks: { base: '-1' } } as InvokeMessage))).toBe('INVOKE_PROTOCOL')
    // capacity with free > total, an unknown tier
    expect(code(() => decodeMessage(b4a.from([0, 0, 5, 4, 50, 0])))).toBe('INVOKE_PROTOCOL')
    expect(code(() => decodeMessage(b4a.from([0, 0, 1, 4, 50, 9])))).toBe('INVOKE_PROTOCOL')
    // a cancel for id 0 and an error frame with a code we do not know is kept as INTERNAL
    expect(code(() => decodeMessage(b4a.from([5, 0])))).toBe('INVOKE_PROTOCOL')
    expect(decodeMessage(encodeMessage({ type: 'error', id: 1, code: 'TRAP', message: 'm' }).map((b, i) => i === 3 ? 0x5a : b))).toMatchObject({ type: 'error', code: 'INTERNAL' })
  })

  it('refuses out-of-bounds fields on encode and decode alike', () => {
    const bad: Array<Partial<typeof request>> = [
      { id: 0 }, { ref: '' }, { ref: 'x'.repeat(257) }, { nonce: new Uint8Array(31) }, { deadline: 0 },
      { redundancy: 0 }, { redundancy: 17 }, { auth: 'x'.repeat(MAX_AUTH_CHARS + 1) }, { input: new Uint8Array(MAX_INPUT_BYTES + 1) },
      { mounts: [] }, { mounts: [{ drive: 'x', version: 1, path: '/d' }] }, { mounts: [{ drive: 'ee'.repeat(32), version: 0, path: '/d' }] }
    ]
    for (const b of bad) expect(code(() => encodeMessage({ ...request, ...b } as InvokeMessage))).toBe('INVOKE_PROTOCOL')
    expect(code(() => encodeMessage({ type: 'error', id: 1, code: 'NOPE' as 'TRAP', message: '' }))).toBe('INVOKE_PROTOCOL')
    expect(code(() => encodeMessage({ type: 'error', id: 1, code: 'TRAP', message: 'x'.repeat(1025) }))).toBe('INVOKE_PROTOCOL')
    expect(code(() => encodeMessage({ type: 'result', id: 1, output: new Uint8Array(0), receipt: new Uint8Array(0), ledgerKey: new Uint8Array(32), ledgerIndex: 0 }))).toBe('INVOKE_PROTOCOL')
  })
})

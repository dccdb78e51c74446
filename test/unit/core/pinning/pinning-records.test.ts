import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import { describe, expect, it } from 'vitest'
import { decodePinMessage, MAX_PIN_MESSAGE_BYTES } from '../../../../src/core/pinning/pin-protocol.ts'
import { DiskBudget, healthOf, parsePinRequest, parseSize, signHold, verifyHold } from '../../../../src/core/pinning/index.ts'

const KEY = 'ab'.repeat(32)
const LOG = { key: 'cd'.repeat(32), length: 3, byteLength: 300, treeHash: 'ef'.repeat(32) }

describe('disk budgets', () => {
  it('parses sizes with binary and decimal units', () => {
    expect(parseSize('1048576')).toBe(1048576)
    expect(parseSize('512MiB')).toBe(512 * 1024 ** 2)
    expect(parseSize('10GB')).toBe(10 * 1000 ** 3)
    expect(parseSize('2g')).toBe(2 * 1024 ** 3)
    expect(parseSize('1.5 KiB')).toBe(1536)
    for (const bad of ['', 'ten', '-1', '5 PiB', '1e3', '99999999999TiB']) expect(() => parseSize(bad)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
  })

  it('refuses a reservation past the free bytes and takes nothing', () => {
    const b = new DiskBudget(1000)
    b.reserve(600)
    expect(() => { b.reserve(401) }).toThrow(expect.objectContaining({ code: 'DISK_BUDGET_EXCEEDED', details: { needed: 401, free: 400 } }))
    expect(b.state()).toEqual({ total: 1000, used: 600 })
    b.reserve(400)
    expect(b.free).toBe(0)
    b.release(1000)
    expect(b.used).toBe(0)
    expect(() => new DiskBudget(-1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }))
  })
})

describe('pin requests', () => {
  it('accepts a well-formed request and refuses malformed ones with PIN_PROTOCOL', () => {
    expect(parsePinRequest({ drive: KEY, logs: [LOG], replicas: 3, extra: 1 })).toEqual({ drive: KEY, logs: [LOG], replicas: 3 })
    const bad: unknown[] = [
      null,
      { drive: 'AB'.repeat(32), logs: [LOG], replicas: 1 },
      { drive: KEY, logs: [], replicas: 1 },
      { drive: KEY, logs: [LOG, LOG], replicas: 1 },
      { drive: KEY, logs: [{ ...LOG, length: 0 }], replicas: 1 },
      { drive: KEY, logs: [{ ...LOG, byteLength: -1 }], replicas: 1 },
      { drive: KEY, logs: [LOG], replicas: 0 },
      { drive: KEY, logs: [LOG], replicas: 17 },
      { drive: KEY, logs: Array.from({ length: 17 }, (_, i) => ({ ...LOG, key: i.toString(16).padStart(64, '0') })), replicas: 1 }
    ]
    for (const v of bad) expect(() => parsePinRequest(v)).toThrow(expect.objectContaining({ code: 'PIN_PROTOCOL' }))
  })

  it('decodes messages and refuses oversized, non-JSON and unknown ones', () => {
    const enc = (v: unknown): Uint8Array => b4a.from(JSON.stringify(v))
    expect(decodePinMessage(enc({ type: 'offer', offer: { free: 5, price: 1, servePrice: 2 } }))).toEqual({ type: 'offer', offer: { free: 5, price: 1, servePrice: 2 } })
    expect(decodePinMessage(enc({ type: 'query', id: 1, drive: KEY }))).toEqual({ type: 'query', id: 1, drive: KEY })
    expect(decodePinMessage(enc({ type: 'refused', id: 2, code: 'NOPE', message: 'x' }))).toEqual({ type: 'refused', id: 2, code: 'INTERNAL', message: 'x' })
    for (const bytes of [b4a.from('{'), enc({ type: 'steal' }), enc({ type: 'pin', id: -1, request: {} }), enc({ type: 'gossip', confirmations: Array.from({ length: 257 }, () => ({})) }), b4a.alloc(MAX_PIN_MESSAGE_BYTES + 1, 0x20)]) {
      expect(() => decodePinMessage(bytes)).toThrow(expect.objectContaining({ code: 'PIN_PROTOCOL' }))
    }
  })
})

describe('hold confirmations', () => {
  it('verifies the holder\'s signature over every field, and refuses any change', () => {
    const keyPair = crypto.keyPair()
    const conf = signHold({ drive: KEY, logs: [{ key: LOG.key, length: 3, treeHash: LOG.treeHash }], budget: { total: 1000, used: 300 }, time: 1_700_000_000_000 }, keyPair)
    expect(conf.holder).toBe(b4a.toString(keyPair.publicKey, 'hex'))
    expect(verifyHold(JSON.parse(JSON.stringify(conf)))).toEqual(conf)
    const tampered = [
      { ...conf, time: conf.time + 1 },
      { ...conf, budget: { total: 1000, used: 0 } },
      { ...conf, logs: [{ ...conf.logs[0], length: 4 }] },
      { ...conf, holder: b4a.toString(crypto.keyPair().publicKey, 'hex') },
      { ...conf, signature: 'zz' }
    ]
    for (const t of tampered) expect(() => verifyHold(t)).toThrow(expect.objectContaining({ code: 'HOLD_INVALID' }))
  })

  it('reads health from live holders against the replicas wanted', () => {
    expect(healthOf(3, 3)).toBe('healthy')
    expect(healthOf(4, 3)).toBe('healthy')
    expect(healthOf(2, 3)).toBe('degraded')
    expect(healthOf(0, 3)).toBe('lost')
  })
})

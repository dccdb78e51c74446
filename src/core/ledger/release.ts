/**
 * A key holder's release record in its ledger: tag `0xc2`, then the record as JSON (the
 * holder's signature inside, over the fields in a fixed order; see access/key-shares.ts).
 * Ledgers written before releases existed hold none and read as before.
 */
import b4a from 'b4a'
import { verifyRelease, type ReleaseRecord } from '../access/index.ts'
import { ShadwError } from '../errors.ts'

/** First byte of a release record (receipts start with their version, attestations 0xa1, misses 0xb1). */
export const RELEASE_TAG = 0xc2
/** A record names a few chains and keys: 4 KiB is far above any honest one. */
const MAX_RELEASE_BYTES = 4096
const HEX64 = /^[0-9a-f]{64}$/
const HEX128 = /^[0-9a-f]{128}$/

/** The record as a ledger block. */
export function encodeRelease (record: ReleaseRecord): Uint8Array {
  const { holder, fn, tenant, to, blocks, time, signature, call, requester } = record
  // a release for a call names it and the executor: absent otherwise, so older records keep their bytes
  const forCall = call === undefined ? {} : { call, requester }
  const bytes = b4a.concat([b4a.from([RELEASE_TAG]), b4a.from(JSON.stringify({ holder, fn, tenant, to, blocks, time, signature, ...forCall }))])
  if (bytes.byteLength > MAX_RELEASE_BYTES) throw ShadwError.INVALID_ARGUMENT(`a release record is at most ${MAX_RELEASE_BYTES} bytes`)
  return bytes
}

/** Decodes a release block and checks its form; {@link openRelease} also checks its signature. */
export function decodeRelease (bytes: Uint8Array): ReleaseRecord {
  const bad = (why: string): never => { throw ShadwError.INVALID_ARGUMENT(`release record: ${why}`) }
  if (bytes.byteLength > MAX_RELEASE_BYTES || bytes[0] !== RELEASE_TAG) bad('not a release block')
  let v: unknown
  try { v = JSON.parse(b4a.toString(bytes.subarray(1))) } catch { bad('not JSON') }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) bad('not an object')
  const r = v as Record<string, unknown>
  const fields = Object.keys(r).sort().join()
  if (fields !== 'blocks,fn,holder,signature,tenant,time,to' && fields !== 'blocks,call,fn,holder,requester,signature,tenant,time,to') bad('unexpected fields')
  if (r.call !== undefined && (typeof r.call !== 'string' || !HEX64.test(r.call) || typeof r.requester !== 'string' || !HEX64.test(r.requester))) bad('call and requester are 64 hex')
  if (typeof r.holder !== 'string' || !HEX64.test(r.holder)) bad('holder is not a key')
  if (typeof r.to !== 'string' || !HEX64.test(r.to)) bad('to is not a key')
  if (typeof r.signature !== 'string' || !HEX128.test(r.signature)) bad('signature is not 64 bytes')
  if (typeof r.fn !== 'string' || typeof r.tenant !== 'string') bad('fn and tenant are strings')
  if (!Number.isSafeInteger(r.time)) bad('time is not an integer')
  const blocks = r.blocks
  if (typeof blocks !== 'object' || blocks === null || Array.isArray(blocks) || Object.values(blocks).some(b => typeof b !== 'string')) bad('blocks map chains to decimal blocks')
  return r as unknown as ReleaseRecord
}

/** Decodes a release block and checks its holder's signature. */
export function openRelease (bytes: Uint8Array): ReleaseRecord {
  const record = decodeRelease(bytes)
  if (!verifyRelease(record)) throw ShadwError.INVALID_ARGUMENT('release record: the holder\'s signature does not verify')
  return record
}

/**
 * What a pin names: a drive and the logs that make it up (a hyperdrive is its Hyperbee db
 * log and its blobs log), each at one length with the tree hash signed at that length. A
 * holder replicates exactly that, so a pin is independent of the drive format: anything made
 * of Hypercore logs pins the same way.
 */
import { ShadwError } from '../errors.ts'
import { isHexKey } from '../hex.ts'

/** A drive is a handful of logs (db + blobs today); more in one pin is not a drive we hold. */
export const MAX_PIN_LOGS = 16
/** A replica count beyond this is not a pin but a broadcast. */
export const MAX_REPLICAS = 16
/** Largest log a pin may name: 1 TiB, far past any budget we meet, still a safe integer sum. */
export const MAX_LOG_BYTES = 2 ** 40

/** One log of a pin at the length the pinner wants held. */
export interface PinnedLog {
  /** the log's public key (64 hex) */
  key: string
  /** blocks to hold, from 0 */
  length: number
  /** payload bytes of those blocks, as the signed tree at `length` commits to */
  byteLength: number
  /** Hypercore's tree hash at `length` (64 hex): what the writer's signature covers */
  treeHash: string
}

/** A pin request: the drive, its logs, and how many distinct holders should hold them. */
export interface PinRequest {
  /** the drive's key (64 hex): for a hyperdrive, its db log's key */
  drive: string
  logs: PinnedLog[]
  replicas: number
}

function bad (why: string): never {
  throw ShadwError.PIN_PROTOCOL(why)
}

function count (v: unknown, what: string, max: number, min = 0): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) bad(`${what} must be an integer ${min}-${max}`)
  return v
}

/** Checks one log reference from a peer or a file. @throws ShadwError `PIN_PROTOCOL` */
export function parsePinnedLog (v: unknown): PinnedLog {
  if (typeof v !== 'object' || v === null) bad('log is not an object')
  const r = v as Record<string, unknown>
  if (!isHexKey(r.key)) bad('log key must be 64 hex characters')
  if (!isHexKey(r.treeHash)) bad('treeHash must be 64 hex characters')
  return {
    key: r.key,
    length: count(r.length, 'length', Number.MAX_SAFE_INTEGER, 1),
    byteLength: count(r.byteLength, 'byteLength', MAX_LOG_BYTES),
    treeHash: r.treeHash
  }
}

/** Checks a pin request from a peer. @throws ShadwError `PIN_PROTOCOL` */
export function parsePinRequest (v: unknown): PinRequest {
  if (typeof v !== 'object' || v === null) bad('pin request is not an object')
  const r = v as Record<string, unknown>
  if (!isHexKey(r.drive)) bad('drive must be 64 hex characters')
  if (!Array.isArray(r.logs) || r.logs.length === 0 || r.logs.length > MAX_PIN_LOGS) bad(`a pin names 1-${MAX_PIN_LOGS} logs`)
  const logs = r.logs.map(parsePinnedLog)
  if (new Set(logs.map(l => l.key)).size !== logs.length) bad('a log is named twice')
  return { drive: r.drive, logs, replicas: count(r.replicas, 'replicas', MAX_REPLICAS, 1) }
}

/** Bytes a holder must have free to take the pin. */
export function pinBytes (req: { logs: Array<{ byteLength: number }> }): number {
  return req.logs.reduce((sum, l) => sum + l.byteLength, 0)
}

/** True when two pins name the same logs at the same lengths and tree hashes. */
export function sameLogs (a: ReadonlyArray<Omit<PinnedLog, 'byteLength'>>, b: ReadonlyArray<Omit<PinnedLog, 'byteLength'>>): boolean {
  if (a.length !== b.length) return false
  return a.every((l, i) => l.key === b[i]?.key && l.length === b[i]?.length && l.treeHash === b[i]?.treeHash)
}

/**
 * The drive versions a call read, as its receipt carries them (`mounts`). Versions 7 and 8
 * are versions 3 and 4 with the chain reads (a count, 0 when none) and then the mounts
 * appended; a receipt without mounts keeps its version 3-6 bytes unchanged.
 */
import b4a from 'b4a'
import c, { type State } from 'compact-encoding'
import { put } from '../encoding.ts'
import { ShadwError } from '../errors.ts'
import { isHexKey } from '../hex.ts'

/** Version byte of a receipt naming the drive versions its call read. */
export const RECEIPT_MOUNT_VERSION = 7
/** The batch form of {@link RECEIPT_MOUNT_VERSION}. */
export const RECEIPT_MOUNT_BATCH_VERSION = 8
/** Most drive versions one receipt names (a call's mounts). */
export const MAX_RECEIPT_MOUNTS = 8

/** One drive version a call read. */
export interface ReceiptMount {
  /** the drive's key, 64 lowercase hex characters */
  drive: string
  version: number
}

export function isMountVersion (version: number): boolean {
  return version === RECEIPT_MOUNT_VERSION || version === RECEIPT_MOUNT_BATCH_VERSION
}

function bad (why: string): never {
  throw ShadwError.RECEIPT_INVALID(why)
}

/** Checks a receipt's `mounts` (in the order the call mounted them). */
export function checkMounts (list: unknown): void {
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_RECEIPT_MOUNTS) bad(`mounts must list 1-${MAX_RECEIPT_MOUNTS} drives`)
  for (const e of list as ReceiptMount[]) {
    if (typeof e !== 'object' || e === null || !isHexKey(e.drive) || e.drive !== e.drive.toLowerCase()) bad('mounts names a drive that is not 64 lowercase hex characters')
    if (!Number.isSafeInteger(e.version) || e.version < 1) bad('mounts version must be a positive integer')
  }
}

export function writeMounts (s: State, pre: boolean, list: ReceiptMount[]): void {
  put(s, pre, c.uint, list.length)
  for (const e of list) { put(s, pre, c.fixed32, b4a.from(e.drive, 'hex')); put(s, pre, c.uint, e.version) }
}

export function readMounts (s: State, uint: (s: State) => number): ReceiptMount[] {
  const n = uint(s)
  if (n < 1 || n > MAX_RECEIPT_MOUNTS) bad(`mounts must list 1-${MAX_RECEIPT_MOUNTS} drives`)
  const out: ReceiptMount[] = []
  for (let i = 0; i < n; i++) out.push({ drive: b4a.toString(c.fixed32.decode(s), 'hex'), version: uint(s) })
  return out
}

/** Copies `mounts` out of an untrusted object (a JSON file). */
export function copyMounts (v: unknown): ReceiptMount[] {
  return (Array.isArray(v) ? v.map((e: unknown) => ({ drive: (e as Record<string, unknown> | null)?.['drive'], version: (e as Record<string, unknown> | null)?.['version'] })) : v) as ReceiptMount[]
}

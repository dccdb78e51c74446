/**
 * What an executor holds of drives locally, as its capacity advert carries it: so a tenant's
 * router can send a call to an executor that already has the data the call mounts (see
 * router.ts for how locality is weighed against load and latency, docs/performance.md).
 *
 * The advert is bounded: at most {@link MAX_ADVERTISED_DRIVES} drives, the largest holdings
 * first. A drive past the bound is still served; it only earns its holder no preference.
 */
import b4a from 'b4a'
import c, { type State } from 'compact-encoding'
import { put } from '../encoding.ts'
import { ShadwError } from '../errors.ts'
import { isHexKey } from '../hex.ts'

/**
 * Most drives one advert names: 32 × (32-byte key + a varint) keeps a capacity frame near
 * 1.3 KiB, small enough to answer every latency probe with it.
 */
export const MAX_ADVERTISED_DRIVES = 32

/** One drive an executor holds: its key (hex) and the bytes of it stored locally. */
export interface HeldDrive { drive: string, bytes: number }

/**
 * The holdings to advertise: one entry per drive (the largest count wins), entries that are
 * not a lowercase hex key with a positive whole byte count dropped, the
 * {@link MAX_ADVERTISED_DRIVES} largest kept (ties by key, so two calls over the same
 * holdings advertise the same list).
 */
export function boundHoldings (held: Iterable<HeldDrive>): HeldDrive[] {
  const by = new Map<string, number>()
  for (const h of held) {
    if (!isHexKey(h.drive) || !Number.isSafeInteger(h.bytes) || h.bytes <= 0) continue
    by.set(h.drive, Math.max(by.get(h.drive) ?? 0, h.bytes))
  }
  return [...by].map(([drive, bytes]) => ({ drive, bytes }))
    .sort((a, b) => b.bytes - a.bytes || (a.drive < b.drive ? -1 : 1))
    .slice(0, MAX_ADVERTISED_DRIVES)
}

/** True when two advertised lists say the same. */
export function sameHoldings (a: readonly HeldDrive[] | undefined, b: readonly HeldDrive[] | undefined): boolean {
  const x = a ?? []
  const y = b ?? []
  return x.length === y.length && x.every((h, i) => h.drive === y[i]?.drive && h.bytes === y[i]?.bytes)
}

export function writeHoldings (s: State, pre: boolean, held: readonly HeldDrive[]): void {
  put(s, pre, c.uint, held.length)
  for (const h of held) { put(s, pre, c.fixed32, b4a.from(h.drive, 'hex')); put(s, pre, c.uint, h.bytes) }
}

export function readHoldings (s: State): HeldDrive[] {
  const n = c.uint.decode(s)
  if (n === 0 || n > MAX_ADVERTISED_DRIVES) throw ShadwError.INVOKE_PROTOCOL(`held drives must be 1-${MAX_ADVERTISED_DRIVES}`)
  const out: HeldDrive[] = []
  for (let i = 0; i < n; i++) out.push({ drive: b4a.toString(c.fixed32.decode(s), 'hex'), bytes: c.uint.decode(s) })
  checkHoldings(out)
  return out
}

/** Refuses a list a peer would refuse: 1-32 distinct drives, each with a positive byte count. */
export function checkHoldings (held: unknown): void {
  const bad = (why: string): never => { throw ShadwError.INVOKE_PROTOCOL(`capacity: ${why}`) }
  if (!Array.isArray(held) || held.length === 0 || held.length > MAX_ADVERTISED_DRIVES) bad(`held drives, when sent, are 1-${MAX_ADVERTISED_DRIVES}`)
  const seen = new Set<string>()
  for (const h of held as unknown[]) {
    const { drive, bytes } = (h ?? {}) as Partial<HeldDrive>
    if (typeof drive !== 'string' || !isHexKey(drive) || drive !== drive.toLowerCase()) bad('a held drive is a lowercase key of 64 hex characters')
    if (!Number.isSafeInteger(bytes) || (bytes as number) < 1) bad('a held drive counts a positive number of bytes')
    if (seen.has(drive as string)) bad('a drive is advertised twice')
    seen.add(drive as string)
  }
}

/**
 * The mounts a request carries on the invoke channel (an optional trailing field): every
 * drive the call runs over, each pinned to a version by the caller, with a private drive's
 * encryption key (the channel is encrypted end to end; the key is never signed or logged), or
 * where its condition-gated shares are, for the executor to fetch the key for the call.
 */
import b4a from 'b4a'
import c, { type State } from 'compact-encoding'
import { parsePinnedMounts, type PinnedMount } from '../drive/index.ts'
import { put } from '../encoding.ts'
import { ShadwError } from '../errors.ts'

export function writeRequestMounts (s: State, pre: boolean, mounts: PinnedMount[]): void {
  put(s, pre, c.uint, mounts.length)
  for (const m of mounts) {
    put(s, pre, c.fixed32, b4a.from(m.drive, 'hex'))
    put(s, pre, c.uint, m.version)
    put(s, pre, c.string, m.path)
    put(s, pre, c.string, m.from ?? '/')
    // 0: public, 1: the key, 2: where its gated shares are (the executor fetches it for the call)
    put(s, pre, c.uint, m.encryptionKey !== undefined ? 1 : m.keyGrant !== undefined ? 2 : 0)
    if (m.encryptionKey !== undefined) put(s, pre, c.fixed32, b4a.from(m.encryptionKey, 'hex'))
    else if (m.keyGrant !== undefined) {
      const g = m.keyGrant
      put(s, pre, c.fixed32, b4a.from(g.keyId, 'hex'))
      put(s, pre, c.fixed32, b4a.from(g.dealer, 'hex'))
      put(s, pre, c.uint, g.threshold)
      put(s, pre, c.uint, g.holders.length)
      for (const h of g.holders) put(s, pre, c.fixed32, b4a.from(h, 'hex'))
    }
  }
}

export function readRequestMounts (s: State): PinnedMount[] {
  const n = c.uint.decode(s)
  // parsePinnedMounts bounds the list; this bounds the loop before it
  if (n === 0 || n > 64) throw ShadwError.INVOKE_PROTOCOL('bad mount count')
  const out: Array<Record<string, unknown>> = []
  for (let i = 0; i < n; i++) {
    const m: Record<string, unknown> = { drive: b4a.toString(c.fixed32.decode(s), 'hex'), version: c.uint.decode(s), path: c.string.decode(s), from: c.string.decode(s) }
    const hasKey = c.uint.decode(s)
    if (hasKey > 2) throw ShadwError.INVOKE_PROTOCOL('encryption key flag must be 0, 1 or 2')
    if (hasKey === 1) m['encryptionKey'] = b4a.toString(c.fixed32.decode(s), 'hex')
    if (hasKey === 2) {
      const keyId = b4a.toString(c.fixed32.decode(s), 'hex')
      const dealer = b4a.toString(c.fixed32.decode(s), 'hex')
      const threshold = c.uint.decode(s)
      const count = c.uint.decode(s)
      // parsePinnedMounts checks the grant; this bounds the loop before it
      if (count > 32) throw ShadwError.INVOKE_PROTOCOL('too many key holders')
      const holders: string[] = []
      for (let j = 0; j < count; j++) holders.push(b4a.toString(c.fixed32.decode(s), 'hex'))
      m['keyGrant'] = { keyId, dealer, threshold, holders }
    }
    out.push(m)
  }
  try {
    return parsePinnedMounts(out)
  } catch (err) {
    throw ShadwError.INVOKE_PROTOCOL(err instanceof Error ? err.message : 'bad mounts')
  }
}

/** Checks a request's mounts before they are sent. */
export function checkRequestMounts (mounts: unknown): void {
  if (!Array.isArray(mounts) || mounts.length === 0) throw ShadwError.INVOKE_PROTOCOL('mounts, when sent, list at least one')
  try {
    parsePinnedMounts(mounts)
  } catch (err) {
    throw ShadwError.INVOKE_PROTOCOL(err instanceof Error ? err.message : 'bad mounts')
  }
}

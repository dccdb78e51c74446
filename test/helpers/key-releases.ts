/** What the keyed-call tests (call keys, their deadline, the CLI's secrets) read of key holders. */
import b4a from 'b4a'
import crypto from 'hypercore-crypto'
import type { ReleaseRecord } from '../../src/core/access/index.ts'
import { readLedgerEntry } from '../../src/core/ledger/index.ts'
import type { SuperNode } from '../../src/super-node/super-node.ts'

/** Every release record in a key holder's releases log (the 0xc2 entries of its ledger). */
export async function releases (s: SuperNode): Promise<ReleaseRecord[]> {
  const key = s.keys?.releasesKey as string
  const out: ReleaseRecord[] = []
  const length = s.node.logInfo(key).length
  for (let i = 0; i < length; i++) {
    const entry = readLedgerEntry(await s.node.get(key, i) as Uint8Array)
    if (entry.kind === 'release') out.push(entry.release)
  }
  return out
}

/** A fresh call id (hex): what an auth bound to one call names. */
export const newCall = (): string => b4a.toString(crypto.randomBytes(32), 'hex')

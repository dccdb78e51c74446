/**
 * The proofs part of `shadw drive status`: ask the holders met on the holders' topic which
 * verdicts they know for a drive (each keeps every challenger's latest on every co-holder),
 * check every signature, and give per holder its last proof (time, result, reason) and
 * whether a quorum of challengers fails it now.
 */
import { log } from '../log.ts'
import { DEFAULT_PROOF_QUORUM, type ProofVerdict } from '../ledger/index.ts'
import { holdersTopic } from './pin-protocol.ts'
import type { PinClientNode } from './pinner.ts'
import { ProofBook } from './proof-book.ts'
import { ProofChannels } from './proof-protocol.ts'

const debug = log('pinning')

/** Longest wait for one holder's answer. */
const QUERY_TIMEOUT_MS = 5_000
/** How often discovery looks at the connected peers. */
const POLL_MS = 100
/** Once one holder answers the channel, how long the others get to connect too. */
const SETTLE_MS = 1_000

/** One holder's proofs as status shows them. */
export interface HolderProof {
  holder: string
  /** the newest verdict on it by any challenger */
  last: { time: number, ok: boolean, reason: string, challenger: string, kind: ProofVerdict['kind'] }
  /** distinct challengers with a verdict on it, and how many of their latest are failures */
  challengers: number
  failing: number
  /** a quorum of challengers' latest verdicts fail it */
  failed: boolean
}

/**
 * Asks the holders which verdicts they know for `drive`; every one returned is signature-checked.
 * Judge them with {@link summarizeProofs}, once the drive's holders are known.
 */
export async function proofStatus (o: { node: PinClientNode, drive: string, discoverMs?: number }): Promise<ProofVerdict[]> {
  const channels = new ProofChannels(o.node)
  channels.start()
  try {
    await o.node.joinTopic(holdersTopic(), { server: false, client: true })
    const waitMs = o.discoverMs ?? 5_000
    for (let i = 0; i < Math.ceil(waitMs / POLL_MS) && channels.peers().length === 0; i++) await new Promise(resolve => setTimeout(resolve, POLL_MS))
    if (channels.peers().length > 0) await new Promise(resolve => setTimeout(resolve, Math.min(SETTLE_MS, waitMs)))
    const book = new ProofBook()
    await Promise.all(channels.peers().map(async peer => {
      try {
        const a = await peer.request({ type: 'query', drive: o.drive }, QUERY_TIMEOUT_MS)
        if (a.type === 'verdicts') for (const v of a.verdicts) if ((v as { drive?: unknown } | null)?.drive === o.drive) book.add(v)
      } catch (err) {
        debug('proof query failed', peer.publicKey.slice(0, 8), err)
      }
    }))
    return book.verdicts(o.drive)
  } finally {
    channels.stop()
  }
}

/**
 * Per holder of `drive`: its last proof and whether a quorum of challengers fails it, counting
 * only verdicts by `holders` (the drive's holders, from their signed holds: strangers'
 * verdicts do not count). Holders without any verdict are absent.
 */
export function summarizeProofs (verdicts: ProofVerdict[], drive: string, holders: Iterable<string>, quorum = DEFAULT_PROOF_QUORUM): HolderProof[] {
  const judges = new Set(holders)
  const book = new ProofBook(quorum, (d, challenger) => d === drive && judges.has(challenger))
  for (const v of verdicts) book.add(v)
  const byHolder = new Map<string, ProofVerdict[]>()
  for (const v of book.verdicts(drive)) byHolder.set(v.holder, [...(byHolder.get(v.holder) ?? []), v])
  const failed = new Set(book.failedHolders(drive).map(f => f.holder))
  return [...byHolder].map(([holder, vs]) => {
    const last = vs.reduce((a, b) => b.time > a.time ? b : a)
    return { holder, last: { time: last.time, ok: last.ok, reason: last.reason, challenger: last.challenger, kind: last.kind }, challengers: vs.length, failing: vs.filter(v => !v.ok).length, failed: failed.has(holder) }
  }).sort((a, b) => a.holder < b.holder ? -1 : 1)
}

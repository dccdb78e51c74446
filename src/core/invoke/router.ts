/**
 * Choosing executors: among peers whose channel is open and who advertise free capacity,
 * the lowest score wins, where the score is the measured round trip plus the time the peer
 * would spend fetching the call's mounted data it does not hold (data locality), stretched by
 * the calls this node already has in flight there (spreads load) and by recorded dissents (a
 * peer caught lying is asked last). Ties break at random so equal peers share the work.
 * docs/performance.md, "Routing to the data", explains the weights.
 */
import { ShadwError } from '../errors.ts'
import type { CapacityMessage } from './protocol.ts'

/**
 * Below this reputation a peer is avoided: asked only when no better-trusted peer has room.
 * A liar refuted once by the light nodes scores (0+1)/(10+2) ≈ 0.08 (src/reputation); a new
 * peer scores 0.5.
 */
export const AVOID_REPUTATION = 0.25

/** Round trip assumed for a peer not yet measured: typical of a LAN/relay hop. */
export const UNMEASURED_RTT_MS = 50

/**
 * Rate at which an executor is assumed to fetch a drive's blocks it does not hold, bytes per
 * ms: 8 MiB/s, about what bench/mount-routing.ts measures for a call's fetch of a 64 MiB
 * file over loopback UDX on a loaded machine (~6.7 MiB/s); a relayed or slow link is slower,
 * which only makes holding the data worth more. Turns missing bytes into the milliseconds
 * they add to a call, the unit of the round trip they are weighed against.
 */
export const FETCH_BYTES_PER_MS = 8 * 1024 * 1024 / 1000
/**
 * Most a drive's absence adds to a peer's score, ms: the size estimate is an upper bound
 * (a call may read a few blocks of a big drive), so a huge drive must not make every
 * non-holder look as if it could never answer; beyond this, load and latency decide again.
 */
export const MAX_FETCH_PENALTY_MS = 10_000

/** What the router knows about one peer. */
export interface PeerState {
  key: string
  /** latest capacity advert; null until the first arrives */
  capacity: CapacityMessage | null
  /** measured round trip of the capacity exchange, ms */
  rtt: number | null
  /** calls this node has in flight there */
  inflight: number
  /** results this peer returned that disagreed with an accepted quorum */
  dissents: number
  /** the peer answered BUSY since its last advert: skip it until it advertises again */
  full: boolean
  /** trust from ledgers, (0, 1] (src/reputation); absent = 1. Divides the score: a liar's grows */
  reputation?: number
}

/** True when `p` executes at all. */
export function isExecutor (p: PeerState): boolean {
  return p.capacity !== null && p.capacity.total > 0
}

/** True when `p` would take one more call from us now. */
export function hasRoom (p: PeerState): boolean {
  return isExecutor(p) && !p.full && (p.capacity as CapacityMessage).free > 0 && p.inflight < (p.capacity as CapacityMessage).total
}

/**
 * Lower is better. `missing`: bytes of the call's mounted drives `p` would have to fetch
 * ({@link missingBytes}); they cost time at {@link FETCH_BYTES_PER_MS}, up to
 * {@link MAX_FETCH_PENALTY_MS}, added to the round trip before load stretches both.
 */
export function score (p: PeerState, missing = 0): number {
  const total = p.capacity?.total ?? 1
  const trust = p.reputation !== undefined && p.reputation > 0 ? Math.min(1, p.reputation) : 1
  const fetchMs = Math.min(MAX_FETCH_PENALTY_MS, missing / FETCH_BYTES_PER_MS)
  return ((p.rtt ?? UNMEASURED_RTT_MS) + fetchMs) * (1 + p.inflight / total) * (1 + p.dissents) / trust
}

/**
 * The bytes of each of `drives` that each peer would have to fetch: a drive's size is taken
 * as the largest holding any peer advertises (nobody advertising it: 0, no peer is favoured),
 * and a peer lacks that size less what it holds.
 */
export function missingBytes (peers: readonly PeerState[], drives: readonly string[]): Map<PeerState, number> {
  const out = new Map<PeerState, number>()
  if (drives.length === 0) return out
  const size = new Map<string, number>()
  for (const p of peers) for (const h of p.capacity?.holdings ?? []) if (drives.includes(h.drive)) size.set(h.drive, Math.max(size.get(h.drive) ?? 0, h.bytes))
  if (size.size === 0) return out
  for (const p of peers) {
    let missing = 0
    for (const [drive, bytes] of size) missing += Math.max(0, bytes - (p.capacity?.holdings?.find(h => h.drive === drive)?.bytes ?? 0))
    out.set(p, missing)
  }
  return out
}

/**
 * Picks the best peer not in `exclude` for a call that mounts `drives` (keys, hex).
 *
 * @throws ShadwError `NO_EXECUTORS` when no candidate executes at all; `BUSY` when every
 *   candidate is full (backpressure: the caller fails fast instead of queueing).
 */
export function pickPeer (peers: Iterable<PeerState>, exclude: ReadonlySet<string>, random: () => number = Math.random, drives: readonly string[] = []): PeerState {
  let executors = 0
  let best: PeerState | null = null
  let bestScore = Infinity
  let ties = 0
  const list = [...peers]
  const missing = missingBytes(list.filter(p => !exclude.has(p.key) && isExecutor(p)), drives)
  for (const p of list) {
    if (exclude.has(p.key) || !isExecutor(p)) continue
    executors++
    if (!hasRoom(p)) continue
    // avoided peers rank after every trusted one, whatever their round trip
    const s = score(p, missing.get(p) ?? 0) + ((p.reputation ?? 1) < AVOID_REPUTATION ? AVOIDED_PENALTY : 0)
    if (s < bestScore) { best = p; bestScore = s; ties = 1 } else if (s === bestScore && random() < 1 / ++ties) best = p
  }
  if (best !== null) return best
  if (executors === 0) throw ShadwError.NO_EXECUTORS(exclude.size > 0 ? `no executor left to try (${exclude.size} tried)` : 'no executor is connected')
  return fail(new ShadwError('BUSY', `every executor is full (${executors} connected)`, { details: { executors } }))
}

/** Added to an avoided peer's score: larger than any real score (ms-scale round trips). */
const AVOIDED_PENALTY = 1e12

function fail (err: ShadwError): never {
  throw err
}

/**
 * Choosing executors: among peers whose channel is open and who advertise free capacity,
 * the lowest score wins, where the score is the measured round trip stretched by the calls
 * this node already has in flight there (spreads load) and by recorded dissents (a peer
 * caught lying is asked last). Ties break at random so equal peers share the work.
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

/** Lower is better. */
export function score (p: PeerState): number {
  const total = p.capacity?.total ?? 1
  const trust = p.reputation !== undefined && p.reputation > 0 ? Math.min(1, p.reputation) : 1
  return (p.rtt ?? UNMEASURED_RTT_MS) * (1 + p.inflight / total) * (1 + p.dissents) / trust
}

/**
 * Picks the best peer not in `exclude`.
 *
 * @throws ShadwError `NO_EXECUTORS` when no candidate executes at all; `BUSY` when every
 *   candidate is full (backpressure: the caller fails fast instead of queueing).
 */
export function pickPeer (peers: Iterable<PeerState>, exclude: ReadonlySet<string>, random: () => number = Math.random): PeerState {
  let executors = 0
  let best: PeerState | null = null
  let bestScore = Infinity
  let ties = 0
  for (const p of peers) {
    if (exclude.has(p.key) || !isExecutor(p)) continue
    executors++
    if (!hasRoom(p)) continue
    // avoided peers rank after every trusted one, whatever their round trip
    const s = score(p) + ((p.reputation ?? 1) < AVOID_REPUTATION ? AVOIDED_PENALTY : 0)
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

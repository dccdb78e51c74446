/**
 * Who holds under each standing order (standing-order.ts), decided from ledgers alone, the
 * same in any reading order: the base of paying re-pinned replicas without ever paying more
 * than the order's `replicas` holders at once.
 *
 * For each order that some replacement record names, events are replayed in time order:
 *
 * - the pinner's co-signed pin records (storage-pin.ts) for the same drive and the order's
 *   bytes (a replica's bytes or, under a slot order, a slot's: a node holding a replica and a
 *   slot of one drive sits in each order once), signed from the
 *   order's time (less the clock skew) until it ends, seat their holders, earliest first,
 *   until `replicas` seats are taken (a holder replaced under the order is never reseated so);
 * - a replacement record (earliest first; ties by hash) is accepted when, at its time, the
 *   holder it replaces and its repairer both hold a seat and the new holder does not; then
 *   the new holder takes the replaced one's seat. A second record for the same loss finds
 *   the seat taken and is refused: of two, the earlier stands.
 * - A replacement is refused, too, when a co-holder's proof verdict passed the replaced
 *   holder within the order's grace period before the replacement: a co-holder saw it alive,
 *   so the repairer's claim that it was silent is false. The replaced holder's own receipts
 *   are no such evidence: it could sign them afterwards, backdated. Only holders under a
 *   co-signed pin record of the drive judge here (a key pair costs nothing). Under a slot
 *   order only verdicts on that erasure pin's shards count.
 * - Under a slot order (erasure pins) a seat is a slot: a replacement is refused when the
 *   replaced holder's seat is known to be another slot, or another seated holder holds the
 *   slot it names (a second replacement of one loss under another name). A seat from a pin
 *   record learns its slot from the first replacement that moves it.
 *
 * A replaced holder is paid under its pin record no longer (`cutoffs`); the new holder is
 * paid under the replacement from its time until it is itself replaced or the order ends.
 */
import type { CosignedPin } from './storage-pin.ts'
import type { ProofVerdict } from './proof-verdict.ts'
import { replacementHash, standingOrderHash, type Replacement } from './standing-order.ts'

/** Seat key of a holder for a drive: the pinner and the bytes tell a replica seat from a slot seat. */
export function seatKey (holder: string, drive: string, pinner: string, bytes: number): string {
  return `${holder}/${drive}/${pinner}/${bytes}`
}

/** An accepted replacement and when its holder's seat ended (replaced in turn), if it did. */
export interface Seat { replacement: Replacement, end: number | null }

/** What {@link standingHolders} decides. */
export interface StandingHolders {
  /** accepted replacements: the new holders' terms */
  seats: Seat[]
  /** by {@link seatKey}: the times that holder was replaced (its pin records before each no longer back it after) */
  cutoffs: Map<string, number[]>
  /** replacement records refused, with why */
  refused: Array<{ holder: string, replaces: string, drive: string, reason: string }>
}

/** See the module comment. `skewMs`: how far a pin record's time may run before its order's. */
export function standingHolders (pins: Iterable<CosignedPin>, replacements: Iterable<Replacement>, verdicts: Iterable<ProofVerdict>, skewMs: number): StandingHolders {
  const byOrder = new Map<string, Array<{ r: Replacement, hash: string }>>()
  for (const r of replacements) {
    const k = standingOrderHash(r.order)
    byOrder.set(k, [...(byOrder.get(k) ?? []), { r, hash: replacementHash(r) }])
  }
  const allPins = [...pins]
  const judges = new Set(allPins.map(p => `${p.holder}/${p.drive}`))
  const passes = [...verdicts].filter(v => v.ok && judges.has(`${v.challenger}/${v.drive}`))
  type Sitting = { seat: Seat | null, slot: number | null }
  const seats: Seat[] = []
  const cutoffs = new Map<string, number[]>()
  const refused: StandingHolders['refused'] = []
  for (const list of byOrder.values()) {
    const order = list[0]!.r.order
    type Event = { time: number, tie: string, pin?: CosignedPin, rep?: { r: Replacement, hash: string } }
    const events: Event[] = [
      ...allPins.filter(p => p.drive === order.drive && p.pinner === order.pinner && p.bytes === order.bytes && p.time + skewMs >= order.time && p.time < order.until)
        .map(p => ({ time: p.time, tie: `0${p.holder}`, pin: p })),
      ...list.map(rep => ({ time: rep.r.time, tie: `1${rep.hash}`, rep }))
    ].sort((a, b) => a.time - b.time || (a.tie < b.tie ? -1 : a.tie > b.tie ? 1 : 0))
    const seated = new Map<string, Sitting>()
    const replaced = new Set<string>()
    for (const e of events) {
      if (e.pin !== undefined) {
        if (!seated.has(e.pin.holder) && !replaced.has(e.pin.holder) && seated.size < order.replicas) seated.set(e.pin.holder, { seat: null, slot: null })
        continue
      }
      const r = e.rep!.r
      const refuse = (reason: string): void => { refused.push({ holder: r.holder, replaces: r.replaces, drive: order.drive, reason }) }
      if (!seated.has(r.replaces)) { refuse('the replaced holder holds no seat under the order then'); continue }
      if (!seated.has(r.repairer)) { refuse('the repairer holds no seat under the order then'); continue }
      if (seated.has(r.holder)) { refuse('the new holder already holds a seat'); continue }
      const was = seated.get(r.replaces)!
      if (r.slot !== undefined && was.slot !== null && was.slot !== r.slot) { refuse(`the replaced holder holds slot ${was.slot}, not ${r.slot}`); continue }
      if (r.slot !== undefined && [...seated].some(([h, x]) => h !== r.replaces && x.slot === r.slot)) { refuse(`another holder holds slot ${r.slot} then`); continue }
      const seen = passes.find(v => v.holder === r.replaces && v.drive === order.drive && (order.root === undefined || v.target === order.root) && v.time > r.time - order.graceMs && v.time <= r.time)
      if (seen !== undefined) { refuse(`a co-holder's proof passed the replaced holder ${r.time - seen.time} ms before`); continue }
      if (was.seat !== null) was.seat.end = r.time
      seated.delete(r.replaces)
      replaced.add(r.replaces)
      const k = seatKey(r.replaces, order.drive, order.pinner, order.bytes)
      cutoffs.set(k, [...(cutoffs.get(k) ?? []), r.time])
      const seat: Seat = { replacement: r, end: null }
      seated.set(r.holder, { seat, slot: r.slot ?? null })
      seats.push(seat)
    }
  }
  return { seats, cutoffs, refused }
}

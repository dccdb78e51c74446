/**
 * Which seat a storage receipt bills, so that a holder's periods are one series per seat it
 * was ordered for, not one per drive. A node may hold a replica of a drive and a slot of its
 * erasure pin at once, when the pinner asked for both: two seats, two series that overlap in
 * time, each paid. A seat is keyed by holder, drive, pinner and the bytes ordered
 * (standing-holders.ts `seatKey`): a replica's bytes and a slot's differ, and several pin
 * records (or a replacement) for the same seat are still one seat, one series.
 *
 * Receipts do not name their seat, so each is given, in the caller's fixed order (by holder,
 * drive, kind, start, then hash: the same whatever the reading order), the first of the seats
 * backing it whose series for that kind is free from the receipt's start: first the seats of
 * exactly its bytes, then the others by bytes and key. A receipt no free seat takes bills
 * time already billed: refused. So however a holder splits or copies its bills, it is paid
 * for at most as many series at once as it holds seats.
 */
import type { SignedStorageReceipt } from './storage-receipt.ts'

/** A receipt's seat, and the receipt billed before it in that seat's series (of its kind), if any. */
export type SeatChoice = { seat: string, previous: SignedStorageReceipt | null } | null

/** Assigns receipts to seats as they are offered, in order. */
export class SeatSeries {
  /** seat/kind → the last receipt billed in that series */
  readonly #last = new Map<string, SignedStorageReceipt>()

  /**
   * The seat `r` bills, among `seats` (key and bytes of each seat backing it), or null when
   * each of their series has billed past its start.
   */
  take (r: SignedStorageReceipt, seats: Array<{ key: string, bytes: number }>): SeatChoice {
    const ranked = [...seats].sort((a, b) => Number(a.bytes !== r.bytes) - Number(b.bytes !== r.bytes) || a.bytes - b.bytes || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    for (const { key } of ranked) {
      const series = `${key}#${r.kind}`
      const previous = this.#last.get(series) ?? null
      if (previous !== null && r.from < previous.to) continue
      this.#last.set(series, r)
      return { seat: key, previous }
    }
    return null
  }
}

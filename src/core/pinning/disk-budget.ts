/**
 * A holder's disk budget: the bytes it has agreed to hold for others. Pins reserve their
 * bytes before anything is written, so a pin that does not fit is refused with nothing
 * stored, and two pins arriving together cannot both squeeze into the same free space.
 */
import { ShadwError } from '../errors.ts'

/** Units a `--disk-budget` may carry; binary (GiB) and decimal (GB) as their names say. */
const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
  t: 1024 ** 4,
  tb: 1000 ** 4,
  tib: 1024 ** 4
}

/**
 * Parses a size such as `512MiB`, `10GB`, `2g` or `1048576` into bytes.
 *
 * @throws ShadwError `INVALID_ARGUMENT` for anything else, or a size past 2^53 bytes
 */
export function parseSize (text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text)
  const unit = UNITS[(m?.[2] ?? '').toLowerCase()]
  const bytes = m === null || unit === undefined ? NaN : Math.floor(Number(m[1]) * unit)
  if (!Number.isSafeInteger(bytes)) throw ShadwError.INVALID_ARGUMENT(`size must be a number of bytes with an optional unit (KiB, MiB, GiB, TiB, KB, MB, GB, TB), got ${JSON.stringify(text)}`)
  return bytes
}

/** The bytes a holder has agreed to hold, and how many of them pins have taken. */
export class DiskBudget {
  readonly total: number
  #used = 0

  /** @throws ShadwError `INVALID_ARGUMENT` for a total that is not a non-negative safe integer */
  constructor (total: number) {
    if (!Number.isSafeInteger(total) || total < 0) throw ShadwError.INVALID_ARGUMENT(`disk budget must be a non-negative integer of bytes, got ${total}`)
    this.total = total
  }

  get used (): number {
    return this.#used
  }

  get free (): number {
    return this.total - this.#used
  }

  /**
   * Takes `bytes` of the budget. @throws ShadwError `DISK_BUDGET_EXCEEDED` (nothing taken)
   * when fewer are free
   */
  reserve (bytes: number): void {
    if (bytes > this.free) throw ShadwError.DISK_BUDGET_EXCEEDED(bytes, this.free)
    this.#used += bytes
  }

  /** Gives `bytes` back (a pin dropped). */
  release (bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes)
  }

  /** The state a hold confirmation carries. */
  state (): { total: number, used: number } {
    return { total: this.total, used: this.#used }
  }
}

/**
 * What a holder knows of the proofs of the drives it holds: every challenger's latest signed
 * verdict on every co-holder (its own and those gossiped to it), and from them which holders
 * stand failed — at least a quorum of distinct challengers' latest verdicts are failures that
 * count (proof-verdict.ts: an `unreachable` one only from a challenger that reaches others) —
 * with an event when a holder becomes failed and when it stops being. Bounded: one verdict
 * per (drive, holder, challenger), at most {@link MAX_VERDICTS_PER_DRIVE} per drive.
 *
 * Only the drive's own holders may judge (`eligible`): a key pair costs nothing, so a quorum
 * of strangers would let one node frame anyone with a handful of keys.
 */
import { log } from '../log.ts'
import { DEFAULT_PROOF_QUORUM, proofFailures, verifyVerdict, type ProofVerdict } from '../ledger/index.ts'

const debug = log('pinning')

/** Verdicts kept per drive: its holders × their challengers (a 10+5 pin has 15 × 14). */
export const MAX_VERDICTS_PER_DRIVE = 256

/** A holder a quorum of challengers failed, as {@link ProofBook.onHolderFailed} reports it. */
export interface HolderFailure {
  drive: string
  holder: string
  /** `shard`: an erasure slot (then `root` and `shard` name it); `block`: a replica of the drive's logs */
  kind: 'shard' | 'block'
  /** the erasure pin's root (`shard`) or the log challenged last (`block`) */
  target: string
  /** the shard slot it held (`shard`); 0 for `block` */
  shard: number
  /** the verdict time that reached the quorum, ms since the epoch */
  since: number
  /** every challenger's latest verdict on it, signed: the evidence */
  verdicts: ProofVerdict[]
}

/** See the module comment. */
export class ProofBook {
  readonly #quorum: number
  readonly #eligible: (drive: string, challenger: string) => boolean
  /** drive → holder → challenger → latest verdict */
  readonly #latest = new Map<string, Map<string, Map<string, ProofVerdict>>>()
  readonly #failed = new Map<string, HolderFailure>()
  readonly #onfailed = new Set<(f: HolderFailure) => void>()
  readonly #onrecovered = new Set<(f: HolderFailure) => void>()

  /** `eligible`: whether `challenger` is a holder of `drive` whose verdicts count (default: anyone). */
  constructor (quorum = DEFAULT_PROOF_QUORUM, eligible: (drive: string, challenger: string) => boolean = () => true) {
    this.#quorum = quorum
    this.#eligible = eligible
  }

  /**
   * Keeps a verdict (checked here) if it is the challenger's latest on that holder; returns
   * it, or null when it is malformed, unsigned, by a node not eligible to judge, older or
   * past the bound.
   */
  add (v: unknown): ProofVerdict | null {
    let verdict: ProofVerdict
    try { verdict = verifyVerdict(v) } catch (err) { debug('verdict refused', err); return null }
    if (!this.#eligible(verdict.drive, verdict.challenger)) return null
    const byHolder = this.#latest.get(verdict.drive) ?? new Map<string, Map<string, ProofVerdict>>()
    const byChallenger = byHolder.get(verdict.holder) ?? new Map<string, ProofVerdict>()
    const had = byChallenger.get(verdict.challenger)
    if (had !== undefined && had.time >= verdict.time) return null
    if (had === undefined && this.verdicts(verdict.drive).length >= MAX_VERDICTS_PER_DRIVE) return null
    byChallenger.set(verdict.challenger, verdict)
    byHolder.set(verdict.holder, byChallenger)
    this.#latest.set(verdict.drive, byHolder)
    this.#judge(verdict)
    return verdict
  }

  /** Every challenger's latest verdict on every holder of `drive`. */
  verdicts (drive: string): ProofVerdict[] {
    return [...(this.#latest.get(drive)?.values() ?? [])].flatMap(m => [...m.values()])
  }

  /** The holders of `drive` that stand failed now. */
  failedHolders (drive: string): HolderFailure[] {
    return [...this.#failed.values()].filter(f => f.drive === drive)
  }

  /** Every drive's failure of `holder` now (empty when no quorum fails it anywhere). */
  failuresOf (holder: string): HolderFailure[] {
    return [...this.#failed.values()].filter(f => f.holder === holder)
  }

  /** Calls `listener` each time a holder becomes failed; returns the unsubscribe. */
  onHolderFailed (listener: (f: HolderFailure) => void): () => void {
    this.#onfailed.add(listener)
    return () => { this.#onfailed.delete(listener) }
  }

  /** Calls `listener` each time a failed holder's latest verdicts fall below the quorum again. */
  onHolderRecovered (listener: (f: HolderFailure) => void): () => void {
    this.#onrecovered.add(listener)
    return () => { this.#onrecovered.delete(listener) }
  }

  /** Forgets a drive (no longer held here). */
  forget (drive: string): void {
    this.#latest.delete(drive)
    for (const [k, f] of this.#failed) if (f.drive === drive) this.#failed.delete(k)
  }

  /** Judges every holder of the verdict's drive: one challenger's reach counts for all its verdicts there. */
  #judge (v: ProofVerdict): void {
    const all = this.verdicts(v.drive)
    const open = new Set(proofFailures(all, this.#quorum).filter(p => p.to === null).map(p => p.holder))
    for (const holder of this.#latest.get(v.drive)?.keys() ?? []) {
      const key = `${v.drive}/${holder}`
      const latest = all.filter(x => x.holder === holder)
      const failed = open.has(holder)
      const was = this.#failed.get(key)
      if (failed && was === undefined) {
        const last = latest.reduce((a, b) => b.time > a.time ? b : a)
        const f: HolderFailure = { drive: v.drive, holder, kind: last.kind, target: last.target, shard: last.shard, since: last.time, verdicts: latest }
        this.#failed.set(key, f)
        debug('holder failed by proofs', holder.slice(0, 8), 'drive', v.drive.slice(0, 8))
        for (const l of this.#onfailed) call(l, f)
      } else if (failed && was !== undefined) {
        was.verdicts = latest
      } else if (!failed && was !== undefined) {
        this.#failed.delete(key)
        for (const l of this.#onrecovered) call(l, was)
      }
    }
  }
}

/** A listener that throws must not stop the others, nor the verdict being kept. */
function call (l: (f: HolderFailure) => void, f: HolderFailure): void {
  try { l(f) } catch (err) { debug('proof listener failed', err) }
}

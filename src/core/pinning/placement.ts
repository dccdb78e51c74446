/**
 * Placement: which holders get a drive's replicas. Candidates are the holders this node is
 * connected to on the holders' topic (each sent an offer), one per node key, with room for
 * the pin; they are ranked by free space, reputation and price, and asked in that order until
 * enough have confirmed, signed, that they hold everything. A refusal or a silence moves on to
 * the next candidate; confirmations are checked before they count.
 */
import { ShadwError } from '../errors.ts'
import { log } from '../log.ts'
import { verifyHold, type HoldConfirmation } from './hold-confirmation.ts'
import { PROGRESS_IDLE_MS, type PinAsk, type PinPeer } from './pin-protocol.ts'
import { pinBytes, sameLogs, type PinRequest } from './pin-request.ts'

const debug = log('pinning')

/** Weights of the placement score: free space counts most, then reputation, then a low price. */
const FREE_WEIGHT = 0.5
const REPUTATION_WEIGHT = 0.3
const PRICE_WEIGHT = 0.2
/** Reputation of a holder the pinner knows nothing about: neither trusted nor shunned. */
const UNKNOWN_REPUTATION = 0.5

/** A reputation in [0, 1] for a node key, from whatever the caller keeps (a ReputationTracker). */
export type ReputationOf = (holder: string) => number

/**
 * The holders able to take `bytes`, best first, one per node key, minus `exclude`.
 * Score = free share + reputation − price share, each normalised over the candidates.
 */
export function rankHolders (peers: PinPeer[], bytes: number, opts: { exclude?: Iterable<string>, reputation?: ReputationOf } = {}): PinPeer[] {
  const exclude = new Set(opts.exclude ?? [])
  const byKey = new Map<string, PinPeer>()
  for (const p of peers) {
    if (p.offer === null || p.offer.free < bytes || exclude.has(p.publicKey) || byKey.has(p.publicKey)) continue
    byKey.set(p.publicKey, p)
  }
  const cands = [...byKey.values()]
  const maxFree = Math.max(1, ...cands.map(p => p.offer?.free ?? 0))
  const maxPrice = Math.max(1, ...cands.map(p => p.offer?.price ?? 0))
  const score = (p: PinPeer): number => {
    const rep = Math.min(1, Math.max(0, opts.reputation?.(p.publicKey) ?? UNKNOWN_REPUTATION))
    return FREE_WEIGHT * (p.offer?.free ?? 0) / maxFree + REPUTATION_WEIGHT * rep - PRICE_WEIGHT * (p.offer?.price ?? 0) / maxPrice
  }
  // the key breaks ties, so every node ranks the same offers the same way
  return cands.sort((a, b) => score(b) - score(a) || (a.publicKey < b.publicKey ? -1 : 1))
}

/** Checks a holder's answer to a pin: its signature, its signer, and that it names the pinned logs. */
export function checkHeld (conf: unknown, request: PinRequest, holder: string): HoldConfirmation {
  const c = verifyHold(conf)
  if (c.holder !== holder) throw ShadwError.HOLD_INVALID('confirmation is signed by another node', { holder, signer: c.holder })
  if (c.drive !== request.drive || !sameLogs(c.logs, request.logs)) throw ShadwError.HOLD_INVALID('confirmation names other logs than the pin', { holder })
  return c
}

/** What happened to one candidate, for progress and for the error when too few confirm. */
export type PlacementEvent =
  | { holder: string, state: 'asked' }
  | { holder: string, state: 'held', confirmation: HoldConfirmation }
  | { holder: string, state: 'failed', code: string, message: string }

/** Options of {@link placeReplicas}. */
export interface PlaceOptions {
  /** candidates, ranked (see {@link rankHolders}) */
  candidates: PinPeer[]
  request: PinRequest
  /** confirmations wanted */
  needed: number
  /** longest wait for one holder to fetch, verify and confirm, ms */
  timeoutMs: number
  onevent?: (e: PlacementEvent) => void
  /**
   * the agreements sent to one holder with the request: the pinner's signed order and
   * standing order, or a repairer's replacement offer (see ledger/storage-pin.ts,
   * ledger/standing-order.ts)
   */
  terms?: (peer: PinPeer) => Omit<PinAsk, 'request'>
}

/**
 * Asks candidates in rank order, `needed` at a time, until `needed` have confirmed.
 * @throws ShadwError `NOT_ENOUGH_HOLDERS` when the candidates run out first (details list
 *   what each one answered, and the confirmations gathered)
 */
export async function placeReplicas (opts: PlaceOptions): Promise<HoldConfirmation[]> {
  const queue = [...opts.candidates]
  const held: HoldConfirmation[] = []
  const failures: Array<{ holder: string, code: string, message: string }> = []
  const bytes = pinBytes(opts.request)
  // asked and not yet answered: a worker whose holder answered first must not ask one more
  // while the others' answers may still fill the count (a failure sends its worker on)
  let inflight = 0
  const worker = async (): Promise<void> => {
    while (held.length + inflight < opts.needed) {
      const peer = queue.shift()
      if (peer === undefined) return
      opts.onevent?.({ holder: peer.publicKey, state: 'asked' })
      inflight++
      try {
        const answer = await peer.request({ type: 'pin', request: opts.request, ...opts.terms?.(peer) }, opts.timeoutMs, PROGRESS_IDLE_MS)
        if (answer.type !== 'held') throw ShadwError.PIN_PROTOCOL('pin answered with another message')
        const conf = checkHeld(answer.confirmation, opts.request, peer.publicKey)
        held.push(conf)
        opts.onevent?.({ holder: peer.publicKey, state: 'held', confirmation: conf })
      } catch (err) {
        const e = err instanceof ShadwError ? err : ShadwError.INTERNAL('pin failed', err)
        debug('holder', peer.publicKey.slice(0, 8), 'did not pin', bytes, 'bytes:', e.message)
        failures.push({ holder: peer.publicKey, code: e.code, message: e.message })
        opts.onevent?.({ holder: peer.publicKey, state: 'failed', code: e.code, message: e.message })
      } finally {
        inflight--
      }
    }
  }
  await Promise.all(Array.from({ length: opts.needed }, worker))
  if (held.length < opts.needed) {
    throw ShadwError.NOT_ENOUGH_HOLDERS(`${held.length} of ${opts.needed} holders confirmed (${opts.candidates.length} candidates)`, { confirmed: held.length, needed: opts.needed, failures })
  }
  return held.slice(0, opts.needed)
}

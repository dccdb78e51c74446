/**
 * Gated keys fetched by an executor for a call it runs (the invoke folder's `CallKeys`): the
 * tenant's auth, bound to the call, goes to every holder with the call's nonce; each holder
 * checks that this executor may have the key (a function's secret goes only to the
 * executors its publisher named), that the auth is bound to this call and lets it fetch this
 * key, and the key's conditions, then releases its share sealed to a one-use key of this
 * executor and records the call and the executor in its signed release record.
 */
import { abortReason, untilAborted } from '../abort.ts'
import type { CallKeyRequest, CallKeys, GatedKeyRef } from '../invoke/index.ts'
import { fetchKey } from './key-dealer.ts'
import type { KeyService } from './key-service.ts'

/** How long a call waits for a threshold of a key's holders to be connected, at most (the call's deadline may cut it shorter). */
export const HOLDERS_WAIT_MS = 20_000
/** What the wait leaves of the call's time for the fetch itself and the run: holders still missing then are named in a typed refusal before the deadline passes. */
const FETCH_RESERVE_MS = 1_000
const POLL_MS = 50

/** {@link CallKeys} over `service`'s key channels (this node joins the key holders' topic to reach them). */
export function callKeys (service: KeyService, opts: { waitMs?: number } = {}): CallKeys {
  return {
    async fetch (ref: GatedKeyRef, req: CallKeyRequest): Promise<Uint8Array> {
      const self = service.publicKey
      const reachable = (): number => ref.holders.filter(h => h === self || service.peers().includes(h)).length
      // a holder not yet connected is given a moment, within the call's own time: past it the
      // fetch goes ahead and names the holders it could not reach (KEY_SHARES_SHORT)
      const wait = Math.min(opts.waitMs ?? HOLDERS_WAIT_MS, req.leftMs === undefined ? Infinity : req.leftMs - FETCH_RESERVE_MS)
      const end = Date.now() + wait
      while (reachable() < ref.threshold && Date.now() < end) {
        if (req.signal?.aborted === true) throw abortReason(req.signal)
        await new Promise(resolve => setTimeout(resolve, POLL_MS))
      }
      const fetched = fetchKey(service, { keyId: ref.keyId, dealer: ref.dealer, holders: ref.holders, threshold: ref.threshold, auth: req.auth, call: req.call, ...(req.blocks === undefined ? {} : { blocks: req.blocks }) })
      return (await untilAborted(fetched, req.signal)).key
    }
  }
}

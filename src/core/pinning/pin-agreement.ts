/**
 * The agreements a pin comes with, from the holder's side: which it accepts (checked before
 * anything is reserved), the terms it then bills at, and, for a re-pinning holder, the
 * replacement offer it signs for a new holder under the pinner's standing order
 * (ledger/standing-order.ts). Kept apart from the holder so the rules read in one place.
 */
import { ShadwError } from '../errors.ts'
import { CLOCK_SKEW_MS, signReplacement, type ReplacementOffer, type StandingOrder } from '../ledger/index.ts'
import type { PinAgreement, PinTerms } from './held-logs.ts'
import type { HolderOffer } from './pin-protocol.ts'
import { pinBytes, type PinRequest } from './pin-request.ts'

/**
 * Checks what a pin request came with against this holder (`me`), the pin and the prices it
 * asks now; returns the terms it bills at (null: no agreement, the caller's defaults), and
 * the standing order it keeps. An order or a replacement must name this holder and the
 * pin's drive, cover its bytes, pay at least what is asked and be from now (within
 * `CLOCK_SKEW_MS`). A standing order must be the same pinner's as the order, and cover the pin.
 * @throws ShadwError `PIN_PROTOCOL`
 */
export function acceptAgreement (a: PinAgreement, req: PinRequest, me: string, asked: HolderOffer, now = Date.now()): { terms: PinTerms | null, standing: StandingOrder | null } {
  const bytes = pinBytes(req)
  const refuse = (why: string): never => { throw ShadwError.PIN_PROTOCOL(why) }
  const fresh = (time: number, what: string): void => { if (Math.abs(time - now) > CLOCK_SKEW_MS) refuse(`the ${what} is not from now`) }
  const pays = (price: number, servePrice: number, what: string): void => {
    if (price < asked.price || servePrice < asked.servePrice) refuse(`the ${what}'s prices (${price}, ${servePrice}) are below those asked (${asked.price}, ${asked.servePrice})`)
  }
  const { order, replacement } = a
  const standing = replacement?.order ?? a.standing ?? null
  if (standing !== null && (standing.drive !== req.drive || standing.bytes < bytes)) refuse('the standing order names another drive or fewer bytes')
  if (order !== undefined) {
    if (order.holder !== me) refuse('the order names another holder')
    if (order.drive !== req.drive || order.bytes !== bytes) refuse('the order names another drive or size')
    pays(order.price, order.servePrice, 'order')
    fresh(order.time, 'order')
    if (standing !== null && standing.pinner !== order.pinner) refuse('the standing order is another pinner\'s')
    return { terms: { pinner: order.pinner, price: order.price, servePrice: order.servePrice }, standing }
  }
  if (replacement !== undefined) {
    if (replacement.holder !== me) refuse('the replacement names another holder')
    pays(replacement.price, replacement.servePrice, 'replacement')
    fresh(replacement.time, 'replacement')
    return { terms: { pinner: replacement.order.pinner, price: replacement.price, servePrice: replacement.servePrice }, standing }
  }
  return { terms: null, standing }
}

/**
 * How long past the standing order's grace a re-pinner waits after a lost holder's newest
 * confirmation, as a share of the grace: holders confirm every fifth of their grace, so the
 * newest confirmation can lag the holder's last sign of life (a proof it answered) by one
 * heartbeat, and a co-holder's passing verdict within the grace before the replacement
 * refuses it (ledger/standing-holders.ts).
 */
export const REPLACE_MARGIN = 1.5

/**
 * The replacement offer a re-pinning holder sends `candidate` for the place of `lost` (its
 * newest confirmation's time is `lastSeen`), or undefined when the standing order cannot pay
 * it: the candidate asks more than the order's caps, the order has ended, or the lost holder
 * has not been silent for the order's grace (times {@link REPLACE_MARGIN}). The replica is placed all the same, unpaid.
 */
export function replacementFor (standing: StandingOrder, candidate: { publicKey: string, offer: HolderOffer | null }, lost: { holder: string, lastSeen: number }, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }, now = Date.now()): ReplacementOffer | undefined {
  const offer = candidate.offer
  if (offer === null || offer.price > standing.price || offer.servePrice > standing.servePrice) return undefined
  if (now < standing.time || now >= standing.until || now - lost.lastSeen < standing.graceMs * REPLACE_MARGIN) return undefined
  return signReplacement({ order: standing, holder: candidate.publicKey, replaces: lost.holder, lastSeen: lost.lastSeen, time: now, price: offer.price, servePrice: offer.servePrice }, keyPair)
}

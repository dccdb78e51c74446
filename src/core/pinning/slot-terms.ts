/**
 * What a shard holder shows to say its slot is paid, as `shadw drive status` checks it: the
 * pinner's signed order naming it for the pin's drive and slot bytes, or a replacement record
 * (repairer and holder signatures) under the pinner's slot order of this pin, for this slot.
 * Whether the ledgers accept it (seats, evidence of life) is for credits to decide; this says
 * only that the holder keeps its slot under terms the pinner signed.
 */
import { verifyReplacement, verifyStorageOrder, type Replacement, type StorageOrder } from '../ledger/index.ts'
import type { ErasurePin } from './erasure-pin.ts'
import { shardLength, stripeCount } from './erasure.ts'

/** The bytes a slot of `pin` keeps: one shard of every stripe. */
export function slotBytes (pin: ErasurePin): number {
  let bytes = 0
  for (let s = 0; s < stripeCount(pin.layout); s++) bytes += shardLength(pin.layout, s)
  return bytes
}

/** How a slot's holder is paid: by the pinner's order, by a repair's replacement, or not at all. */
export type SlotPaid = 'order' | 'replacement' | null

/** Checks the terms a holder of slot `shard` of `pin` showed. */
export function slotPaid (terms: unknown, pin: ErasurePin, shard: number, holder: string): SlotPaid {
  if (terms === undefined || terms === null) return null
  const bytes = slotBytes(pin)
  try {
    if (typeof terms === 'object' && 'holderSignature' in terms) {
      const r = verifyReplacement(terms as Replacement)
      return r.holder === holder && r.order.root === pin.root && r.order.pinner === pin.pinner && r.slot === shard && r.order.bytes === bytes ? 'replacement' : null
    }
    const o = verifyStorageOrder(terms as StorageOrder)
    return o.holder === holder && o.drive === pin.drive && o.pinner === pin.pinner && o.bytes === bytes ? 'order' : null
  } catch {
    return null
  }
}

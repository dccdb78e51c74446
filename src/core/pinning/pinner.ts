/**
 * The pinner's side: find holders on the holders' topic, place a drive's replicas on distinct
 * ones (placement.ts), and return once enough have confirmed, signed, that they hold every
 * log. The confirmed holders are then told of each other, so they watch over one another
 * (and re-pin) from the start. The pinner's node must serve the logs until this resolves.
 */
import { ShadwError } from '../errors.ts'
import { MAX_STORAGE_UNIT_PRICE, MONTH_MS, signStandingOrder, signStorageOrder } from '../ledger/index.ts'
import type { ConnectionHost } from '../connection-channels.ts'
import type { ShadwNode } from '../node/index.ts'
import type { HoldConfirmation } from './hold-confirmation.ts'
import { holdersTopic, PinChannels, type PinPeer } from './pin-protocol.ts'
import { pinBytes, type PinRequest } from './pin-request.ts'
import { placeReplicas, rankHolders, type PlacementEvent, type ReputationOf } from './placement.ts'

/** How long a standing order runs by default: a month, the unit storage is priced in. */
export const DEFAULT_STANDING_TERM_MS = MONTH_MS
/**
 * A standing order's price caps are this many times the highest price the holders found
 * ask now: a replacement holder is found later, on its own bonding curve, and may ask more.
 */
export const STANDING_PRICE_HEADROOM = 2
/** A holder silent this long may be replaced under a standing order, by default (a holder's default grace). */
export const DEFAULT_STANDING_GRACE_MS = 10 * 60_000

/** Default wait for enough holders to show up on the holders' topic. */
export const DEFAULT_DISCOVER_MS = 10_000
/** Once some holders are there, a little longer for the rest to answer: placement wants a choice. */
const SETTLE_MS = 500
/** How often discovery looks at the connected holders. */
const POLL_MS = 100

/** What a pinner or status reader needs of its node. */
export type PinClientNode = ConnectionHost & Pick<ShadwNode, 'joinTopic'>

/** Options of {@link pinDrive}. */
export interface PinDriveOptions {
  node: PinClientNode
  request: PinRequest
  /** longest wait for enough holders to be found, ms (default {@link DEFAULT_DISCOVER_MS}) */
  discoverMs?: number
  /** longest wait for one holder to fetch and confirm, ms */
  timeoutMs?: number
  reputation?: ReputationOf
  onevent?: (e: PlacementEvent | { state: 'found', holders: number }) => void
  signal?: AbortSignal
  /**
   * the pinner's key pair: each holder gets an order signed with it (the drive, the holder,
   * the bytes, the holder's offered prices), which the holder countersigns into its storage
   * ledger; only receipts under such a record earn credits. Without it, nothing is billed.
   * With it, the holders also get a standing order signed with it, under which the swarm's
   * re-pins are paid (ledger/standing-order.ts).
   */
  keyPair?: { publicKey: Uint8Array, secretKey: Uint8Array }
  /**
   * the standing order's terms: silence after which a holder may be replaced (default
   * {@link DEFAULT_STANDING_GRACE_MS}) and how long it runs (default {@link DEFAULT_STANDING_TERM_MS})
   */
  standing?: { graceMs?: number, termMs?: number }
}

/**
 * Waits (bounded) until `enough` holders are connected, or the wait ends; returns the open
 * pin channels' holders then.
 */
export async function discoverHolders (channels: PinChannels, enough: number, waitMs: number, signal?: AbortSignal): Promise<PinPeer[]> {
  const until = Date.now() + waitMs
  let settleUntil = Infinity
  for (let i = 0; i < Math.ceil(waitMs / POLL_MS) + 1; i++) {
    if (signal?.aborted === true) throw ShadwError.ABORTED()
    const holders = channels.holders()
    if (holders.length >= enough) {
      if (settleUntil === Infinity) settleUntil = Date.now() + SETTLE_MS
      if (Date.now() >= settleUntil) break
    }
    if (Date.now() >= until) break
    await new Promise(resolve => setTimeout(resolve, POLL_MS))
  }
  return channels.holders()
}

/**
 * Pins a drive on `request.replicas` distinct holders; resolves with their confirmations.
 *
 * @example
 * ```ts
 * const logs = await describeLogs([drive.core, drive.blobs.core])
 * const confs = await pinDrive({ node, request: { drive: keyHex, logs, replicas: 3 } })
 * ```
 * @throws ShadwError `NOT_ENOUGH_HOLDERS` when fewer distinct holders with room are found, or
 *   too few confirm; `ABORTED`
 */
export async function pinDrive (opts: PinDriveOptions): Promise<HoldConfirmation[]> {
  const channels = new PinChannels({ host: opts.node })
  channels.start()
  try {
    await opts.node.joinTopic(holdersTopic(), { server: false, client: true })
    const bytes = pinBytes(opts.request)
    const found = await discoverHolders(channels, opts.request.replicas, opts.discoverMs ?? DEFAULT_DISCOVER_MS, opts.signal)
    const candidates = rankHolders(found, bytes, { reputation: opts.reputation })
    opts.onevent?.({ state: 'found', holders: candidates.length })
    if (candidates.length < opts.request.replicas) {
      throw ShadwError.NOT_ENOUGH_HOLDERS(`${opts.request.replicas} replicas wanted, ${candidates.length} holders with ${bytes} bytes free found`, { found: new Set(found.map(p => p.publicKey)).size, candidates: candidates.length, needed: opts.request.replicas })
    }
    const keyPair = opts.keyPair
    const now = Date.now()
    const standing = keyPair === undefined
      ? undefined
      : signStandingOrder({
        drive: opts.request.drive,
        bytes,
        replicas: opts.request.replicas,
        time: now,
        until: now + (opts.standing?.termMs ?? DEFAULT_STANDING_TERM_MS),
        price: Math.min(MAX_STORAGE_UNIT_PRICE, STANDING_PRICE_HEADROOM * Math.max(0, ...candidates.map(p => p.offer?.price ?? 0))),
        servePrice: Math.min(MAX_STORAGE_UNIT_PRICE, STANDING_PRICE_HEADROOM * Math.max(0, ...candidates.map(p => p.offer?.servePrice ?? 0))),
        graceMs: opts.standing?.graceMs ?? DEFAULT_STANDING_GRACE_MS
      }, keyPair)
    const terms = keyPair === undefined
      ? undefined
      : (peer: PinPeer) => peer.offer === null ? {} : { order: signStorageOrder({ drive: opts.request.drive, holder: peer.publicKey, bytes, time: Date.now(), price: peer.offer.price, servePrice: peer.offer.servePrice }, keyPair), standing }
    const held = await placeReplicas({ candidates, request: opts.request, needed: opts.request.replicas, timeoutMs: opts.timeoutMs ?? 60_000, onevent: opts.onevent, ...(terms === undefined ? {} : { terms }) })
    const confirmed = new Set(held.map(c => c.holder))
    for (const peer of channels.holders()) if (confirmed.has(peer.publicKey)) peer.send({ type: 'gossip', confirmations: held })
    return held
  } finally {
    // the gossip is queued on the connections, which outlive these channels until the node stops
    channels.stop()
  }
}

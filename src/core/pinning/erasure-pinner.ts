/**
 * The erasure pinner, streaming: a version of any size is pinned with memory bounded by a
 * window of stripes, in two passes over its bytes.
 *
 * 1. **Commit.** Each stripe is read, coded and its shards hashed; only the hashes stay. The
 *    pin record (erasure-pin.ts) signs them all, so it exists before any shard leaves.
 * 2. **Send.** K+M holders open a slot each against the signed record; each stripe is read
 *    and coded again, and its shards go to every slot's holder at once (binary payloads),
 *    with up to `window` stripes unanswered — each holder checks every shard against the
 *    hash the pinner signed, so a holder never keeps a byte the record does not commit.
 *    A slot whose holder refuses or goes is given to the next holder with room, in a
 *    further pass that sends that slot's shards only.
 *
 * Reading twice costs a second read and code of each stripe (the codec runs at hundreds of
 * MB/s; the hashing, done once here, is what costs); the other way — placing first and
 * signing the record after — would let a holder keep shards it cannot check until the end.
 */
import { ShadwError } from '../errors.ts'
import { MAX_STORAGE_UNIT_PRICE, signStandingOrder, signStorageOrder, type ServedWrong, type StandingOrder } from '../ledger/index.ts'
import { DEFAULT_GRACE_MS, DEFAULT_STORAGE_PRICE } from './holder.ts'
import { merkleRoot } from '../commit-merkle.ts'
import { checkScheme, shardHash, shardLength, stripeCount, CHUNK_BYTES, DEFAULT_SCHEME, SHARD_BYTES, type ErasureLayout, type ErasureScheme, type StripeCommitment } from './erasure.ts'
import { signErasurePin, MAX_STRIPES, type ErasurePin } from './erasure-pin.ts'
import type { RepairRecord } from './erasure-repair.ts'
import { holdersTopic } from './pin-protocol.ts'
import { DEFAULT_STANDING_TERM_MS, STANDING_PRICE_HEADROOM, type PinClientNode } from './pinner.ts'
import type { ReedSolomon } from './reed-solomon.ts'
import { verifyShardHold, type ShardHold } from './shard-hold.ts'
import type { SlotPaid } from './slot-terms.ts'
import { ShardChannels, type ShardPeer } from './shard-protocol.ts'

/** How often discovery looks at the connected holders. */
export const POLL_MS = 100
/**
 * Stripes sent and not yet answered by every holder: enough to keep each holder's link busy
 * while it checks and stores the one before, few enough that the pinner's memory stays at a
 * handful of stripes.
 */
export const DEFAULT_WINDOW = 8
/** The largest shard the pinner picks: a shard is one binary payload of the shard protocol. */
export const MAX_PICKED_SHARD_BYTES = 1024 * 1024

/** A version's bytes, read by range: what the pinner reads twice, a stripe at a time. */
export interface ByteSource {
  /** logical bytes */
  readonly size: number
  /** bytes [offset, offset + length) (fewer only past the end) */
  read: (offset: number, length: number) => Promise<Uint8Array>
}

/** Bytes in memory as a source. */
export function bytesSource (bytes: Uint8Array): ByteSource {
  return { size: bytes.byteLength, read: async (offset, length) => bytes.subarray(offset, offset + length) }
}

/**
 * The shard bytes for a version of `size`: 64 KiB, or more for a version whose stripes would
 * pass the record's stripe limit (whole chunks, at most {@link MAX_PICKED_SHARD_BYTES}).
 * @throws ShadwError `ERASURE_INVALID` for a version too large for one pin record
 */
export function pickShardBytes (size: number, k: number, chunkBytes = CHUNK_BYTES): number {
  const need = Math.ceil(size / (MAX_STRIPES * k) / chunkBytes) * chunkBytes
  const bytes = Math.max(SHARD_BYTES, need)
  if (bytes > MAX_PICKED_SHARD_BYTES) throw ShadwError.ERASURE_INVALID(`a version of ${size} bytes needs more than ${MAX_STRIPES} stripes of ${k} shards of ${MAX_PICKED_SHARD_BYTES} bytes`, { size, k })
  return bytes
}

/** Reads and codes stripe `s`: its K+M shards, as views of one buffer. */
async function codeStripe (rs: ReedSolomon, source: ByteSource, l: ErasureLayout, s: number): Promise<Uint8Array[]> {
  const len = shardLength(l, s)
  const n = l.k + l.m
  const buf = new Uint8Array(len * n)
  const from = s * l.k * l.shardBytes
  const want = Math.max(0, Math.min(l.size - from, l.k * len))
  if (want > 0) {
    const got = await source.read(from, want)
    if (got.byteLength !== want) throw ShadwError.INTERNAL(`the version's bytes at ${from} came short (${got.byteLength} of ${want})`)
    buf.set(got)
  }
  rs.encode(buf, l.k, l.m)
  return Array.from({ length: n }, (_, i) => buf.subarray(i * len, (i + 1) * len))
}

/** Progress of a pin: the pass, the stripe done, and the shard bytes the pinner holds now. */
export interface PinProgress { pass: 'commit' | 'send', stripe: number, stripes: number, heldBytes: number }

/** Pass 1: the commitments of every stripe, one stripe in memory at a time. */
export async function commitSource (rs: ReedSolomon, source: ByteSource, l: ErasureLayout, onprogress?: (p: PinProgress) => void): Promise<StripeCommitment[]> {
  const commitments: StripeCommitment[] = []
  const stripes = stripeCount(l)
  for (let s = 0; s < stripes; s++) {
    const shards = await codeStripe(rs, source, l, s)
    const hashes = shards.map(sh => shardHash(sh, l.chunkBytes))
    commitments.push({ root: merkleRoot(hashes), shards: hashes })
    onprogress?.({ pass: 'commit', stripe: s, stripes, heldBytes: shards.length * (shards[0]?.byteLength ?? 0) })
  }
  return commitments
}

/** Options of {@link pinErasure}. */
export interface PinErasureOptions {
  node: PinClientNode
  rs: ReedSolomon
  keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }
  drive: string
  version: number
  /** the version's bytes: in memory, or read by range (streamed, two passes) */
  bytes?: Uint8Array
  source?: ByteSource
  scheme?: ErasureScheme
  /** shard bytes (default: {@link pickShardBytes}) */
  shardBytes?: number
  /** stripes in flight at most (default {@link DEFAULT_WINDOW}) */
  window?: number
  /**
   * µcredits per GiB-month each holder's signed order offers for its slot (default
   * {@link DEFAULT_STORAGE_PRICE}); a holder keeping a storage ledger countersigns it and bills
   * its slot against it (shard-receipts.ts)
   */
  price?: number
  /**
   * the slot order every holder gets with its own: the K+M slots paid until `termMs` from now
   * (default a month), a repaired slot's new holder included, and the silence (`graceMs`)
   * after which a slot's holder may be replaced under it. Default half the holders' default
   * grace: a repair is due after a holder's grace, and the newest sign of life it knows lags
   * the holder's last by up to a fifth of one, so a repair made when due is paid
   */
  standing?: { termMs?: number, graceMs?: number }
  discoverMs?: number
  timeoutMs?: number
  onprogress?: (p: PinProgress) => void
  signal?: AbortSignal
}

/**
 * A placed erasure pin: the signed record and one signed shard hold per slot (index = shard);
 * as found on the holders, also the signed repairs they adopted and the slots being repaired.
 */
export interface ErasurePlacement {
  pin: ErasurePin
  holds: ShardHold[]
  repairs?: RepairRecord[]
  repairing?: number[]
  /** by `holder/shard`: how the holder showed it is paid for the slot (slot-terms.ts) */
  paid?: Record<string, SlotPaid>
  /** served-wrong records on the pin's holders (checked): those holders are never read from */
  wrong?: ServedWrong[]
}

/** Waits (bounded) until `enough` shard holders that pass `fits` are connected. */
export async function connectedHolders (channels: ShardChannels, enough: number, waitMs: number, fits: (p: ShardPeer) => boolean): Promise<ShardPeer[]> {
  const pick = (): ShardPeer[] => channels.holders().filter(fits)
  for (let i = 0; i < Math.ceil(waitMs / POLL_MS); i++) {
    if (pick().length >= enough) break
    await new Promise(resolve => setTimeout(resolve, POLL_MS))
  }
  return pick()
}

/**
 * Codes and places a version (see the module comment); resolves once every slot's holder
 * has signed its shard hold, and tells the holders the placement.
 * @throws ShadwError `NOT_ENOUGH_HOLDERS` when fewer than K+M distinct holders with room take
 * a slot (before any byte is stored when fewer are found); `ERASURE_INVALID` for a bad
 * scheme or a version too large; `ABORTED`
 */
export async function pinErasure (o: PinErasureOptions): Promise<ErasurePlacement> {
  const source = o.source ?? (o.bytes === undefined ? null : bytesSource(o.bytes))
  if (source === null) throw ShadwError.INVALID_ARGUMENT('pinErasure needs bytes or a source')
  const { k, m } = checkScheme(o.scheme ?? DEFAULT_SCHEME)
  const layout: ErasureLayout = { k, m, size: source.size, shardBytes: o.shardBytes ?? pickShardBytes(source.size, k), chunkBytes: CHUNK_BYTES }
  if (stripeCount(layout) > MAX_STRIPES) throw ShadwError.ERASURE_INVALID(`${stripeCount(layout)} stripes; a pin record holds ${MAX_STRIPES}`)
  const commitments = await commitSource(o.rs, source, layout, o.onprogress)
  o.signal?.throwIfAborted()
  const pin = signErasurePin({ drive: o.drive, version: o.version, layout, stripes: commitments, time: Date.now() }, o.keyPair)
  const n = k + m
  let slotBytes = 0
  for (let s = 0; s < commitments.length; s++) slotBytes += shardLength(layout, s)
  const timeoutMs = o.timeoutMs ?? 30_000
  const now = Date.now()
  const price = o.price ?? DEFAULT_STORAGE_PRICE
  const standing = signStandingOrder({
    drive: o.drive,
    root: pin.root,
    bytes: slotBytes,
    replicas: n,
    time: now,
    until: now + (o.standing?.termMs ?? DEFAULT_STANDING_TERM_MS),
    price: Math.min(MAX_STORAGE_UNIT_PRICE, STANDING_PRICE_HEADROOM * price),
    servePrice: 0,
    graceMs: o.standing?.graceMs ?? Math.floor(DEFAULT_GRACE_MS / 2)
  }, o.keyPair)
  const channels = new ShardChannels(o.node)
  channels.start()
  try {
    await o.node.joinTopic(holdersTopic(), { server: false, client: true })
    const found = (await connectedHolders(channels, n, o.discoverMs ?? 10_000, p => (p.free ?? 0) >= slotBytes)).sort((a, b) => (b.free ?? 0) - (a.free ?? 0))
    // fewer holders with room than slots: refuse before any holder reserves or stores a byte
    if (found.length < n) throw ShadwError.NOT_ENOUGH_HOLDERS(`${n} distinct holders wanted for ${k}+${m}, ${found.length} with ${slotBytes} bytes free found`, { found: found.length, needed: n, placed: 0 })
    const holds: Array<ShardHold | null> = new Array(n).fill(null)
    const spare = [...found]
    let todo = Array.from({ length: n }, (_, i) => i)
    // each pass gives every slot still to place the next spare holder; a pass places some or fails them
    while (todo.length > 0) {
      const assigned = todo.flatMap(shard => { const peer = spare.shift(); return peer === undefined ? [] : [{ shard, peer }] })
      if (assigned.length < todo.length) {
        const placed = holds.filter(h => h !== null).length
        throw ShadwError.NOT_ENOUGH_HOLDERS(`${n} distinct holders wanted for ${k}+${m}, ${placed} took a shard`, { found: found.length, needed: n, placed })
      }
      const got = await sendPass({ ...o, pin, source, slots: assigned, slotBytes, timeoutMs, standing })
      for (const [shard, hold] of got) holds[shard] = hold
      todo = todo.filter(shard => holds[shard] === null)
    }
    const placed = holds as ShardHold[]
    // the holders learn each other from the pinner: from then on they watch each other and repair without it
    const placement = { type: 'placement' as const, root: pin.root, holds: placed, repairs: [], ask: false }
    for (const peer of found) if (placed.some(h => h.holder === peer.publicKey)) peer.send(placement)
    return { pin, holds: placed }
  } finally {
    channels.stop()
  }
}

/** One send pass: opens each slot on its holder, then streams every stripe's shards to all of them. */
async function sendPass (o: PinErasureOptions & { pin: ErasurePin, source: ByteSource, slots: Array<{ shard: number, peer: ShardPeer }>, slotBytes: number, timeoutMs: number, standing: StandingOrder }): Promise<Map<number, ShardHold>> {
  const { pin, source, timeoutMs } = o
  const l = pin.layout
  const live = new Map<number, ShardPeer>()
  await Promise.all(o.slots.map(async ({ shard, peer }) => {
    try {
      const order = signStorageOrder({ drive: o.drive, holder: peer.publicKey, bytes: o.slotBytes, time: Date.now(), price: o.price ?? DEFAULT_STORAGE_PRICE, servePrice: 0 }, o.keyPair)
      await peer.request({ type: 'open', pin, shard, order, standing: o.standing }, timeoutMs)
      live.set(shard, peer)
    } catch {}
  }))
  const holds = new Map<number, ShardHold>()
  const window = Math.max(1, o.window ?? DEFAULT_WINDOW)
  /** stripes sent and not yet answered by every holder, oldest first, with the bytes they keep alive */
  const inflight: Array<{ done: Promise<void>, bytes: number }> = []
  let held = 0
  const stripes = pin.stripes.length
  for (let s = 0; s < stripes && live.size > 0; s++) {
    while (inflight.length >= window) {
      const oldest = inflight.shift()!
      await oldest.done
      held -= oldest.bytes
    }
    o.signal?.throwIfAborted()
    const all = await codeStripe(o.rs, source, l, s)
    const mine = [...live.entries()].map(([shard, peer]) => ({ shard, peer, bytes: all[shard]! }))
    // the shards are views of one buffer: the whole stripe stays alive until every answer is in
    const bytes = all.reduce((x, y) => x + y.byteLength, 0)
    held += bytes
    const done = Promise.all(mine.map(async ({ shard, peer, bytes }) => {
      if (!live.has(shard)) return
      try {
        const a = await peer.request({ type: 'put', root: pin.root, shard, stripe: s, bytes }, timeoutMs)
        if (s < stripes - 1) return
        if (a.type !== 'held') throw ShadwError.HOLD_INVALID('no shard hold after the last stripe')
        const h = verifyShardHold(a.confirmation)
        if (h.holder !== peer.publicKey || h.root !== pin.root || h.shard !== shard) throw ShadwError.HOLD_INVALID('shard hold names another slot')
        holds.set(shard, h)
      } catch {
        live.delete(shard)
      }
    })).then(() => {})
    inflight.push({ done, bytes })
    o.onprogress?.({ pass: 'send', stripe: s, stripes, heldBytes: held })
  }
  await Promise.all(inflight.map(async f => await f.done))
  return holds
}

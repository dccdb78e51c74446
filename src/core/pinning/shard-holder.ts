/**
 * A shard holder: keeps one shard slot (one shard index across every stripe) of
 * erasure-coded pins for others, within a disk budget. `open` checks the signed pin record
 * and reserves the slot's bytes first (refused with nothing written when they do not fit);
 * each `put` is checked against the shard hash the record commits and appended to a local
 * log (one per pin, stripe i at block i); once every stripe is in, it signs a shard hold
 * (domain `shadw/shard-hold/v1`) over the pin root, the shard index and its budget. It serves
 * `get` and answers storage challenges from what is on its disk — so a shard that rotted
 * there fails the proof. Once it keeps a slot whole it watches the pin's other holders and
 * repairs their losses with them (erasure-watch.ts).
 *
 * Each `get` answer carries its signature (shard-answer.ts). A served-wrong record a reader
 * hands it about a co-holder of one of its pins, once checked, is kept (listed in its `query`
 * answers, so later readers skip that holder), appended to its storage ledger, and fails the
 * co-holder like a failed proof: its slot is repaired onto another holder.
 */
import { ShadwError } from '../errors.ts'
import { log } from '../log.ts'
import { DiskBudget } from './disk-budget.ts'
import { shardHash } from './erasure.ts'
import { verifyErasurePin, type ErasurePin } from './erasure-pin.ts'
import type { HolderNode } from './held-logs.ts'
import { holdersTopic } from './pin-protocol.ts'
import { DEFAULT_GRACE_MS, DEFAULT_STORAGE_PRICE } from './holder.ts'
import { HEARTBEATS_PER_GRACE, PinWatch, type PinPlacement, type RepairEvent } from './erasure-watch.ts'
import type { ReedSolomon } from './reed-solomon.ts'
import type { RepairRecord } from './erasure-repair.ts'
import { MAX_PLACEMENT_RECORDS, MAX_SLOTS, ShardChannels, type ShardMessage, type ShardPeer } from './shard-protocol.ts'
import { answerChallenge } from './storage-proof.ts'
import { signShardHold, type ShardHold } from './shard-hold.ts'
import { ShardIndex, slotLogName } from './shard-index.ts'
import { ShardReceipts, type SlotTerms } from './shard-receipts.ts'
import { slotBytes } from './slot-terms.ts'
import { encodeServedWrong, servedWrongKey, type Ledger, type ServedWrong } from '../ledger/index.ts'
import { servedWrongOn, signAnswer } from './shard-answer.ts'

export { signShardHold, verifyShardHold, SHARD_HOLD_DOMAIN, type ShardHold, type ShardHoldBody } from './shard-hold.ts'

const debug = log('pinning')

/** One slot this holder keeps; `terms`: what pays for it (the pinner's order, or a repair's replacement), if anything does. */
interface Slot {
  pin: ErasurePin
  terms: SlotTerms | null
  shard: number
  log: string
  stored: number
  bytes: number
  /** the puts in flight, in order: a pinner pipelines stripes, and each must append after the one before */
  puts: Promise<unknown>
}

/** Options of {@link ShardHolder}. */
export interface ShardHolderOptions {
  node: HolderNode
  keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }
  /** bytes this node agrees to hold as shards, or a budget shared with its replica holder */
  budget: number | DiskBudget
  /** the Reed-Solomon codec for repairs, loaded when one first needs it */
  rs: () => Promise<ReedSolomon>
  /** silence after which a co-holder's slot is lost and repaired, ms (default the holders' `DEFAULT_GRACE_MS`) */
  graceMs?: number
  /** longest wait for one peer's answer during a repair, ms (default 30 s) */
  timeoutMs?: number
  /** repairs as they go */
  onrepair?: (e: RepairEvent) => void
  /**
   * the holder's storage ledger: a slot opened with the pinner's signed order is
   * countersigned there once held, with storage receipts like a replica's. None: no receipts.
   */
  ledger?: Pick<Ledger, 'append'>
  /** µcredits per GiB-month a pinner's order must offer at least (default {@link DEFAULT_STORAGE_PRICE}) */
  price?: number
}

/** Heartbeats per grace period: how often `hold` receipts are signed. */
const RECEIPTS_PER_GRACE = 5

/** See the module comment. `start()`/`stop()` are safe to call twice. */
export class ShardHolder {
  readonly #opts: ShardHolderOptions
  readonly #budget: DiskBudget
  readonly #channels: ShardChannels
  readonly #slots = new Map<string, Slot>()
  /** pins a slot is being opened of (see `#open`) */
  readonly #opening = new Set<string>()
  readonly #watch: PinWatch
  readonly #index: ShardIndex
  readonly #receipts: ShardReceipts | null
  #timer: ReturnType<typeof setInterval> | undefined
  #stopped = false
  #announced: Promise<void> | null = null
  /** pin root → the served-wrong records on its holders, by record key */
  readonly #wrong = new Map<string, Map<string, ServedWrong>>()
  #recording: Promise<void> = Promise.resolve()
  /** the slots replayed from the index (see {@link start}); requests wait for it */
  #loaded: Promise<void> | null = null

  constructor (opts: ShardHolderOptions) {
    this.#opts = opts
    // shards are not billed per byte served: a read is part of what the storage pays for
    this.#receipts = opts.ledger === undefined ? null : new ShardReceipts({ keyPair: opts.keyPair, ledger: opts.ledger, me: opts.node.publicKey, price: opts.price ?? DEFAULT_STORAGE_PRICE, servePrice: 0 })
    this.#budget = typeof opts.budget === 'number' ? new DiskBudget(opts.budget) : opts.budget
    this.#index = new ShardIndex(opts.node)
    this.#channels = new ShardChannels(opts.node, { free: () => this.#budget.free, onrequest: (peer, m) => { void this.#onrequest(peer, m) } })
    this.#watch = new PinWatch({
      keyPair: opts.keyPair,
      channels: this.#channels,
      joinTopic: async topic => await opts.node.joinTopic(topic, { server: true, client: true }),
      read: async (root, shard, stripe) => await this.#read(root, shard, stripe),
      rs: opts.rs,
      budget: () => this.#budget.state(),
      graceMs: opts.graceMs ?? DEFAULT_GRACE_MS,
      timeoutMs: opts.timeoutMs ?? 30_000,
      offer: async (root, shard, lost, lastSeen, to) => await this.#offer(root, shard, lost, lastSeen, to),
      ...(opts.onrepair === undefined ? {} : { onevent: opts.onrepair })
    })
  }

  /**
   * Replays the slots this node kept before (their bytes reserved again, the whole ones
   * watched), opens the protocol and joins the holders' topic, in the background (see
   * {@link announced}).
   */
  start (): void {
    if (this.#announced !== null || this.#stopped) return
    this.#loaded = this.#load().catch((err: unknown) => { debug('shard index not replayed', err) })
    this.#channels.start()
    this.#watch.start()
    if (this.#receipts !== null) {
      const r = this.#receipts
      this.#timer = setInterval(() => { r.heartbeat() }, Math.max(1, Math.floor((this.#opts.graceMs ?? DEFAULT_GRACE_MS) / RECEIPTS_PER_GRACE)))
    }
    this.#announced = this.#loaded.then(async () => { await this.#opts.node.joinTopic(holdersTopic(), { server: true, client: true }) }).catch((err: unknown) => { debug('holders topic not joined', err) })
  }

  /** Resolves once the slots kept before are back and the announce on the holders' topic is on the DHT (bounded), after {@link start}. */
  async announced (): Promise<void> {
    this.start()
    await this.#announced
  }

  async #load (): Promise<void> {
    for (const kept of await this.#index.open()) {
      const { pin, shard } = kept
      if (this.#stopped) return
      const bytes = slotBytes(pin)
      const info = await this.#opts.node.createLog(slotLogName(pin.root, shard))
      try { this.#budget.reserve(bytes) } catch (err) { debug('slot no longer fits the budget', pin.root.slice(0, 8), shard, err); continue }
      const stored = Math.min(info.length, pin.stripes.length)
      // the order was countersigned before the restart: billing goes on from now, not again from the start
      const terms = this.#receipts === null ? null : this.#receipts.resumable(kept, pin, bytes)
      this.#slots.set(`${pin.root}/${shard}`, { pin, terms, shard, log: info.key, stored, bytes, puts: Promise.resolve() })
      if (stored === pin.stripes.length) {
        this.#watch.add(pin, shard)
        if (terms !== null) this.#receipts?.resume(`${pin.root}/${shard}`, terms, bytes)
      }
    }
    this.#channels.announce()
  }

  stop (): void {
    this.#stopped = true
    clearInterval(this.#timer)
    this.#watch.stop()
    this.#channels.stop()
  }

  get budget (): { total: number, used: number, free: number } {
    return { ...this.#budget.state(), free: this.#budget.free }
  }

  /** The log key holding shard slot `shard` of pin `root` here (null when not held): what a drill corrupts. */
  logOf (root: string, shard: number): string | null {
    return this.#slots.get(`${root}/${shard}`)?.log ?? null
  }

  /** Every slot held fully, with its signed pin record: what proofs challenge the co-holders of. */
  held (): Array<{ pin: ErasurePin, shard: number }> {
    return [...this.#slots.values()].filter(s => s.stored === s.pin.stripes.length).map(s => ({ pin: s.pin, shard: s.shard }))
  }

  /** The connected shard holder with this key, if any: what a challenger asks. */
  peer (publicKey: string): ShardPeer | undefined {
    return this.#channels.holders().find(p => p.publicKey === publicKey)
  }

  /** Every connected shard holder. */
  peers (): ShardPeer[] {
    return this.#channels.holders()
  }

  /**
   * The slots this holder keeps fully for `drive` (newest pins first), each with the signed
   * record, a shard hold signed now (its time is the holder's sign of life), the repairs of
   * the pin this holder adopted and the slots it is repairing now.
   */
  slots (drive: string): Array<{ pin: ErasurePin, hold: ShardHold, repairs: RepairRecord[], repairing: number[], terms?: unknown }> {
    return [...this.#slots.values()]
      .filter(s => s.pin.drive === drive && s.stored === s.pin.stripes.length)
      .sort((a, b) => b.pin.version - a.pin.version || b.pin.time - a.pin.time)
      .slice(0, MAX_SLOTS)
      .map(s => {
        const p = this.#watch.placement(s.pin.root)
        const hold = signShardHold({ drive, root: s.pin.root, shard: s.shard, budget: this.#budget.state(), time: Date.now() }, this.#opts.keyPair)
        // the signed terms of the slot (pinner's order or replacement) let status show it paid
        const terms = s.terms === null ? {} : { terms: 'order' in s.terms ? s.terms.order : s.terms.replacement }
        const wrong = [...(this.#wrong.get(s.pin.root)?.values() ?? [])].slice(0, MAX_PLACEMENT_RECORDS)
        return { pin: s.pin, hold, repairs: (p?.repairs ?? []).slice(-MAX_PLACEMENT_RECORDS), repairing: p?.repairing ?? [], wrong, ...terms }
      })
  }

  /** Resolves once every storage receipt and pin record signed so far is in the ledger (or failed). */
  async recorded (): Promise<void> {
    await this.#receipts?.recorded()
    await this.#recording
  }

  /** The served-wrong records this holder keeps on the co-holders of pin `root`. */
  servedWrong (root: string): ServedWrong[] {
    return [...(this.#wrong.get(root)?.values() ?? [])]
  }

  /** Takes a served-wrong record from a reader: see the module comment. Records on itself, or on pins it keeps no slot of, are dropped. */
  #onwrong (v: unknown): void {
    const root = (v as { answer?: { root?: unknown } } | null)?.answer?.root
    const slot = [...this.#slots.values()].find(s => s.pin.root === root && s.stored === s.pin.stripes.length)
    if (slot === undefined) return
    const r = servedWrongOn(slot.pin, v)
    if (r === null || r.answer.holder === this.#opts.node.publicKey) return
    const kept = this.#wrong.get(slot.pin.root) ?? new Map<string, ServedWrong>()
    if (kept.has(servedWrongKey(r)) || kept.size >= MAX_PLACEMENT_RECORDS) return
    kept.set(servedWrongKey(r), r)
    this.#wrong.set(slot.pin.root, kept)
    debug('served wrong', r.answer.holder.slice(0, 8), 'shard', r.answer.shard, 'of', slot.pin.root.slice(0, 8))
    const ledger = this.#opts.ledger
    if (ledger !== undefined) this.#recording = this.#recording.then(async () => { await ledger.append([encodeServedWrong(r)]) }).catch((err: unknown) => { debug('served-wrong record not recorded', err) })
    this.#watch.fail(r.answer.holder, r.time)
  }

  /** The placement of pin `root` as this holder knows it (null when it keeps no slot of it). */
  placement (root: string): PinPlacement | null {
    return this.#watch.placement(root)
  }

  /**
   * Declares `holder` failed (it failed its proofs of storage): its slots of the pins this
   * node shares with it are lost from now on and repaired like those of a holder gone silent.
   */
  holderFailed (holder: string): void {
    this.#watch.fail(holder)
  }

  async #onrequest (peer: ShardPeer, m: ShardMessage): Promise<void> {
    if (this.#stopped) return
    await this.#loaded
    if (m.type === 'placement' || m.type === 'repairing') { this.#watch.onmessage(peer, m); return }
    if (m.type === 'wrong') { this.#onwrong(m.record); return }
    if (!('id' in m)) return
    try {
      if (m.type === 'open') {
        await this.#open(m.pin, m.shard, m)
        peer.send({ type: 'ok', id: m.id })
      } else if (m.type === 'put') {
        const conf = await this.#put(m.root, m.shard, m.stripe, m.bytes)
        peer.send(conf === null ? { type: 'ok', id: m.id } : { type: 'held', id: m.id, confirmation: conf })
      } else if (m.type === 'get') {
        const bytes = await this.#read(m.root, m.shard, m.stripe)
        peer.send({ type: 'data', id: m.id, bytes, signature: signAnswer(this.#slot(m.root, m.shard).pin, m.shard, m.stripe, m.nonce, this.#opts.keyPair) })
      } else if (m.type === 'query') {
        peer.send({ type: 'slots', id: m.id, slots: this.slots(m.drive) })
      } else if (m.type === 'challenge') {
        const slot = this.#slot(m.challenge.root, m.challenge.shard)
        const shard = await this.#read(m.challenge.root, m.challenge.shard, m.challenge.stripe)
        peer.send({ type: 'proof', id: m.id, answer: answerChallenge(shard, slot.pin.layout.chunkBytes, m.challenge.chunk) })
      }
    } catch (err) {
      const e = err instanceof ShadwError ? err : ShadwError.INTERNAL('shard request failed', err)
      peer.send({ type: 'refused', id: m.id, code: e.code, message: e.message })
    }
  }

  #slot (root: string, shard: number): Slot {
    const slot = this.#slots.get(`${root}/${shard}`)
    if (slot === undefined) throw ShadwError.SHARD_NOT_HELD(`shard ${shard} of pin ${root.slice(0, 8)} is not held here`)
    return slot
  }

  /**
   * A repair's offer of a lost slot to its new holder. A repair that a failed proof started
   * early waits (at most a grace) until the loss is a grace of the slot order old, its last
   * sign of life included, so the offer is one the ledgers accept: the slot is paid.
   */
  async #offer (root: string, shard: number, lost: string, lastSeen: number, to: string): Promise<unknown> {
    const r = this.#receipts
    const terms = this.#termsOf(root)
    if (r === null || terms === null) return undefined
    const graceMs = this.#opts.graceMs ?? DEFAULT_GRACE_MS
    const wait = (r.payableAt(terms, lastSeen, Math.ceil(2 * graceMs / HEARTBEATS_PER_GRACE)) ?? 0) - Date.now()
    if (wait > 0 && wait <= graceMs) await new Promise(resolve => setTimeout(resolve, wait))
    if (this.#stopped) return undefined
    return r.offer(terms, shard, lost, lastSeen, to) ?? undefined
  }

  /** The terms of this holder's slot of pin `root`, if it keeps one whole. */
  #termsOf (root: string): SlotTerms | null {
    for (const s of this.#slots.values()) if (s.pin.root === root && s.stored === s.pin.stripes.length) return s.terms
    return null
  }

  async #open (v: unknown, shard: number, offered: { order?: unknown, standing?: unknown, replacement?: unknown } = {}): Promise<void> {
    const pin = verifyErasurePin(v)
    if (shard >= pin.layout.k + pin.layout.m) throw ShadwError.ERASURE_INVALID(`shard ${shard} of a ${pin.layout.k}+${pin.layout.m} pin`)
    if (this.#slots.has(`${pin.root}/${shard}`)) return
    // the check below and the slot's creation are apart by an await: one open per pin at a time
    if (this.#opening.has(pin.root)) throw ShadwError.ERASURE_INVALID(`a slot of pin ${pin.root.slice(0, 8)} is being opened here already`)
    // one slot per pin: a holder with two would take two shards of every stripe down with it.
    // A slot left part-way (its repairer died, another placed it elsewhere) gives way; its
    // blocks stay in a log this node writes, which it cannot delete
    for (const [key, s] of this.#slots) {
      if (s.pin.root !== pin.root) continue
      if (s.stored === s.pin.stripes.length) throw ShadwError.ERASURE_INVALID(`this holder keeps shard ${s.shard} of pin ${pin.root.slice(0, 8)} already`, { shard: s.shard })
      this.#slots.delete(key)
      this.#budget.release(s.bytes)
      this.#receipts?.drop(key)
      this.#index.record({ op: 'drop', root: s.pin.root, shard: s.shard }).catch((err: unknown) => { debug('slot drop not recorded', err) })
    }
    const bytes = slotBytes(pin)
    const terms = this.#terms(pin, shard, bytes, offered)
    this.#budget.reserve(bytes)
    this.#opening.add(pin.root)
    try {
      const info = await this.#opts.node.createLog(slotLogName(pin.root, shard))
      const kept = terms === null ? {} : 'order' in terms ? { order: terms.order, ...(terms.standing === null ? {} : { standing: terms.standing }) } : { replacement: terms.replacement }
      await this.#index.record({ op: 'slot', pin, shard, ...kept })
      this.#slots.set(`${pin.root}/${shard}`, { pin, terms, shard, log: info.key, stored: info.length, bytes, puts: Promise.resolve() })
    } catch (err) {
      this.#budget.release(bytes)
      throw err
    } finally {
      this.#opening.delete(pin.root)
    }
    this.#channels.announce()
  }

  /** What pays for a slot being opened: the pinner's order (refused when bad), or a repairer's offer (unpaid when bad). */
  #terms (pin: ErasurePin, shard: number, bytes: number, offered: { order?: unknown, standing?: unknown, replacement?: unknown }): SlotTerms | null {
    const r = this.#receipts
    if (r === null) return null
    if (offered.order !== undefined) {
      const order = r.check(offered.order, pin.drive, bytes)
      return { order, standing: offered.standing === undefined ? null : r.checkStanding(offered.standing, pin, order) }
    }
    const replacement = offered.replacement === undefined ? null : r.accept(offered.replacement, pin, shard, bytes)
    return replacement === null ? null : { replacement }
  }

  async #put (root: string, shard: number, stripe: number, bytes: Uint8Array): Promise<ShardHold | null> {
    const slot = this.#slot(root, shard)
    const done = slot.puts.then(async () => await this.#append(slot, stripe, bytes))
    slot.puts = done.catch(() => {})
    return await done
  }

  async #append (slot: Slot, stripe: number, bytes: Uint8Array): Promise<ShardHold | null> {
    const { root } = slot.pin
    const shard = slot.shard
    if (stripe < slot.stored) return null // a resent stripe: already in
    if (stripe !== slot.stored) throw ShadwError.INVALID_ARGUMENT(`stripe ${stripe} out of order (next is ${slot.stored})`)
    const want = slot.pin.stripes[stripe]?.shards[shard]
    if (want === undefined || shardHash(bytes, slot.pin.layout.chunkBytes) !== want) throw ShadwError.ERASURE_INVALID(`shard ${shard} of stripe ${stripe} does not match its committed hash`, { stripe, shard })
    await this.#opts.node.append(slot.log, [bytes])
    slot.stored++
    if (slot.stored < slot.pin.stripes.length) return null
    debug('holding shard', shard, 'of', root.slice(0, 8))
    this.#watch.add(slot.pin, shard)
    if (slot.terms !== null) this.#receipts?.held(`${root}/${shard}`, slot.terms, slot.bytes)
    return signShardHold({ drive: slot.pin.drive, root, shard, budget: this.#budget.state(), time: Date.now() }, this.#opts.keyPair)
  }

  async #read (root: string, shard: number, stripe: number): Promise<Uint8Array> {
    const slot = this.#slot(root, shard)
    const block = stripe < slot.stored ? await this.#opts.node.get(slot.log, stripe, { wait: false }) : null
    if (block === null) throw ShadwError.SHARD_NOT_HELD(`stripe ${stripe} of shard ${shard} is not held here`)
    return block
  }
}

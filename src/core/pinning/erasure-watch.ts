/**
 * Live repair of erasure pins: the holders of one pin watch each other and rebuild a lost
 * slot without the uploader. Each holder joins the pin's own topic (so the pin's holders are
 * connected to each other), and every heartbeat (a fifth of the grace period) tells its
 * co-holders the placement as it knows it: each slot's newest shard hold (its own signed just
 * now; a hold's time is its holder's sign of life) and the repairs adopted. A holder answers
 * a heartbeat that asks with its own, so a holder with a long grace (a browser tab) is still
 * seen as often as the one asking needs.
 *
 * A slot is lost when its holder's newest hold is older than the grace period, or when it is
 * declared failed ({@link PinWatch.fail}: what a failed proof of storage feeds). The live
 * holders rank themselves the same way for that loss (`electRepairer`); the one due claims it
 * (`repairing`, repeated while it works), rebuilds the slot's shard of every stripe from K
 * survivors checked against the committed hashes, places it on a holder that keeps no slot of
 * the pin (with its offer of the slot under the pinner's slot order, which pays the new holder
 * for the rest of the term), signs the repair record and tells every holder, who adopt it. While a live holder
 * claims a loss nobody else starts on it; a claimer that dies stops being live after the
 * grace period and the next in the ranking takes over.
 */
import b4a from 'b4a'
import { ShadwError } from '../errors.ts'
import { log } from '../log.ts'
import { sha256 } from '../sha256.ts'
import { rebuildStripe, shardLength, stripeCount } from './erasure.ts'
import type { ErasurePin } from './erasure-pin.ts'
import { electRepairer, signRepair, verifyRepair, type RepairRecord } from './erasure-repair.ts'
import type { ReedSolomon } from './reed-solomon.ts'
import { shardNonce } from './shard-answer.ts'
import { signShardHold, verifyShardHold, type ShardHold } from './shard-hold.ts'
import type { ShardChannels, ShardGossip, ShardPeer } from './shard-protocol.ts'

const debug = log('pinning')

/** Heartbeats per grace period: a holder missing a few (a slow network) is not gone. */
export const HEARTBEATS_PER_GRACE = 5
/** New holders a repairer tries for one slot before it gives the turn back. */
const PLACE_TRIES = 3

/** The topic the holders of pin `root` meet on. */
export function pinTopic (root: string): Uint8Array {
  return b4a.from(sha256(b4a.from(`shadw/v1/shard-pin/${root}`)), 'hex')
}

/** What a watch reports as it goes (tests and drills follow repairs with it). */
export type RepairEvent =
  | { type: 'lost', root: string, shard: number, holder: string }
  | { type: 'start', root: string, shard: number, from: string }
  | { type: 'stripe', root: string, shard: number, stripe: number, to: string }
  | { type: 'repaired', record: RepairRecord }
  | { type: 'adopted', record: RepairRecord }
  | { type: 'failed', root: string, shard: number, error: unknown }

/** Options of {@link PinWatch}. */
export interface PinWatchOptions {
  keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }
  /** the shard protocol on this node's connections (the holder's) */
  channels: ShardChannels
  joinTopic: (topic: Uint8Array) => Promise<unknown>
  /** this holder's stored shard `shard` of stripe `stripe` of pin `root` */
  read: (root: string, shard: number, stripe: number) => Promise<Uint8Array>
  /** the codec, loaded when a repair first needs it */
  rs: () => Promise<ReedSolomon>
  /** budget state for the holds signed each heartbeat */
  budget: () => { total: number, used: number }
  graceMs: number
  timeoutMs: number
  /**
   * The signed offer that pays the new holder of a repaired slot (`shard` of pin `root`,
   * taking the place of `lost`, last seen at `lastSeen`) for the rest of the pinner's term;
   * undefined when this holder has none to make (the slot is placed unpaid)
   */
  offer?: (root: string, shard: number, lost: string, lastSeen: number, to: string) => Promise<unknown>
  onevent?: (e: RepairEvent) => void
}

/** One pin as this holder sees it. */
interface Watched {
  pin: ErasurePin
  /** the slots this holder keeps */
  mine: Set<number>
  /** each slot's holder, as its newest hold */
  holds: Map<number, ShardHold>
  /** every repair adopted, in order */
  repairs: RepairRecord[]
  /** holders declared failed, and when */
  failed: Map<string, number>
  /** claims heard: slot → the claimer and when it last claimed (local clock) */
  claims: Map<number, { repairer: string, at: number }>
  running: Set<number>
  /** losses (slot:holder) this holder became due to take over, and when */
  due: Map<string, number>
  /** the holders this holder's running repairs place on: never two slots on one */
  targets: Set<string>
  /** when this holder began watching: it judges nobody before a grace period of it */
  since: number
}

/** The placement of one pin as a holder knows it. */
export interface PinPlacement { holders: Array<{ shard: number, holder: string, time: number, live: boolean }>, repairs: RepairRecord[], repairing: number[] }

/** See the module comment. */
export class PinWatch {
  readonly #o: PinWatchOptions
  readonly #me: string
  readonly #pins = new Map<string, Watched>()
  #timer: ReturnType<typeof setInterval> | undefined
  #stopped = false

  constructor (o: PinWatchOptions) {
    if (!Number.isSafeInteger(o.graceMs) || o.graceMs < HEARTBEATS_PER_GRACE) throw ShadwError.INVALID_ARGUMENT(`grace must be an integer of at least ${HEARTBEATS_PER_GRACE} ms, got ${o.graceMs}`)
    this.#o = o
    this.#me = b4a.toString(o.keyPair.publicKey, 'hex')
  }

  start (): void {
    if (this.#timer !== undefined || this.#stopped) return
    this.#timer = setInterval(() => { this.#tick() }, Math.max(1, Math.floor(this.#o.graceMs / HEARTBEATS_PER_GRACE)))
  }

  stop (): void {
    this.#stopped = true
    clearInterval(this.#timer)
  }

  /** Starts watching pin `pin` once this holder keeps slot `shard` of it whole. */
  add (pin: ErasurePin, shard: number): void {
    let w = this.#pins.get(pin.root)
    if (w === undefined) {
      w = { pin, mine: new Set(), holds: new Map(), repairs: [], failed: new Map(), claims: new Map(), running: new Set(), due: new Map(), targets: new Set(), since: Date.now() }
      this.#pins.set(pin.root, w)
      this.#o.joinTopic(pinTopic(pin.root)).catch((err: unknown) => { debug('pin topic not joined', err) })
    }
    w.mine.add(shard)
    w.holds.set(shard, this.#hold(w, shard))
  }

  /**
   * Declares `holder` failed for every pin this holder shares with it, from `at` on (a failed
   * proof of storage): its slots are lost now, whatever its heartbeats say.
   */
  fail (holder: string, at = Date.now()): void {
    for (const w of this.#pins.values()) if (holder !== this.#me && !w.failed.has(holder)) w.failed.set(holder, at)
    this.#tick()
  }

  placement (root: string): PinPlacement | null {
    const w = this.#pins.get(root)
    if (w === undefined) return null
    const now = Date.now()
    return { holders: [...w.holds.values()].sort((a, b) => a.shard - b.shard).map(h => ({ shard: h.shard, holder: h.holder, time: h.time, live: !this.#lost(w, h, now) })), repairs: [...w.repairs], repairing: [...w.running].sort((a, b) => a - b) }
  }

  /** A gossip message from a peer. */
  onmessage (peer: ShardPeer, m: Exclude<ShardGossip, { type: 'wrong' }>): void {
    if (this.#stopped) return
    const w = this.#pins.get(m.root)
    if (w === undefined) return
    if (m.type === 'repairing') {
      const h = w.holds.get(m.shard)
      if (h !== undefined && h.holder === m.from && this.#holderOf(w, peer.publicKey)) w.claims.set(m.shard, { repairer: peer.publicKey, at: Date.now() })
      return
    }
    const holds: ShardHold[] = []
    for (const v of m.holds) {
      try {
        const h = verifyShardHold(v)
        if (h.root === w.pin.root && h.drive === w.pin.drive && h.shard < w.pin.layout.k + w.pin.layout.m) holds.push(h)
      } catch {}
    }
    for (const v of m.repairs) this.#adopt(w, v, holds)
    for (const h of holds) {
      const cur = w.holds.get(h.shard)
      // a slot is taken over by a repair record only; an unknown slot is learnt from its holder's hold
      if (cur === undefined || (cur.holder === h.holder && cur.time < h.time)) w.holds.set(h.shard, h)
    }
    if (m.ask) peer.send(this.#message(w, false))
  }

  #hold (w: Watched, shard: number): ShardHold {
    return signShardHold({ drive: w.pin.drive, root: w.pin.root, shard, budget: this.#o.budget(), time: Date.now() }, this.#o.keyPair)
  }

  #holderOf (w: Watched, key: string): boolean {
    for (const h of w.holds.values()) if (h.holder === key) return true
    return false
  }

  #lost (w: Watched, h: ShardHold, now: number): boolean {
    if (w.mine.has(h.shard) && h.holder === this.#me) return false
    return w.failed.has(h.holder) || now - h.time > this.#o.graceMs
  }

  /** Adopts a checked repair record: signed by a holder of the pin, moving the slot from its current holder to one whose hold comes with it. */
  #adopt (w: Watched, v: unknown, holds: ShardHold[]): void {
    let r: RepairRecord
    try { r = verifyRepair(v) } catch { return }
    if (r.root !== w.pin.root || r.drive !== w.pin.drive || w.repairs.some(x => x.signature === r.signature)) return
    const to = holds.find(h => h.shard === r.shard && h.holder === r.to)
    const cur = w.holds.get(r.shard)
    if (to === undefined || cur === undefined || !this.#holderOf(w, r.repairer)) return
    // the new holder itself (it knew its slot first), or a record heard again through another holder
    if (cur.holder === r.to) { w.repairs.push(r); return }
    if (cur.holder !== r.from) {
      // two repairs of one loss (views that split): every holder keeps the earlier record
      const rival = w.repairs.find(x => x.shard === r.shard && x.from === r.from && x.to === cur.holder)
      if (rival === undefined || rival.time < r.time || (rival.time === r.time && rival.signature < r.signature)) return
    }
    w.holds.set(r.shard, to)
    w.repairs.push(r)
    w.claims.delete(r.shard)
    this.#o.onevent?.({ type: 'adopted', record: r })
  }

  #message (w: Watched, ask: boolean): ShardGossip {
    const latest = new Map<number, RepairRecord>()
    for (const r of w.repairs) latest.set(r.shard, r)
    return { type: 'placement', root: w.pin.root, holds: [...w.holds.values()], repairs: [...latest.values()], ask }
  }

  #peers (): Map<string, ShardPeer> {
    return new Map(this.#o.channels.holders().map(p => [p.publicKey, p]))
  }

  #tick (): void {
    if (this.#stopped) return
    const now = Date.now()
    const peers = this.#peers()
    for (const w of this.#pins.values()) {
      for (const s of w.mine) if (w.holds.get(s)?.holder === this.#me) w.holds.set(s, this.#hold(w, s))
      const msg = this.#message(w, true)
      const told = new Set<string>()
      for (const h of w.holds.values()) {
        const p = peers.get(h.holder)
        if (h.holder !== this.#me && p !== undefined && !told.has(h.holder)) { told.add(h.holder); p.send(msg) }
      }
      for (const s of w.running) this.#broadcast(w, peers, { type: 'repairing', root: w.pin.root, shard: s, from: w.holds.get(s)?.holder ?? '' })
      if (now - w.since > this.#o.graceMs) this.#judge(w, now)
    }
  }

  #broadcast (w: Watched, peers: Map<string, ShardPeer>, m: ShardGossip): void {
    const told = new Set<string>()
    for (const h of w.holds.values()) {
      const p = peers.get(h.holder)
      if (h.holder !== this.#me && p !== undefined && !told.has(h.holder)) { told.add(h.holder); p.send(m) }
    }
  }

  /** Starts the repairs this holder is due for. */
  #judge (w: Watched, now: number): void {
    const holds = [...w.holds.values()]
    const lost = holds.filter(h => this.#lost(w, h, now))
    if (lost.length === 0) return
    const alive = holds.filter(h => !this.#lost(w, h, now))
    // fewer than K slots live: the stripes cannot be rebuilt, there is nothing to repair from
    if (alive.length < w.pin.layout.k) return
    const live = [...new Set(alive.map(h => h.holder))]
    for (const h of lost) {
      if (w.running.has(h.shard)) continue
      const claim = w.claims.get(h.shard)
      if (claim !== undefined && claim.repairer !== this.#me && live.includes(claim.repairer) && now - claim.at <= this.#o.graceMs) continue
      const lossAt = w.failed.get(h.holder) ?? h.time + this.#o.graceMs
      const due = `${h.shard}:${h.holder}`
      if (electRepairer(live, w.pin.root, h.shard, h.holder, lossAt, now, this.#o.graceMs) !== this.#me) { w.due.delete(due); continue }
      // a takeover waits one heartbeat: time for the claim of one whose turn it still is (clocks and views differ a little) to arrive
      if (now - lossAt >= this.#o.graceMs) {
        const since = w.due.get(due)
        if (since === undefined) w.due.set(due, now)
        if (since === undefined || now - since < this.#o.graceMs / HEARTBEATS_PER_GRACE) continue
      }
      w.due.delete(due)
      this.#o.onevent?.({ type: 'lost', root: w.pin.root, shard: h.shard, holder: h.holder })
      void this.#repair(w, h, live)
    }
  }

  async #repair (w: Watched, lost: ShardHold, live: string[]): Promise<void> {
    const { pin } = w
    const s = lost.shard
    w.running.add(s)
    const peers = this.#peers()
    this.#broadcast(w, peers, { type: 'repairing', root: pin.root, shard: s, from: lost.holder })
    this.#o.onevent?.({ type: 'start', root: pin.root, shard: s, from: lost.holder })
    debug('repairing shard', s, 'of', pin.root.slice(0, 8), 'lost with', lost.holder.slice(0, 8))
    try {
      const rs = await this.#o.rs()
      let bytes = 0
      for (let st = 0; st < stripeCount(pin.layout); st++) bytes += shardLength(pin.layout, st)
      // never a holder of any slot of the pin (a lost one may come back), nor one declared failed
      const known = new Set([...w.holds.values()].map(h => h.holder).concat([...w.failed.keys()], [lost.holder]))
      const targets = [...peers.values()].filter(p => !known.has(p.publicKey) && !w.targets.has(p.publicKey) && (p.free ?? 0) >= bytes).sort((a, b) => (b.free ?? 0) - (a.free ?? 0)).slice(0, PLACE_TRIES)
      if (targets.length === 0) throw ShadwError.NOT_ENOUGH_HOLDERS(`no holder with ${bytes} bytes free keeps no slot of pin ${pin.root.slice(0, 8)}`, { found: 0, needed: 1, placed: 0 })
      const survivors = [...w.holds.values()].filter(h => h.shard !== s && live.includes(h.holder))
      let last: unknown = null
      for (const to of targets) {
        if (w.targets.has(to.publicKey)) continue
        w.targets.add(to.publicKey)
        try {
          const replacement = await this.#o.offer?.(pin.root, s, lost.holder, lost.time, to.publicKey)
          await to.request({ type: 'open', pin, shard: s, ...(replacement === undefined ? {} : { replacement }) }, this.#o.timeoutMs)
          let answer = null
          for (let st = 0; st < pin.stripes.length; st++) {
            if (this.#stopped) throw ShadwError.NODE_CLOSED('holder stopped mid-repair')
            const got = await this.#gather(w, survivors, peers, st)
            const shard = rebuildStripe(rs, pin.layout, pin.stripes[st]!, st, i => got[i] ?? null)[s] as Uint8Array
            answer = await to.request({ type: 'put', root: pin.root, shard: s, stripe: st, bytes: shard }, this.#o.timeoutMs)
            this.#o.onevent?.({ type: 'stripe', root: pin.root, shard: s, stripe: st, to: to.publicKey })
          }
          if (answer?.type !== 'held') throw ShadwError.HOLD_INVALID('no shard hold after the last stripe')
          const hold = verifyShardHold(answer.confirmation)
          if (hold.holder !== to.publicKey || hold.root !== pin.root || hold.shard !== s) throw ShadwError.HOLD_INVALID('shard hold names another holder, pin or slot')
          if (this.#stopped) throw ShadwError.NODE_CLOSED('holder stopped mid-repair')
          const record = signRepair({ drive: pin.drive, root: pin.root, shard: s, stripes: pin.stripes.length, from: lost.holder, to: to.publicKey, time: Date.now() }, this.#o.keyPair)
          this.#adopt(w, record, [hold])
          const msg = this.#message(w, false)
          this.#broadcast(w, this.#peers(), msg)
          this.#o.onevent?.({ type: 'repaired', record })
          debug('repaired shard', s, 'of', pin.root.slice(0, 8), 'onto', to.publicKey.slice(0, 8))
          return
        } catch (err) {
          last = err
          if (this.#stopped) break
        } finally {
          w.targets.delete(to.publicKey)
        }
      }
      throw last
    } catch (err) {
      debug('repair failed', pin.root.slice(0, 8), s, err)
      this.#o.onevent?.({ type: 'failed', root: pin.root, shard: s, error: err })
    } finally {
      w.running.delete(s)
    }
  }

  /** Shards of stripe `st` from the survivors (this holder's own from its disk) until K check against the record. */
  async #gather (w: Watched, survivors: ShardHold[], peers: Map<string, ShardPeer>, st: number): Promise<Array<Uint8Array | null>> {
    const { pin } = w
    const got: Array<Uint8Array | null> = new Array(pin.layout.k + pin.layout.m).fill(null)
    await Promise.all(survivors.map(async h => {
      try {
        if (h.holder === this.#me) { got[h.shard] = await this.#o.read(pin.root, h.shard, st); return }
        const p = peers.get(h.holder)
        if (p === undefined || p.closed) return
        const a = await p.request({ type: 'get', root: pin.root, shard: h.shard, stripe: st, nonce: shardNonce() }, this.#o.timeoutMs)
        if (a.type === 'data') got[h.shard] = a.bytes
      } catch {}
    }))
    return got
  }
}

/**
 * A holder: a node that keeps drives' logs for others within a disk budget. It announces on
 * the holders' topic with its offer, takes pin requests (budget first: a pin that does not fit
 * is refused before anything is written), fetches and checks the logs, and signs a hold
 * confirmation. Every heartbeat it signs a fresh confirmation per drive and tells the drive's
 * other holders (gossip); a co-holder not heard from for the grace period is gone, and the
 * holders left re-pin its replica elsewhere: the one with the lowest key among those alive
 * does it, so every holder elects the same one and the re-pin happens once. Under the
 * pinner's standing order the re-pinner offers the new holder the lost one's place, signed
 * (pin-agreement.ts), so the new holder is paid as the first ones were.
 */
import { ShadwError } from '../errors.ts'
import { log } from '../log.ts'
import { DEFAULT_DOWNLOAD_TIMEOUT_MS } from '../node/index.ts'
import { DiskBudget } from './disk-budget.ts'
import { fetchPin, PinIndex, type HolderNode, type PinAgreement, type PinTerms } from './held-logs.ts'
import { cosignReplacement, cosignStorageOrder, encodeCosignedPin, encodeReplacement, encodeStorageReceipt, signStorageReceipt, type Ledger, type StandingOrder, type StorageKind } from '../ledger/index.ts'
import { acceptAgreement, REPLACE_MARGIN, replacementFor } from './pin-agreement.ts'
import { signHold, verifyHold, type HoldConfirmation } from './hold-confirmation.ts'
import { curveFactor, DEFAULT_PRICING, utilisation, type PricingConfig } from '../pricing/index.ts'
import { holdersTopic, MAX_CONFIRMATIONS, PinChannels, PROGRESS_INTERVAL_MS, type HolderOffer, type PinMessage, type PinPeer } from './pin-protocol.ts'
import { pinBytes, sameLogs, type PinRequest } from './pin-request.ts'
import { placeReplicas, rankHolders, type ReputationOf } from './placement.ts'

const debug = log('pinning')

/** How long a holder may stay silent before the others re-pin its replica (its heartbeats come five times as often). */
export const DEFAULT_GRACE_MS = 10 * 60_000
/** Heartbeats per grace period: a holder missing a few heartbeats (a slow network) is not gone. */
const HEARTBEATS_PER_GRACE = 5
/**
 * Default base price of storage, µcredits per GiB-month at a curve height of 1: the holder's
 * asking price moves along its bonding curve with the share of its budget in use, like an
 * executor's fuel price with its slots (docs/pricing.md).
 */
export const DEFAULT_STORAGE_PRICE = 1_000

/** Options of {@link Holder}. */
export interface HolderOptions {
  node: HolderNode
  /** the node's swarm identity: confirmations are signed with it */
  keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }
  /** bytes this node agrees to hold for others, or a budget it shares with its shard holder */
  budget: number | DiskBudget
  /** base price, µcredits per GiB-month at a curve height of 1 (default {@link DEFAULT_STORAGE_PRICE}) */
  price?: number
  /** the bonding curve and the price of bytes served (default `DEFAULT_PRICING`) */
  pricing?: PricingConfig
  /** silence after which a co-holder is gone, ms (default {@link DEFAULT_GRACE_MS}) */
  graceMs?: number
  /** longest fetch of one pin, ms (default `DEFAULT_DOWNLOAD_TIMEOUT_MS`) */
  fetchTimeoutMs?: number
  /** reputation of other holders, for re-pin placement */
  reputation?: ReputationOf
  /**
   * the holder's storage ledger: it appends a signed storage receipt when it takes a pin and
   * at every re-confirmation (bytes held over the time since the last). None: no receipts.
   */
  ledger?: Pick<Ledger, 'append'>
}

/** One drive this holder keeps. */
interface Pin {
  request: PinRequest
  /** the fetch in progress, or done */
  fetched: Promise<void>
  /** latest confirmation signed; null while fetching */
  confirmation: HoldConfirmation | null
  /** when the holder began holding it (ms): no re-pin decision before a grace period of it */
  since: number
  /** the other holders' latest confirmations, by holder key */
  others: Map<string, HoldConfirmation>
  repinning: boolean
  /** who asked and the price agreed */
  terms: PinTerms
  /** the pinner's standing order for the drive, if it came with one: re-pins are offered under it */
  standing: StandingOrder | null
  /** lost holders whose place this holder has offered already: not offered twice, should the new one go too */
  replaced: Set<string>
  /** end of the last period billed (ms); null until the pin is held */
  billedTo: number | null
  /** bytes of its logs uploaded to peers since `servedFrom` (ms), and the sessions that count them */
  served: number
  servedFrom: number
  sessions: Array<{ close: () => Promise<void> }>
}

/** What a holder reports for status pages. */
export interface HolderStatus { budget: { total: number, used: number }, offer: HolderOffer, drives: Array<{ drive: string, held: boolean, holders: number, replicas: number }> }

/** See the module comment. `start()`/`stop()` are safe to call twice. */
export class Holder {
  readonly #opts: HolderOptions
  readonly #budget: DiskBudget
  readonly #price: number
  readonly #graceMs: number
  readonly #index: PinIndex
  readonly #channels: PinChannels
  readonly #pins = new Map<string, Pin>()
  readonly #me: string
  #timer: ReturnType<typeof setInterval> | undefined
  #starting: Promise<void> | null = null
  #announced: Promise<void> = Promise.resolve()
  #stopped = false
  /** storage receipts go to the ledger one append at a time, in order */
  #appending: Promise<void> = Promise.resolve()

  /** @throws ShadwError `INVALID_ARGUMENT` for a bad budget, price or grace */
  constructor (opts: HolderOptions) {
    this.#opts = opts
    this.#budget = typeof opts.budget === 'number' ? new DiskBudget(opts.budget) : opts.budget
    this.#price = opts.price ?? DEFAULT_STORAGE_PRICE
    this.#graceMs = opts.graceMs ?? DEFAULT_GRACE_MS
    if (!Number.isSafeInteger(this.#price) || this.#price < 0) throw ShadwError.INVALID_ARGUMENT(`storage price must be a non-negative integer, got ${this.#price}`)
    if (!Number.isSafeInteger(this.#graceMs) || this.#graceMs < HEARTBEATS_PER_GRACE) throw ShadwError.INVALID_ARGUMENT(`grace must be an integer of at least ${HEARTBEATS_PER_GRACE} ms, got ${this.#graceMs}`)
    this.#me = opts.node.publicKey
    this.#index = new PinIndex(opts.node)
    this.#channels = new PinChannels({
      host: opts.node,
      offer: () => this.offer(),
      onmessage: (peer, m) => { this.#onmessage(peer, m) }
    })
  }

  /** Replays the pin index (resuming every pin), then starts announcing on the holders' topic ({@link announced}). */
  start (): Promise<void> {
    this.#starting ??= this.#start()
    return this.#starting
  }

  async #start (): Promise<void> {
    const pins = await this.#index.open()
    for (const req of pins.values()) {
      try {
        this.#budget.reserve(pinBytes(req))
      } catch (err) {
        // a budget lowered below what is held: keep what fits, drop the rest on record
        debug('dropping pin past the budget', req.drive.slice(0, 8), err)
        await this.#index.record({ op: 'drop', drive: req.drive })
        continue
      }
      // a pin from before terms were recorded is billed to its drive at the default price
      // an agreement not yet countersigned (stopped mid-fetch) is countersigned once the pin is held
      const a = this.#index.agreements.get(req.drive)
      this.#take(req, this.#index.terms.get(req.drive) ?? { pinner: req.drive, price: this.#price }, false, a?.signed === false ? a : {}, a?.replacement?.order ?? a?.standing ?? null)
    }
    if (this.#stopped) return
    this.#channels.start()
    this.#timer = setInterval(() => { this.#heartbeat() }, Math.max(1, Math.floor(this.#graceMs / HEARTBEATS_PER_GRACE)))
    // the announce goes on in the background: a node's start-up does not wait another DHT round for it
    this.#announced = this.#opts.node.joinTopic(holdersTopic(), { server: true, client: true }).catch((err: unknown) => { debug('holders topic not joined', err) })
  }

  /** Resolves once this holder's announce on the holders' topic is on the DHT (bounded), after {@link start}. */
  async announced (): Promise<void> {
    await this.start()
    await this.#announced
  }

  stop (): void {
    this.#stopped = true
    clearInterval(this.#timer)
    for (const pin of this.#pins.values()) this.#closeSessions(pin)
    this.#channels.stop()
  }

  /**
   * What this holder asks now: its free space, and its storage (per GiB-month) and serving
   * (per MiB) prices at the curve's height for the share of its budget in use.
   */
  offer (): HolderOffer {
    const cfg = this.#opts.pricing ?? DEFAULT_PRICING
    const f = curveFactor(cfg, utilisation(this.#budget.used, this.#budget.total))
    return { free: this.#budget.free, price: Math.round(this.#price * f), servePrice: Math.round(cfg.byteBase * f) }
  }

  get budget (): { total: number, used: number, free: number } {
    return { ...this.#budget.state(), free: this.#budget.free }
  }

  /** Resolves once every pin taken so far is fetched and confirmed (or failed). */
  async settled (): Promise<void> {
    await Promise.all([...this.#pins.values()].map(async p => { await p.fetched.catch(() => {}) }))
  }

  status (): HolderStatus {
    return {
      budget: this.#budget.state(),
      offer: this.offer(),
      drives: [...this.#pins.values()].map(p => ({ drive: p.request.drive, held: p.confirmation !== null, holders: this.#alive(p).length, replicas: p.request.replicas }))
    }
  }

  /** The drives this holder keeps whole and checked, with their bytes: what an executor on this node advertises to route calls here. */
  holdings (): Array<{ drive: string, bytes: number }> {
    return [...this.#pins.values()].filter(p => p.confirmation !== null).map(p => ({ drive: p.request.drive, bytes: pinBytes(p.request) }))
  }

  /** Every confirmation this holder knows for `drive`: its own and its co-holders' latest. */
  confirmations (drive: string): HoldConfirmation[] {
    const p = this.#pins.get(drive)
    if (p === undefined) return []
    return [...(p.confirmation === null ? [] : [p.confirmation]), ...p.others.values()]
  }

  #onmessage (peer: PinPeer, m: PinMessage): void {
    if (this.#stopped) return
    if (m.type === 'pin') void this.#onpin(peer, m.id, m.request, { ...(m.order === undefined ? {} : { order: m.order }), ...(m.standing === undefined ? {} : { standing: m.standing }), ...(m.replacement === undefined ? {} : { replacement: m.replacement }) })
    else if (m.type === 'query') peer.send({ type: 'holders', id: m.id, drive: m.drive, replicas: this.#pins.get(m.drive)?.request.replicas ?? 0, confirmations: this.confirmations(m.drive) })
    else if (m.type === 'gossip') for (const c of m.confirmations) this.#learn(c)
  }

  async #onpin (peer: PinPeer, id: number, req: PinRequest, agreement: PinAgreement): Promise<void> {
    // the pinner gives up on a holder it stops hearing from (one killed mid-fetch sends nothing)
    const progress = setInterval(() => { peer.send({ type: 'progress', id }) }, PROGRESS_INTERVAL_MS)
    try {
      const conf = await this.pin(req, peer.publicKey, agreement)
      peer.send({ type: 'held', id, confirmation: conf })
    } catch (err) {
      const e = err instanceof ShadwError ? err : ShadwError.INTERNAL('pin failed', err)
      peer.send({ type: 'refused', id, code: e.code, message: e.message })
    } finally {
      clearInterval(progress)
    }
  }

  /**
   * Takes a pin: reserves its bytes (refused with nothing written when they do not fit),
   * records it, fetches and checks every log, and resolves with the signed confirmation. The
   * same pin again answers from what is held (no second fetch); a new version of a held
   * drive replaces the old once it fits.
   *
   * `pinner` (64 hex, default the drive's key) owes the storage receipts, at the storage
   * price this holder asks when the pin arrives. With the pinner's signed `order` (this
   * holder, the drive, the pin's bytes, prices at least those asked now, a time within
   * `CLOCK_SKEW_MS` of now), the order's signer is the pinner at the order's prices, and the
   * holder countersigns it into its ledger once it holds: only then do its receipts earn. A
   * re-pinner's `replacement` offer is taken the same way, under the pinner's standing
   * order. The agreement is kept on disk with the pin: a holder restarted mid-fetch still
   * countersigns it once it holds.
   *
   * @throws ShadwError `DISK_BUDGET_EXCEEDED`, `HOLD_INVALID`, `TIMEOUT`, `NODE_CLOSED`
   */
  async pin (req: PinRequest, pinner: string = req.drive, agreement: PinAgreement = {}): Promise<HoldConfirmation> {
    if (this.#stopped) throw ShadwError.NODE_CLOSED('holder stopped')
    const held = this.#pins.get(req.drive)
    if (held !== undefined && sameLogs(held.request.logs, req.logs)) {
      await held.fetched
      return held.confirmation ?? this.#confirm(held)
    }
    const bytes = pinBytes(req)
    const asked = this.offer()
    const accepted = acceptAgreement(agreement, req, this.#me, asked)
    const terms: PinTerms = accepted.terms ?? { pinner, price: asked.price, servePrice: asked.servePrice }
    if (held !== undefined) this.#budget.release(pinBytes(held.request))
    try {
      this.#budget.reserve(bytes)
    } catch (err) {
      if (held !== undefined) this.#budget.reserve(pinBytes(held.request))
      throw err
    }
    await this.#index.record({ op: 'pin', request: req, terms, agreement })
    this.#channels.announce()
    if (held !== undefined) { this.#bill(held); this.#closeSessions(held) }
    const pin = this.#take(req, terms, true, agreement, accepted.standing)
    await pin.fetched
    return pin.confirmation ?? this.#confirm(pin)
  }

  /**
   * Starts holding `req` (its bytes reserved already); a failed fetch drops it on record.
   * `taken`: a new pin, not one resumed; `agreement`: what to countersign once it is held.
   */
  #take (req: PinRequest, terms: PinTerms, taken: boolean, agreement: PinAgreement, standing: StandingOrder | null): Pin {
    const pin: Pin = { request: req, fetched: Promise.resolve(), confirmation: null, since: Date.now(), others: new Map(), repinning: false, terms, standing, replaced: new Set(), billedTo: null, served: 0, servedFrom: 0, sessions: [] }
    this.#pins.set(req.drive, pin)
    pin.fetched = (async () => {
      try {
        await fetchPin(this.#opts.node, req, this.#opts.fetchTimeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS)
      } catch (err) {
        if (this.#pins.get(req.drive) === pin) {
          this.#pins.delete(req.drive)
          this.#budget.release(pinBytes(req))
          if (!this.#stopped) await this.#index.record({ op: 'drop', drive: req.drive }).catch(() => {})
        }
        throw err
      }
      pin.since = Date.now()
      // billing starts once every block is held and checked; a resumed pin starts afresh, so
      // time this holder was down is never billed (it shows as a gap in its receipts)
      pin.billedTo = pin.since
      pin.servedFrom = pin.since
      if (this.#opts.ledger !== undefined && !this.#stopped) this.#countUploads(pin)
      if (agreement.order !== undefined || agreement.replacement !== undefined) this.#cosign(agreement)
      else if (taken) this.#receipt(pin, 'pin', pin.since, pin.since)
      this.#confirm(pin)
      debug('holding', req.drive.slice(0, 8), pinBytes(req), 'bytes')
    })()
    pin.fetched.catch((err: unknown) => { debug('pin failed', req.drive.slice(0, 8), err) })
    return pin
  }

  #confirm (pin: Pin): HoldConfirmation {
    pin.confirmation = signHold({ drive: pin.request.drive, logs: pin.request.logs.map(l => ({ key: l.key, length: l.length, treeHash: l.treeHash })), budget: this.#budget.state(), time: Date.now() }, this.#opts.keyPair)
    return pin.confirmation
  }

  /** Signs a `hold` receipt for the time since the last one (nothing while the pin is not held yet). */
  #bill (pin: Pin): void {
    const from = pin.billedTo
    if (from === null || this.#opts.ledger === undefined) return
    const to = Math.max(from, Date.now())
    pin.billedTo = to
    this.#receipt(pin, 'hold', from, to)
    if (pin.served > 0) {
      const served = pin.served
      const since = pin.servedFrom
      pin.served = 0
      pin.servedFrom = to
      this.#receipt(pin, 'serve', Math.min(since, to), to, served)
    }
  }

  /** Counts the bytes peers fetch of the pin's logs from this holder, for its `serve` receipts. */
  #countUploads (pin: Pin): void {
    for (const l of pin.request.logs) {
      const s = this.#opts.node.session(l.key)
      s.on('upload', (_index: number, byteLength: number) => { pin.served += byteLength })
      pin.sessions.push(s)
    }
  }

  #closeSessions (pin: Pin): void {
    for (const s of pin.sessions.splice(0)) s.close().catch(() => {})
  }

  /** Appends one storage receipt to the ledger, after those before it; a failed append is logged, the pin stays held. */
  #receipt (pin: Pin, kind: StorageKind, from: number, to: number, served = 0): void {
    const ledger = this.#opts.ledger
    if (ledger === undefined) return
    const serve = kind === 'serve'
    // a pin from before serving was priced is served at the holder's base serving price
    const price = serve ? pin.terms.servePrice ?? (this.#opts.pricing ?? DEFAULT_PRICING).byteBase : pin.terms.price
    const r = signStorageReceipt({ kind, drive: pin.request.drive, pinner: pin.terms.pinner, bytes: serve ? served : pinBytes(pin.request), from, to, price }, this.#opts.keyPair)
    this.#appending = this.#appending.then(async () => { await ledger.append([encodeStorageReceipt(r)]) }).catch((err: unknown) => { debug('storage receipt not recorded', pin.request.drive.slice(0, 8), err) })
  }

  /**
   * Countersigns the pinner's order (or a repairer's replacement offer) into the ledger: the
   * agreement its receipts are paid under. Then marks it signed in the pin index, after the
   * append: a restart in between signs it again, the same bytes (ed25519 is deterministic),
   * which credits count once.
   */
  #cosign (a: PinAgreement): void {
    const ledger = this.#opts.ledger
    if (ledger === undefined) return
    const record = a.order !== undefined ? encodeCosignedPin(cosignStorageOrder(a.order, this.#opts.keyPair)) : encodeReplacement(cosignReplacement(a.replacement!, this.#opts.keyPair))
    const drive = a.order?.drive ?? a.replacement!.order.drive
    this.#appending = this.#appending.then(async () => {
      await ledger.append([record])
      if (!this.#stopped) await this.#index.record({ op: 'signed', drive })
    }).catch((err: unknown) => { debug('pin record not recorded', drive.slice(0, 8), err) })
  }

  /** Resolves once every storage receipt signed so far is in the ledger (or failed). */
  async recorded (): Promise<void> {
    await this.#appending
  }

  /** Keeps a co-holder's confirmation of a drive this node holds (the same version), if newer. */
  #learn (v: unknown): void {
    let c: HoldConfirmation
    try { c = verifyHold(v) } catch { return }
    const pin = this.#pins.get(c.drive)
    if (pin === undefined || c.holder === this.#me || !sameLogs(c.logs, pin.request.logs)) return
    const had = pin.others.get(c.holder)
    if (had === undefined || had.time < c.time) pin.others.set(c.holder, c)
  }

  /** This holder (once it holds) and the co-holders heard from within the grace period. */
  #alive (pin: Pin): string[] {
    const now = Date.now()
    const others = [...pin.others.values()].filter(c => now - c.time <= this.#graceMs).map(c => c.holder)
    return pin.confirmation === null ? others : [this.#me, ...others]
  }

  #heartbeat (): void {
    if (this.#stopped) return
    const held = [...this.#pins.values()].filter(p => p.confirmation !== null)
    // each co-holder hears of the drives it shares with this one only (the pinner and a
    // re-pinner introduced them), not of every drive every holder keeps
    const outbox = new Map<PinPeer, HoldConfirmation[]>()
    const peers = this.#channels.holders()
    for (const pin of held) {
      this.#bill(pin)
      const conf = this.#confirm(pin)
      for (const peer of peers) if (pin.others.has(peer.publicKey)) outbox.set(peer, [...(outbox.get(peer) ?? []), conf])
    }
    for (const [peer, confs] of outbox) {
      for (let i = 0; i < confs.length; i += MAX_CONFIRMATIONS) peer.send({ type: 'gossip', confirmations: confs.slice(i, i + MAX_CONFIRMATIONS) })
    }
    for (const pin of held) void this.#maybeRepin(pin)
  }

  /**
   * Re-pins a drive short of replicas, when this holder is the elected one (see the module
   * comment). Each new replica takes the place of one lost holder, the most recently heard
   * from first (an earlier loss may have been replaced already by a re-pinner since gone);
   * under a standing order it waits until the lost holder is past the order's grace (with a
   * margin, `REPLACE_MARGIN`), so the new holder can be offered its place, unless that is
   * more than another grace of its own away: then it re-pins unpaid.
   */
  async #maybeRepin (pin: Pin): Promise<void> {
    if (pin.repinning || Date.now() - pin.since < this.#graceMs) return
    const alive = this.#alive(pin).sort()
    const missing = pin.request.replicas - alive.length
    if (missing <= 0 || alive[0] !== this.#me) return
    const now = Date.now()
    const lost = [...pin.others.values()].filter(c => now - c.time > this.#graceMs && !pin.replaced.has(c.holder)).sort((a, b) => b.time - a.time).slice(0, missing)
    const standing = pin.standing
    // a loss the order's grace will cover within this holder's own grace is waited for, so
    // the new holder can be paid; past that, redundancy comes first and the re-pin is unpaid
    if (standing !== null && lost.some(c => now - c.time < standing.graceMs * REPLACE_MARGIN && standing.graceMs * REPLACE_MARGIN - (now - c.time) <= this.#graceMs)) return
    pin.repinning = true
    try {
      for (let i = 0; i < missing; i++) {
        const gone = lost[i]
        const known = new Set([this.#me, ...pin.others.keys()])
        const candidates = rankHolders(this.#channels.holders(), pinBytes(pin.request), { exclude: known, reputation: this.#opts.reputation })
        debug('re-pinning', pin.request.drive.slice(0, 8), 'missing', missing - i, 'candidates', candidates.length)
        if (candidates.length === 0) break
        const terms = standing === null || gone === undefined
          ? undefined
          : (peer: PinPeer) => {
              const replacement = replacementFor(standing, peer, { holder: gone.holder, lastSeen: gone.time }, this.#opts.keyPair)
              return replacement === undefined ? {} : { replacement }
            }
        const held = await placeReplicas({ candidates, request: pin.request, needed: 1, timeoutMs: this.#opts.fetchTimeoutMs ?? DEFAULT_DOWNLOAD_TIMEOUT_MS, ...(terms === undefined ? {} : { terms }) })
        for (const c of held) this.#learn(c)
        if (gone !== undefined) pin.replaced.add(gone.holder)
      }
      // the drive's holders, new and old, meet each other through this holder
      const all = this.confirmations(pin.request.drive)
      const holders = new Set(all.map(c => c.holder))
      for (const peer of this.#channels.holders()) if (holders.has(peer.publicKey)) peer.send({ type: 'gossip', confirmations: all })
    } catch (err) {
      debug('re-pin failed', pin.request.drive.slice(0, 8), err)
    } finally {
      pin.repinning = false
    }
  }
}

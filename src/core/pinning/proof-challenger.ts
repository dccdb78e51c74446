/**
 * Live proofs of storage: every holder challenges the other holders of the pins it holds,
 * at times drawn from an exponential distribution (a Poisson process: nothing in the last
 * challenge tells a holder when the next comes) for random parts:
 *
 * - erasure pins: a random chunk of a random stripe of the co-holder's shard slot, over the
 *   shard protocol, checked against the shard hash the signed pin record commits. Who holds
 *   which slot it learns by asking the connected shard holders (their signed shard holds),
 *   and it keeps challenging a co-holder it once learned of, reachable or not: a holder gone
 *   fails its proofs like one that lost its data.
 * - replicated pins: a random block of a random log of the drive, over the proof protocol,
 *   with its Merkle path against the tree hash the co-holders confirmed (block-proof.ts).
 *
 * Each verdict is signed, appended to this node's storage ledger and gossiped to the drive's
 * other holders; each keeps every challenger's latest in its {@link ProofBook}, which fails a
 * holder only on a quorum of distinct challengers. `onHolderFailed` and `failedHolders` are
 * what repair and status consume. `start()`/`stop()` are safe to call twice.
 */
import crypto from 'hypercore-crypto'
import { ShadwError } from '../errors.ts'
import { log } from '../log.ts'
import { encodeVerdict, signVerdict, DEFAULT_PROOF_QUORUM, type Ledger, type ProofVerdict } from '../ledger/index.ts'
import { answerBlockChallenge, checkBlockAnswer, MAX_BLOCK_PROOF_BYTES, type ProvingCore } from './block-proof.ts'
import { challengeShard } from './erasure-client.ts'
import type { ErasurePin } from './erasure-pin.ts'
import { stripeCount } from './erasure.ts'
import type { HolderNode } from './held-logs.ts'
import type { Holder } from './holder.ts'
import { ProofBook, type HolderFailure } from './proof-book.ts'
import { MAX_VERDICTS, ProofChannels, type ProofMessage, type ProofPeer } from './proof-protocol.ts'
import { verifyShardHold } from './shard-holder.ts'
import type { ShardHolder } from './shard-holder.ts'

const debug = log('pinning')

/**
 * Mean time between two challenges of one co-holder by one challenger: 10 minutes. With
 * every co-holder challenging, a holder of a 4+2 pin is asked every 2 minutes on average;
 * a lost shard is caught within minutes, far inside the re-pin grace period.
 */
export const DEFAULT_PROOF_INTERVAL_MS = 10 * 60_000
/** How long a holder has to answer one challenge: a chunk or a block read from disk. */
export const DEFAULT_PROOF_TIMEOUT_MS = 10_000
/** How often the co-holders of erasure pins are asked again who holds which slot. */
const SLOT_REFRESH_MS = 30_000
/** Longest wait for a shard holder's answer to a slot query. */
const QUERY_TIMEOUT_MS = 5_000
/** Tries of one challenge whose channel closed mid-way: the first, and once on a channel opened since. */
const CLOSED_CHANNEL_ATTEMPTS = 2

/** Options of {@link ProofChallenger}. */
export interface ProofChallengerOptions {
  node: HolderNode
  keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }
  /** the node's shard holder: its erasure slots are proved, and its co-holders challenged */
  shards?: ShardHolder | null
  /** the node's replica holder: its co-holders are challenged, and its blocks proved */
  holder?: Holder | null
  /** where verdicts are appended (the storage ledger); none: kept in memory only */
  ledger?: Pick<Ledger, 'append'>
  /** mean time between two challenges of one co-holder, ms (default {@link DEFAULT_PROOF_INTERVAL_MS}) */
  meanMs?: number
  /** distinct challengers whose latest verdicts must fail (default 2) */
  quorum?: number
  timeoutMs?: number
}

/** One co-holder to challenge: an erasure slot or a replica. */
type Target =
  | { kind: 'shard', drive: string, holder: string, pin: ErasurePin, shard: number }
  | { kind: 'block', drive: string, holder: string, logs: Array<{ key: string, length: number, treeHash: string }> }

/** A uniform number in [0, 1) from the system's secure random source: a holder cannot predict it. */
function uniform (): number {
  const b = crypto.randomBytes(4)
  return new DataView(b.buffer, b.byteOffset, 4).getUint32(0) / 2 ** 32
}

/** See the module comment. */
export class ProofChallenger {
  readonly book: ProofBook
  readonly #opts: ProofChallengerOptions
  readonly #me: string
  readonly #meanMs: number
  readonly #channels: ProofChannels
  /** erasure pin root → co-holder key → the slot it holds */
  readonly #slots = new Map<string, Map<string, number>>()
  #refreshedAt = 0
  /** co-holder key → when it was first found unreachable, in the current run of misses */
  readonly #unreachable = new Map<string, number>()
  #timer: ReturnType<typeof setTimeout> | undefined
  #started = false
  #stopped = false
  #appending: Promise<void> = Promise.resolve()
  #challenging: Promise<void> = Promise.resolve()

  /** @throws ShadwError `INVALID_ARGUMENT` for a mean interval or quorum that is not a positive integer */
  constructor (opts: ProofChallengerOptions) {
    this.#opts = opts
    this.#me = opts.node.publicKey
    this.#meanMs = opts.meanMs ?? DEFAULT_PROOF_INTERVAL_MS
    const quorum = opts.quorum ?? DEFAULT_PROOF_QUORUM
    if (!Number.isSafeInteger(this.#meanMs) || this.#meanMs < 1) throw ShadwError.INVALID_ARGUMENT(`proof interval must be a positive integer of ms, got ${this.#meanMs}`)
    if (!Number.isSafeInteger(quorum) || quorum < 1) throw ShadwError.INVALID_ARGUMENT(`proof quorum must be a positive integer, got ${quorum}`)
    this.book = new ProofBook(quorum, (drive, challenger) => this.#coHolder(drive, challenger))
    // a shard holder failed by a quorum loses its slot, repaired like a silent holder's
    this.book.onHolderFailed(f => { if (f.kind === 'shard') this.#opts.shards?.holderFailed(f.holder) })
    this.#channels = new ProofChannels(opts.node, { onrequest: (peer, m) => { void this.#onrequest(peer, m) } })
  }

  start (): void {
    if (this.#started || this.#stopped) return
    this.#started = true
    this.#channels.start()
    this.#schedule()
  }

  stop (): void {
    this.#stopped = true
    clearTimeout(this.#timer)
    this.#channels.stop()
  }

  /** Calls `listener` each time a quorum of challengers fails a holder of a drive this node holds; returns the unsubscribe. */
  onHolderFailed (listener: (f: HolderFailure) => void): () => void {
    return this.book.onHolderFailed(listener)
  }

  /** The holders of `drive` that a quorum of challengers' latest verdicts fail now. */
  failedHolders (drive: string): HolderFailure[] {
    return this.book.failedHolders(drive)
  }

  /** Resolves once the challenge in progress (if any) is judged and every verdict so far is in the ledger. */
  async settled (): Promise<void> {
    await this.#challenging
    await this.#appending
  }

  /**
   * Challenges one co-holder now, chosen at random (what the timer does at each tick);
   * resolves with the verdict, or null when there is nobody to challenge or the challenge
   * was inconclusive (nothing recorded).
   */
  async challengeOnce (): Promise<ProofVerdict | null> {
    await this.#refreshSlots()
    const targets = this.#targets()
    const t = targets[Math.floor(uniform() * targets.length)]
    if (t === undefined) return null
    if (!this.#reachable(t)) return null
    const v = await this.#challenge(t)
    if (v !== null) this.#record(v)
    return v
  }

  /**
   * One challenge of `t`. A channel that closes while the holder is answering says nothing
   * about the holder's storage (a connection replaced, a peer's protocol restart): it is put
   * again once on the channel open now, if there is one, and otherwise is inconclusive (null).
   */
  async #challenge (t: Target): Promise<ProofVerdict | null> {
    for (let attempt = 0; attempt < CLOSED_CHANNEL_ATTEMPTS; attempt++) {
      // a retry only on a channel open now: no channel yet is not an `unreachable` failure
      if (attempt > 0 && !this.#connected(t)) break
      const v = t.kind === 'shard' ? await this.#challengeShard(t) : await this.#challengeBlock(t)
      if (v !== null) return v
    }
    debug('challenge inconclusive: channel closed mid-way', t.holder.slice(0, 8))
    return null
  }

  /**
   * False while a co-holder is unreachable for less than the answer timeout: a connection
   * not yet made (this node just started, or the peer just moved) is not a missed answer.
   * Past that it is challenged all the same, and fails: a holder gone is a holder that
   * cannot prove.
   */
  #reachable (t: Target): boolean {
    if (this.#connected(t)) { this.#unreachable.delete(t.holder); return true }
    const since = this.#unreachable.get(t.holder) ?? Date.now()
    this.#unreachable.set(t.holder, since)
    return Date.now() - since >= (this.#opts.timeoutMs ?? DEFAULT_PROOF_TIMEOUT_MS)
  }

  /** True while a channel to the co-holder is open: the shard protocol's for slots, the proof protocol's for replicas. */
  #connected (t: Target): boolean {
    return t.kind === 'shard' ? this.#opts.shards?.peer(t.holder) !== undefined : this.#channels.peer(t.holder) !== undefined
  }

  #schedule (): void {
    if (this.#stopped) return
    // one clock for all co-holders, at their summed rate: each is challenged every meanMs on average
    const n = Math.max(1, this.#targets().length)
    this.#timer = setTimeout(() => {
      this.#challenging = this.challengeOnce().then(() => {}, (err: unknown) => { debug('challenge failed to run', err) }).finally(() => { this.#schedule() })
    }, Math.max(1, Math.round(-Math.log(1 - uniform()) * this.#meanMs / n)))
  }

  #targets (): Target[] {
    const out: Target[] = []
    for (const { pin } of this.#opts.shards?.held() ?? []) {
      for (const [holder, shard] of this.#slots.get(pin.root) ?? []) if (holder !== this.#me) out.push({ kind: 'shard', drive: pin.drive, holder, pin, shard })
    }
    const holder = this.#opts.holder
    for (const d of holder?.status().drives ?? []) {
      if (!d.held) continue
      for (const c of holder?.confirmations(d.drive) ?? []) {
        if (c.holder !== this.#me) out.push({ kind: 'block', drive: d.drive, holder: c.holder, logs: c.logs.filter(l => l.length > 0) })
      }
    }
    return out.filter(t => t.kind === 'shard' || t.logs.length > 0)
  }

  /** Learns which co-holder keeps which slot of the erasure pins held here (signed shard holds). */
  async #refreshSlots (): Promise<void> {
    const shards = this.#opts.shards
    if (shards === undefined || shards === null) return
    const held = shards.held()
    // a pin taken since the last look is asked about at once; the rest at most every refresh
    const fresh = held.some(h => (this.#slots.get(h.pin.root)?.size ?? 0) <= 1)
    if (!fresh && Date.now() - this.#refreshedAt < Math.min(SLOT_REFRESH_MS, this.#meanMs)) return
    this.#refreshedAt = Date.now()
    const roots = new Set(held.map(h => h.pin.root))
    for (const root of this.#slots.keys()) if (!roots.has(root)) this.#slots.delete(root)
    for (const h of held) {
      const m = this.#slots.get(h.pin.root) ?? new Map<string, number>()
      m.set(this.#me, h.shard)
      this.#slots.set(h.pin.root, m)
    }
    const drives = new Set(held.map(h => h.pin.drive))
    await Promise.all(shards.peers().map(async peer => {
      for (const drive of drives) {
        try {
          const a = await peer.request({ type: 'query', drive }, QUERY_TIMEOUT_MS)
          if (a.type !== 'slots') continue
          for (const x of a.slots) {
            try {
              const hold = verifyShardHold(x.hold)
              if (hold.holder !== peer.publicKey) continue
              this.#slots.get(hold.root)?.set(hold.holder, hold.shard)
            } catch {}
          }
        } catch (err) {
          debug('slot query failed', peer.publicKey.slice(0, 8), err)
        }
      }
    }))
  }

  /** A verdict, or null when the channel closed mid-challenge. */
  async #challengeShard (t: Extract<Target, { kind: 'shard' }>): Promise<ProofVerdict | null> {
    const stripe = Math.floor(uniform() * stripeCount(t.pin.layout))
    return await challengeShard(this.#opts.shards?.peer(t.holder), t.pin, { holder: t.holder, shard: t.shard }, stripe, uniform(), this.#opts.keyPair, this.#opts.timeoutMs ?? DEFAULT_PROOF_TIMEOUT_MS)
  }

  /** A verdict, or null when the channel closed mid-challenge. */
  async #challengeBlock (t: Extract<Target, { kind: 'block' }>): Promise<ProofVerdict | null> {
    const l = t.logs[Math.floor(uniform() * t.logs.length)] ?? t.logs[0]!
    const index = Math.floor(uniform() * l.length)
    let ok = true
    let reason = ''
    let unreachable = false
    try {
      const peer = this.#channels.peer(t.holder)
      if (peer === undefined) {
        unreachable = true
        throw ShadwError.PROOF_FAILED('holder unreachable')
      }
      const a = await peer.request({ type: 'block', key: l.key, length: l.length, index }, this.#opts.timeoutMs ?? DEFAULT_PROOF_TIMEOUT_MS)
      checkBlockAnswer(l, index, a.type === 'block-proof' ? a.answer : null)
    } catch (err) {
      if (err instanceof ShadwError && err.code === 'NODE_CLOSED') return null
      ok = false
      reason = err instanceof Error ? err.message : String(err)
    }
    return signVerdict({ kind: 'block', drive: t.drive, target: l.key, stripe: index, shard: 0, holder: t.holder, ok, reason, unreachable, time: Date.now() }, this.#opts.keyPair)
  }

  /** Keeps, appends and gossips one of this node's verdicts. */
  #record (v: ProofVerdict): void {
    if (!v.ok) debug('proof failed', v.holder.slice(0, 8), v.reason)
    this.book.add(v)
    const ledger = this.#opts.ledger
    if (ledger !== undefined) {
      this.#appending = this.#appending.then(async () => { await ledger.append([encodeVerdict(v)]) }).catch((err: unknown) => { debug('verdict not recorded', err) })
    }
    const others = new Set(this.#targets().filter(t => t.drive === v.drive).map(t => t.holder))
    for (const peer of this.#channels.peers()) if (others.has(peer.publicKey)) peer.send({ type: 'gossip', verdicts: [v] })
  }

  /** True for this node and the holders it knows of `drive` (signed shard holds, hold confirmations): who may judge. */
  #coHolder (drive: string, key: string): boolean {
    if (key === this.#me) return true
    for (const { pin } of this.#opts.shards?.held() ?? []) if (pin.drive === drive && this.#slots.get(pin.root)?.has(key) === true) return true
    return (this.#opts.holder?.confirmations(drive) ?? []).some(c => c.holder === key)
  }

  /** The drives this node holds (an erasure slot or a replica): the only ones whose verdicts it keeps. */
  #holds (drive: string): boolean {
    return (this.#opts.shards?.held() ?? []).some(h => h.pin.drive === drive) ||
      (this.#opts.holder?.status().drives ?? []).some(d => d.drive === drive && d.held)
  }

  async #onrequest (peer: ProofPeer, m: ProofMessage): Promise<void> {
    if (this.#stopped) return
    if (m.type === 'gossip') {
      for (const v of m.verdicts) {
        const drive = (v as { drive?: unknown } | null)?.drive
        if (typeof drive === 'string' && this.#holds(drive)) this.book.add(v)
      }
      return
    }
    if (!('id' in m)) return
    try {
      if (m.type === 'query') {
        peer.send({ type: 'verdicts', id: m.id, verdicts: this.book.verdicts(m.drive).slice(0, MAX_VERDICTS) })
      } else if (m.type === 'block') {
        const held = (this.#opts.holder?.status().drives ?? []).some(d => d.held && this.#opts.holder?.confirmations(d.drive).some(c => c.holder === this.#me && c.logs.some(l => l.key === m.key && l.length >= m.length)))
        if (!held) throw ShadwError.SHARD_NOT_HELD(`log ${m.key.slice(0, 8)} at length ${m.length} is not held here`)
        const core = this.#opts.node.session(m.key)
        try {
          await core.ready()
          const answer = await answerBlockChallenge(core as unknown as ProvingCore, m.length, m.index)
          // an answer past the message bound would close the channel at the challenger: refused instead, typed
          if (answer.bytes.length > 2 * MAX_BLOCK_PROOF_BYTES) throw ShadwError.PROOF_FAILED(`block ${m.index} is larger than a proof answer carries (${MAX_BLOCK_PROOF_BYTES} bytes)`)
          peer.send({ type: 'block-proof', id: m.id, answer })
        } finally {
          await core.close()
        }
      }
    } catch (err) {
      const e = err instanceof ShadwError ? err : ShadwError.INTERNAL('proof request failed', err)
      peer.send({ type: 'refused', id: m.id, code: e.code, message: e.message })
    }
  }
}

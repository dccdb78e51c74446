/**
 * The client side of erasure-coded pins besides pinning (erasure-pinner.ts): `readErasure` fetches every stripe
 * from whichever holders answer, checks each shard against the record and decodes from any
 * K; `challengeShard` asks one holder for a random chunk and signs the verdict.
 *
 * A holder that served a wrong shard under its own signature is excluded for good: the
 * reader signs a served-wrong record, hands it to the pin's other holders (who record it,
 * repair the slot and list it in their `query` answers) and `findErasurePin` gives every
 * later reader the records, so no read asks that holder again.
 */
import { ShadwError } from '../errors.ts'
import { encodeServedWrong, servedWrongKey, type Ledger, type ServedWrong } from '../ledger/index.ts'
import { rebuildStripe, stripeCount, type ErasureLayout } from './erasure.ts'
import { verifyErasurePin, type ErasurePin } from './erasure-pin.ts'
import { connectedHolders, POLL_MS, type ErasurePlacement } from './erasure-pinner.ts'
import { verifyRepair, type RepairRecord } from './erasure-repair.ts'
import { holdersTopic } from './pin-protocol.ts'
import type { PinClientNode } from './pinner.ts'
import type { ReedSolomon } from './reed-solomon.ts'
import { verifyShardHold, type ShardHold } from './shard-holder.ts'
import { judgeAnswer, servedWrongOn, shardNonce } from './shard-answer.ts'
import { ShardChannels, type ShardPeer } from './shard-protocol.ts'
import { slotPaid, type SlotPaid } from './slot-terms.ts'
import { checkAnswer, makeChallenge, signVerdict, type ProofVerdict } from './storage-proof.ts'

/** Options of {@link readErasure}. */
export interface ReadErasureOptions {
  node: PinClientNode
  rs: ReedSolomon
  placement: ErasurePlacement
  /** wait for the placed holders to be reachable, ms (default 5 s); the absent count as lost */
  discoverMs?: number
  timeoutMs?: number
  /**
   * a holder served a shard that does not match its committed hash: it is asked nothing more
   * in this read; `record` is the signed evidence when its answer's signature makes one (and
   * a key pair was given), else null
   */
  onwrong?: (w: { holder: string, shard: number, stripe: number, record: ServedWrong | null }) => void
  /** the reader's key pair: signs served-wrong records (none: a wrong holder is only skipped in this read) */
  keyPair?: { publicKey: Uint8Array, secretKey: Uint8Array }
  /** where this reader's served-wrong records are appended (its storage ledger) */
  ledger?: Pick<Ledger, 'append'>
}

/** The holders a placement's served-wrong records name: never asked. */
export function excludedHolders (placement: Pick<ErasurePlacement, 'wrong'>): Set<string> {
  return new Set((placement.wrong ?? []).map(r => r.answer.holder))
}

/**
 * The pinned bytes, from any K holders per stripe; a shard that fails its committed hash
 * counts as missing, and its holder is not asked again for the rest of the read.
 * @throws ShadwError `STRIPE_LOST` naming the first stripe with fewer than K good shards
 */
export async function readErasure (o: ReadErasureOptions): Promise<Uint8Array> {
  const { pin, holds } = o.placement
  const l: ErasureLayout = pin.layout
  const channels = new ShardChannels(o.node)
  channels.start()
  try {
    await o.node.joinTopic(holdersTopic(), { server: false, client: true })
    const named = new Set(holds.map(h => h.holder))
    const peers = new Map((await connectedHolders(channels, named.size, o.discoverMs ?? 5_000, p => named.has(p.publicKey))).map(p => [p.publicKey, p]))
    const out = new Uint8Array(l.size)
    const wrong = excludedHolders(o.placement)
    for (let s = 0; s < stripeCount(l); s++) {
      const got: Array<Uint8Array | null> = new Array(l.k + l.m).fill(null)
      await Promise.all(holds.map(async h => {
        const peer = peers.get(h.holder)
        if (peer === undefined || peer.closed || got[h.shard] !== null || wrong.has(h.holder)) return
        try {
          const nonce = shardNonce()
          const a = await peer.request({ type: 'get', root: pin.root, shard: h.shard, stripe: s, nonce }, o.timeoutMs ?? 10_000)
          if (a.type !== 'data') return
          const judged = judgeAnswer(pin, h.holder, h.shard, s, nonce, a.bytes, a.signature, o.keyPair)
          if (judged.ok) { got[h.shard] = a.bytes; return }
          wrong.add(h.holder)
          if (judged.record !== null) await report(judged.record, [...peers.values()], o.ledger)
          o.onwrong?.({ holder: h.holder, shard: h.shard, stripe: s, record: judged.record })
        } catch {}
      }))
      const shards = rebuildStripe(o.rs, l, pin.stripes[s]!, s, i => got[i] ?? null)
      const at = s * l.k * l.shardBytes
      for (let i = 0; i < l.k; i++) {
        const sh = shards[i] as Uint8Array
        const from = at + i * sh.length
        if (from < l.size) out.set(sh.subarray(0, Math.min(sh.length, l.size - from)), from)
      }
    }
    return out
  } finally {
    channels.stop()
  }
}

/** Hands a served-wrong record to the pin's holders met (the accused too: nothing in it is secret) and appends it to the reader's ledger. */
async function report (record: ServedWrong, peers: ShardPeer[], ledger: Pick<Ledger, 'append'> | undefined): Promise<void> {
  for (const p of peers) p.send({ type: 'wrong', record })
  await ledger?.append([encodeServedWrong(record)])
}

/** Options of {@link findErasurePin}. */
export interface FindErasureOptions {
  node: PinClientNode
  drive: string
  /** how long to gather holders' answers, ms (default 5 s) */
  discoverMs?: number
  timeoutMs?: number
}

/**
 * Asks every shard holder met on the holders' topic what it keeps of `drive` and returns the
 * newest erasure pin with the shard holds signed just now (one per live slot, by shard index;
 * a missing index has no live holder; a slot repaired away is its new holder's), the checked
 * repair records its holders adopted and the
 * slots they are repairing, or null when no holder keeps any.
 */
export async function findErasurePin (o: FindErasureOptions): Promise<ErasurePlacement | null> {
  const channels = new ShardChannels(o.node)
  channels.start()
  try {
    await o.node.joinTopic(holdersTopic(), { server: false, client: true })
    const waitMs = o.discoverMs ?? 5_000
    for (let i = 0; i < Math.ceil(waitMs / POLL_MS); i++) await new Promise(resolve => setTimeout(resolve, POLL_MS))
    const pins = new Map<string, { pin: ErasurePin, holds: Map<number, ShardHold[]>, repairs: Map<string, RepairRecord>, repairing: Set<number>, paid: Record<string, SlotPaid>, wrong: Map<string, ServedWrong> }>()
    await Promise.all(channels.holders().map(async peer => {
      try {
        const a = await peer.request({ type: 'query', drive: o.drive }, o.timeoutMs ?? 5_000)
        if (a.type !== 'slots') return
        for (const x of a.slots) {
          try {
            const pin = verifyErasurePin(x.pin)
            const hold = verifyShardHold(x.hold)
            if (pin.drive !== o.drive || hold.root !== pin.root || hold.holder !== peer.publicKey) continue
            const entry = pins.get(pin.root) ?? { pin, holds: new Map(), repairs: new Map(), repairing: new Set(), paid: {} as Record<string, SlotPaid>, wrong: new Map() }
            entry.paid[`${hold.holder}/${hold.shard}`] = slotPaid(x.terms, pin, hold.shard, hold.holder)
            for (const v of x.wrong ?? []) {
              const r = servedWrongOn(pin, v)
              if (r !== null) entry.wrong.set(servedWrongKey(r), r)
            }
            entry.holds.set(hold.shard, [...(entry.holds.get(hold.shard) ?? []), hold])
            for (const v of x.repairs ?? []) {
              try {
                const r = verifyRepair(v)
                if (r.root === pin.root && r.drive === pin.drive) entry.repairs.set(r.signature, r)
              } catch {}
            }
            for (const s of x.repairing ?? []) entry.repairing.add(s)
            pins.set(pin.root, entry)
          } catch {}
        }
      } catch {}
    }))
    const newest = [...pins.values()].sort((a, b) => b.pin.version - a.pin.version || b.pin.time - a.pin.time)[0]
    if (newest === undefined) return null
    const repairs = [...newest.repairs.values()].sort((a, b) => a.time - b.time)
    const wrong = [...newest.wrong.values()].sort((a, b) => a.time - b.time)
    const excluded = excludedHolders({ wrong })
    // a slot answered for by an excluded holder and by its repairer is the repairer's
    const holds = [...newest.holds.values()].map(c => c.filter(h => !excluded.has(h.holder))).filter(c => c.length > 0)
    return { pin: newest.pin, holds: holds.map(c => current(c, repairs)).sort((a, b) => a.shard - b.shard), repairs, repairing: [...newest.repairing].sort((a, b) => a - b), paid: newest.paid, wrong }
  } finally {
    channels.stop()
  }
}

/**
 * The hold of a slot that several holders answer for: a holder whose slot was repaired away
 * (it failed its proofs, or came back after its grace) still keeps its copy and answers for
 * it, so the one the newest repair record of the slot moved it to wins; else the first heard.
 */
function current (cands: ShardHold[], repairs: RepairRecord[]): ShardHold {
  const mine = repairs.filter(r => r.shard === cands[0]!.shard)
  for (let i = mine.length - 1; i >= 0; i--) {
    const to = cands.find(h => h.holder === mine[i]!.to)
    if (to !== undefined) return to
  }
  return cands.find(h => !mine.some(r => r.from === h.holder)) ?? cands[0]!
}

/**
 * Challenges the holder of shard `hold.shard` for one random chunk of stripe `stripe` and
 * signs the verdict: a wrong, missing or late answer is a failure; no channel to the holder
 * is an `unreachable` failure. Null when the channel closed while the holder was answering:
 * that says nothing of its storage (inconclusive, for the caller to put again or drop).
 */
export async function challengeShard (peer: ShardPeer | undefined, pin: ErasurePin, hold: Pick<ShardHold, 'holder' | 'shard'>, stripe: number, u: number, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }, timeoutMs = 10_000): Promise<ProofVerdict | null> {
  const c = makeChallenge(pin, stripe, hold.shard, u)
  let ok = true
  let reason = ''
  let unreachable = false
  try {
    if (peer === undefined || peer.closed) {
      unreachable = true
      throw ShadwError.PROOF_FAILED('holder unreachable')
    }
    const a = await peer.request({ type: 'challenge', challenge: { root: pin.root, stripe, shard: hold.shard, chunk: c.chunk } }, timeoutMs)
    checkAnswer(pin, c, a.type === 'proof' ? a.answer : null)
  } catch (err) {
    if (err instanceof ShadwError && err.code === 'NODE_CLOSED') return null
    ok = false
    reason = err instanceof Error ? err.message : String(err)
  }
  return signVerdict({ kind: 'shard', drive: pin.drive, target: pin.root, stripe, shard: hold.shard, holder: hold.holder, ok, reason, unreachable, time: Date.now() }, keyPair)
}

/**
 * Proof verdicts: a challenger's signed word on one storage challenge it put to a holder —
 * which part it asked for, and whether the answer proved against the signed pin. Two kinds:
 *
 * - `shard`: one chunk of shard `shard` of stripe `stripe` of the erasure pin whose root is
 *   `target`, checked against the shard hash the signed pin record commits.
 * - `block`: block `stripe` of the log `target` of a replicated pin (`shard` is 0), checked
 *   with its Merkle path against the tree hash the pin names at its length.
 *
 * A verdict is only one node's claim, so nothing acts on one alone: a holder counts as failed
 * while at least a quorum of distinct challengers' latest verdicts on it (for one drive) are
 * failures ({@link proofFailures}). A failure marked `unreachable` (the challenger could not
 * reach the holder at all) counts only while that challenger's latest verdict on some other
 * holder of the drive shows it reached that one: a challenger cut off from everyone (its own
 * network down, or a loopback path that never opens) says nothing about the holders. Challengers append their verdicts to their own storage
 * ledger; whoever reads those ledgers derives the same failed periods, in any reading order.
 *
 * Framing is the shared signed-record codec: tag `0xc4` (which is also the version: a
 * changed layout takes a new tag), compact-encoded fields, an ed25519 signature under its
 * own domain.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import { encodeFields, put } from '../encoding.ts'
import { ShadwError } from '../errors.ts'
import { isHex, isHexKey } from '../hex.ts'
import { SignatureDomain } from '../signature-domain.ts'
import { decodeSigned, encodeSigned, type RecordKind } from './signed-codec.ts'

/** First byte of an encoded verdict (storage receipts 0xc1, key releases 0xc2). */
export const VERDICT_TAG = 0xc4
/** Signature domain: a verdict's signature never passes for any other record's. */
export const VERDICT_DOMAIN = 'shadw/proof-verdict/v1'
/** Characters of the reason kept: enough for an error message, bounded for the ledger. */
export const MAX_REASON_CHARS = 200
/** A verdict is at most about 1 KiB (four keys, a few integers, a reason of up to 800 UTF-8 bytes). */
export const MAX_VERDICT_BYTES = 1024
/** Distinct challengers whose latest verdict must be a failure to fail a holder. */
export const DEFAULT_PROOF_QUORUM = 2

/**
 * The outcome byte. Verdicts from before unreachability was told apart carry only 0 and 1,
 * which keep their meaning, so the layout (and the tag) stays.
 */
const OUTCOME_FAILED = 0
const OUTCOME_OK = 1
const OUTCOME_UNREACHABLE = 2

/** What was challenged (see the module comment). */
export type ProofKind = 'shard' | 'block'
const KINDS: readonly ProofKind[] = ['shard', 'block']

/** The signed fields of a verdict. Keys are lowercase hex. */
export interface ProofVerdictBody {
  kind: ProofKind
  drive: string
  /** the erasure pin's root (`shard`) or the log's key (`block`) */
  target: string
  /** the stripe (`shard`) or the block index (`block`) */
  stripe: number
  /** the shard slot (`shard`); 0 for `block` */
  shard: number
  holder: string
  challenger: string
  ok: boolean
  /** why it failed ('' when ok), at most {@link MAX_REASON_CHARS} characters */
  reason: string
  /** a failure because the challenger had no connection to the holder (never true when ok) */
  unreachable: boolean
  /** when the challenger judged, ms since the epoch */
  time: number
}

/** A verdict with the challenger's signature (128 hex). */
export interface ProofVerdict extends ProofVerdictBody { signature: string }

const SIGNATURE = new SignatureDomain(VERDICT_DOMAIN)

function bad (why: string): never {
  throw ShadwError.VERDICT_INVALID(why)
}

function uint (v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(`${what} must be a non-negative integer`)
  return v
}

/** The canonical fields of an untrusted object (a peer's message, a JSON file). @throws ShadwError `VERDICT_INVALID` */
function canonical (v: unknown): ProofVerdictBody {
  if (typeof v !== 'object' || v === null) bad('verdict is not an object')
  const r = v as Record<string, unknown>
  if (!KINDS.includes(r.kind as ProofKind)) bad('kind must be shard or block')
  for (const f of ['drive', 'target', 'holder', 'challenger'] as const) if (!isHexKey(r[f])) bad(`${f} must be 64 hex characters`)
  if (typeof r.ok !== 'boolean' || typeof r.reason !== 'string') bad('ok must be a boolean and reason a string')
  if (r.challenger === r.holder) bad('a holder cannot judge itself')
  if (r.unreachable !== undefined && typeof r.unreachable !== 'boolean') bad('unreachable must be a boolean')
  if (r.ok && r.unreachable === true) bad('a passed proof cannot be unreachable')
  return { kind: r.kind as ProofKind, drive: r.drive as string, target: r.target as string, stripe: uint(r.stripe, 'stripe'), shard: uint(r.shard, 'shard'), holder: r.holder as string, challenger: r.challenger as string, ok: r.ok, reason: r.reason.slice(0, MAX_REASON_CHARS), unreachable: r.unreachable === true, time: uint(r.time, 'time') }
}

function body (r: ProofVerdictBody): Uint8Array {
  return encodeFields((s, pre) => {
    put(s, pre, c.uint8, VERDICT_TAG)
    put(s, pre, c.uint8, KINDS.indexOf(r.kind))
    put(s, pre, c.fixed32, b4a.from(r.drive, 'hex'))
    put(s, pre, c.fixed32, b4a.from(r.target, 'hex'))
    put(s, pre, c.uint, r.stripe)
    put(s, pre, c.uint, r.shard)
    put(s, pre, c.fixed32, b4a.from(r.holder, 'hex'))
    put(s, pre, c.fixed32, b4a.from(r.challenger, 'hex'))
    put(s, pre, c.uint8, r.ok ? OUTCOME_OK : r.unreachable ? OUTCOME_UNREACHABLE : OUTCOME_FAILED)
    put(s, pre, c.string, r.reason)
    put(s, pre, c.uint, r.time)
  })
}

/**
 * Signs a verdict with the challenger's node key pair.
 *
 * @example
 * ```ts
 * const v = signVerdict({ kind: 'shard', drive, target: pin.root, stripe, shard, holder, ok: false, reason: 'no answer', time: Date.now() }, node.keyPair)
 * await storageLedger.append([encodeVerdict(v)])
 * ```
 */
export function signVerdict (b: Omit<ProofVerdictBody, 'challenger' | 'unreachable'> & { unreachable?: boolean }, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }): ProofVerdict {
  const r = canonical({ ...b, challenger: b4a.toString(keyPair.publicKey, 'hex') })
  return { ...r, signature: b4a.toString(SIGNATURE.sign(body(r), keyPair.secretKey), 'hex') }
}

/** Checks a verdict from a peer, a log or a file: its fields and the challenger's signature. @throws ShadwError `VERDICT_INVALID` */
export function verifyVerdict (v: unknown): ProofVerdict {
  const r = canonical(v)
  if ((v as { reason: string }).reason !== r.reason) bad(`reason longer than ${MAX_REASON_CHARS} characters`)
  const signature = (v as { signature?: unknown }).signature
  if (!isHex(signature, 64)) bad('signature must be 128 hex characters')
  if (!SIGNATURE.verify(body(r), b4a.from(signature, 'hex'), b4a.from(r.challenger, 'hex'))) bad('challenger signature does not verify')
  return { ...r, signature }
}

const KIND: RecordKind = { tag: VERDICT_TAG, name: 'proof verdict', maxBytes: MAX_VERDICT_BYTES, bad }

/** Encoded form for a ledger: body then the 64-byte signature. */
export function encodeVerdict (r: ProofVerdict): Uint8Array {
  return encodeSigned(KIND, body(canonical(r)), r.signature)
}

/** Decodes a verdict (structure only; see {@link verifyVerdict}). @throws ShadwError `VERDICT_INVALID` */
export function decodeVerdict (bytes: Uint8Array): ProofVerdict {
  return decodeSigned<ProofVerdict>(KIND, bytes, s => {
    const hex = (b: Uint8Array): string => b4a.toString(b, 'hex')
    const kind = KINDS[c.uint8.decode(s)]
    if (kind === undefined) bad('unknown kind')
    return {
      kind,
      drive: hex(c.fixed32.decode(s)),
      target: hex(c.fixed32.decode(s)),
      stripe: c.uint.decode(s),
      shard: c.uint.decode(s),
      holder: hex(c.fixed32.decode(s)),
      challenger: hex(c.fixed32.decode(s)),
      ...outcome(c.uint8.decode(s)),
      reason: c.string.decode(s),
      time: c.uint.decode(s)
    }
  }, encodeVerdict)
}

/** A stretch of time a holder counted as failed for a drive; `to` null while it still is. */
export interface FailedPeriod { holder: string, drive: string, from: number, to: number | null }

/** challenger → its latest verdict, per holder of one drive */
type Latest = Map<string, Map<string, ProofVerdict>>

/** True when `challenger`'s latest verdict on some holder of the drive other than `holder` shows it reached that one. */
function reachesAnother (latest: Latest, challenger: string, holder: string): boolean {
  for (const [h, byChallenger] of latest) {
    if (h === holder) continue
    const v = byChallenger.get(challenger)
    if (v !== undefined && !v.unreachable) return true
  }
  return false
}

/** Distinct challengers whose latest verdict on `holder` is a failure that counts (see the module comment). */
function failing (latest: Latest, holder: string): number {
  let n = 0
  for (const v of latest.get(holder)?.values() ?? []) {
    if (!v.ok && (!v.unreachable || reachesAnother(latest, v.challenger, holder))) n++
  }
  return n
}

/**
 * The periods each holder counted as failed, per drive: from the verdict that brought the
 * counted failures among distinct challengers' latest verdicts to `quorum`, to the one that
 * brought them below it. Verdicts must already be verified; copies count once (the latest
 * per challenger is what matters). Ordered by verdict time, ties by challenger, so every
 * reader of the same verdicts gets the same periods.
 */
export function proofFailures (verdicts: Iterable<ProofVerdict>, quorum = DEFAULT_PROOF_QUORUM): FailedPeriod[] {
  const drives = new Map<string, ProofVerdict[]>()
  for (const v of verdicts) {
    const g = drives.get(v.drive)
    if (g === undefined) drives.set(v.drive, [v])
    else g.push(v)
  }
  const out: FailedPeriod[] = []
  for (const group of drives.values()) {
    group.sort((a, b) => a.time - b.time || cmp(a.challenger, b.challenger) || cmp(a.signature, b.signature))
    const latest: Latest = new Map()
    const open = new Map<string, FailedPeriod>()
    for (const v of group) {
      const byChallenger = latest.get(v.holder) ?? new Map<string, ProofVerdict>()
      byChallenger.set(v.challenger, v)
      latest.set(v.holder, byChallenger)
      // this verdict can change the count on its holder, and (through its challenger's reach)
      // on every other holder that challenger judged: nothing else moved
      for (const [holder, judged] of latest) {
        if (holder !== v.holder && !judged.has(v.challenger)) continue
        const failed = failing(latest, holder) >= quorum
        const period = open.get(holder)
        if (failed && period === undefined) {
          const p: FailedPeriod = { holder, drive: v.drive, from: v.time, to: null }
          open.set(holder, p)
          out.push(p)
        } else if (!failed && period !== undefined) {
          period.to = v.time
          open.delete(holder)
        }
      }
    }
  }
  return out.sort((a, b) => cmp(a.holder, b.holder) || cmp(a.drive, b.drive) || a.from - b.from)
}

/**
 * True when at least `quorum` distinct challengers' latest verdicts on `holder` (for this
 * drive) are failures that count. `verdicts` are the drive's verdicts on all its holders (a
 * challenger's reach shows in its verdicts on the others); they must already be verified.
 */
export function holderFailed (verdicts: Iterable<ProofVerdict>, drive: string, holder: string, quorum = DEFAULT_PROOF_QUORUM): boolean {
  const mine = [...verdicts].filter(v => v.drive === drive)
  return proofFailures(mine, quorum).some(p => p.holder === holder && p.to === null)
}

function outcome (n: number): { ok: boolean, unreachable: boolean } {
  if (n > OUTCOME_UNREACHABLE) bad(`outcome must be 0, 1 or 2, got ${n}`)
  return { ok: n === OUTCOME_OK, unreachable: n === OUTCOME_UNREACHABLE }
}

function cmp (a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

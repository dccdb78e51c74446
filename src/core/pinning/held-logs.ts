/**
 * A holder's pins on its own storage: a local log of `pin`, `signed` and `drop` records
 * (replayed on start, so a restarted holder resumes what it held and what it was fetching,
 * and still countersigns the agreement a pin came with once it holds it), and the fetch
 * of one pin: replicate every log to its pinned length, then check each against the tree hash
 * the pin names. Hypercore verifies every block against the writer's signed tree as it
 * arrives; the tree hash ties that tree to the exact version the pinner asked for.
 */
import b4a from 'b4a'
import type Hypercore from 'hypercore'
import { ShadwError } from '../errors.ts'
import { parseStorageOrder, verifyReplacementOffer, verifyStandingOrder, type ReplacementOffer, type StandingOrder, type StorageOrder } from '../ledger/index.ts'
import { isHexKey } from '../hex.ts'
import type { ShadwNode } from '../node/index.ts'
import { parsePinRequest, pinBytes, type PinRequest } from './pin-request.ts'

/** Local name of the holder's record of its pins. */
export const PIN_INDEX_NAME = 'shadw-pinning-index'

/** What a pin was taken at: who asked (owes the storage receipts), the price agreed (µcredits per GiB-month) and for serving (per MiB). */
export interface PinTerms { pinner: string, price: number, servePrice?: number }

/**
 * What a pin came with: the pinner's order for this holder or a repairer's replacement
 * offer (countersigned into the ledger once the pin is held), and the pinner's standing
 * order (kept, so this holder can pay the holders it re-pins onto).
 */
export interface PinAgreement { order?: StorageOrder, replacement?: ReplacementOffer, standing?: StandingOrder }

/** One record of the pin index: `signed` once the pin's agreement is countersigned into the ledger. */
type PinRecord = { op: 'pin', request: PinRequest, terms?: PinTerms, agreement?: PinAgreement } | { op: 'signed', drive: string } | { op: 'drop', drive: string }

/** What a holder needs of its node. */
export type HolderNode = Pick<ShadwNode, 'createLog' | 'append' | 'get' | 'logInfo' | 'follow' | 'download' | 'session' | 'waitForLength' | 'joinTopic' | 'publicKey' | 'on' | 'connections' | 'status' | 'forget'>

/** The pins a holder's index holds now, replayed from its records (last word per drive wins). */
export class PinIndex {
  readonly #node: HolderNode
  #key: string | null = null
  /** the terms of each pin replayed by {@link open} (absent for pins recorded before terms were) */
  readonly terms = new Map<string, PinTerms>()
  /** the agreement of each pin replayed, with `signed` set once it was countersigned */
  readonly agreements = new Map<string, PinAgreement & { signed: boolean }>()

  constructor (node: HolderNode) {
    this.#node = node
  }

  /**
   * Replays the index: the pins to hold, by drive. The index log is made on the first pin,
   * so a node that never held anything has no log for it.
   */
  async open (): Promise<Map<string, PinRequest>> {
    const pins = new Map<string, PinRequest>()
    const info = this.#node.status().logs.find(l => l.name === PIN_INDEX_NAME && l.writable)
    if (info === undefined) return pins
    this.#key = info.key
    for (let i = 0; i < info.length; i++) {
      const block = await this.#node.get(info.key, i, { wait: false })
      if (block === null) continue
      let r: PinRecord
      try { r = JSON.parse(b4a.toString(block)) as PinRecord } catch { continue }
      if (r.op === 'pin') {
        try { const req = parsePinRequest(r.request); pins.set(req.drive, req) } catch { continue }
        const t = r.terms
        if (t !== undefined && isHexKey(t.pinner) && Number.isSafeInteger(t.price) && t.price >= 0) this.terms.set(r.request.drive, { pinner: t.pinner, price: t.price, ...(Number.isSafeInteger(t.servePrice) && (t.servePrice as number) >= 0 ? { servePrice: t.servePrice } : {}) })
        this.agreements.set(r.request.drive, { ...replayAgreement(r.agreement), signed: false })
      } else if (r.op === 'signed') {
        const a = this.agreements.get(r.drive)
        if (a !== undefined) a.signed = true
      } else if (r.op === 'drop') pins.delete(r.drive)
    }
    return pins
  }

  async record (r: PinRecord): Promise<void> {
    this.#key ??= (await this.#node.createLog(PIN_INDEX_NAME)).key
    await this.#node.append(this.#key, [b4a.from(JSON.stringify(r))])
  }
}

/** An agreement read back from the index, each part checked again (the index is a file anyone with the disk could edit). */
function replayAgreement (a: PinAgreement | undefined): PinAgreement {
  const out: PinAgreement = {}
  if (typeof a !== 'object' || a === null) return out
  try { if (a.order !== undefined) out.order = parseStorageOrder(a.order) } catch {}
  try { if (a.replacement !== undefined) out.replacement = verifyReplacementOffer(a.replacement) } catch {}
  try { if (a.standing !== undefined) out.standing = verifyStandingOrder(a.standing) } catch {}
  return out
}

/** Hypercore's internal tree, for the roots at a length: their sizes sum to the bytes the signed tree commits to. */
interface TreeRoots { core: { tree: { getRoots (length: number): Promise<Array<{ size: number }>> } } }

/**
 * Fetches every log of `req` to its pinned length and checks it. Before any block is
 * fetched, a log whose signed tree already stands at the pinned length is checked for the
 * byte size the pin claimed (what the budget reserved); after, every log's tree hash and size
 * at the pinned length. Blocks already local are not fetched again (a restart resumes).
 *
 * A failed fetch forgets the logs it followed (their blocks deleted); logs the node held
 * before are left as they were.
 *
 * @throws ShadwError `HOLD_INVALID` for a log that is not the pinned version, `TIMEOUT`
 */
export async function fetchPin (node: HolderNode, req: PinRequest, timeoutMs: number): Promise<void> {
  const had = new Set(node.status().logs.map(l => l.key))
  try {
    await fetchLogs(node, req, timeoutMs)
  } catch (err) {
    // nothing half-written: the logs this pin brought in go, blocks and all
    for (const l of req.logs) if (!had.has(l.key)) await node.forget(l.key).catch(() => {})
    throw err
  }
}

async function fetchLogs (node: HolderNode, req: PinRequest, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  const left = (): number => Math.max(1, deadline - Date.now())
  for (const l of req.logs) await node.follow(l.key)
  for (const l of req.logs) {
    await node.waitForLength(l.key, l.length, left())
    const core = node.session(l.key)
    try {
      await core.ready()
      if (core.length === l.length && core.byteLength !== l.byteLength) throw ShadwError.HOLD_INVALID('log is larger than the pin claimed', { key: l.key, claimed: l.byteLength, signed: core.byteLength })
    } finally {
      await core.close()
    }
  }
  await Promise.all(req.logs.map(async l => await node.download(l.key, { start: 0, end: l.length }, { timeout: left() })))
  for (const l of req.logs) await checkLog(node.session(l.key), l)
}

async function checkLog (core: Hypercore, l: PinRequest['logs'][number]): Promise<void> {
  try {
    await core.ready()
    const hash = b4a.toString(await core.treeHash(l.length), 'hex')
    if (hash !== l.treeHash) throw ShadwError.HOLD_INVALID('log is not the pinned version: tree hash differs', { key: l.key, length: l.length })
    const roots = await (core as unknown as TreeRoots).core.tree.getRoots(l.length)
    const bytes = roots.reduce((s, r) => s + r.size, 0)
    if (bytes !== l.byteLength) throw ShadwError.HOLD_INVALID('log size differs from the pin', { key: l.key, claimed: l.byteLength, signed: bytes })
  } finally {
    await core.close()
  }
}

/** The pin fields of the logs a drive's writer describes (tree hash and size at its length now). */
export async function describeLogs (cores: Hypercore[]): Promise<PinRequest['logs']> {
  const out: PinRequest['logs'] = []
  for (const core of cores) {
    await core.ready()
    if (core.key === null) throw ShadwError.INVALID_LOG_KEY('<log without a key>')
    out.push({ key: b4a.toString(core.key, 'hex'), length: core.length, byteLength: core.byteLength, treeHash: b4a.toString(await core.treeHash(core.length), 'hex') })
  }
  return out
}

export { pinBytes }

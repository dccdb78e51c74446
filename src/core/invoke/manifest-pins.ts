/**
 * The caller's pin of a function's "latest" mounts, made before the call so every redundant
 * executor reads the same version and signs it into its receipt.
 *
 * The caller asks the executors it is already connected to ({@link MountAsker}), not the
 * publisher's registry: a fresh light node reads a registry only once its DHT lookup found a
 * holder, which often comes after the executors answered, while an executor has the function
 * loaded (or loads it for the call anyway). Nothing an executor says is taken on its word:
 * the manifest must carry the publisher's signature and be the function the ref names, and a
 * drive version counts only once this node's own copy of the drive's log reaches it (a root
 * signed by the drive's key: drive-version.ts). A liar can withhold a newer version, never
 * invent one, so the newest verified version wins, over every answer and this node's own view.
 *
 * When no answer verifies (old executors, a function nobody has), the call goes out without
 * the pins and each executor pins its own "latest", as before; its receipt still says which.
 *
 * The same answers carry the block each executor would read the chains of the function's
 * conditions at: a call with redundancy > 1 and no blocks of its own sends the lowest of them
 * to every executor, which each checks is within its tolerance, so all read the same state
 * and sign the same block. The lowest, not the first: every answering executor has it.
 */
import b4a from 'b4a'
import { verifiedVersion, parsePinnedMounts, type DriveHost, type PinnedMount } from '../drive/index.ts'
import { log } from '../log.ts'
import {
  decodeSignedManifest, MANIFEST_DOMAIN, parseFunctionRef, resolveRange, verifyRecord,
  type FunctionManifest, type FunctionRef
} from '../registry/index.ts'
import type { MountVersions } from './call-mounts.ts'

const debug = log('invoke')

/** Executors asked per call: one liar among them cannot hold the pin back, and more only adds load. */
export const MAX_PIN_ASKS = 3
/** Longest the asks and the version checks may take together, whatever the call's deadline. */
export const MAX_PIN_MS = 10_000
/**
 * How long the other executors' answers are awaited once one good answer came, ms: an
 * executor with the function loaded answers within a round trip; a silent one is not
 * waited for beyond this.
 */
export const PIN_GRACE_MS = 300
/**
 * How long a function found to have no "latest" mount is not asked about again, ms: calls to
 * it pay no round trip; a new version published with one within this time is pinned by its
 * executors instead, as before.
 */
export const NO_LATEST_TTL_MS = 30_000
/** Most functions remembered as having no "latest" mount, and as having no chain to pin. */
const MAX_REMEMBERED = 1024

/** How the pins reach executors: the endpoint's peers and its own executor. */
export interface MountAsker {
  /** executors to ask about a call, best first (at most `n`) */
  executors (n: number): string[]
  /**
   * asks `key` about `ref`; rejects with a typed error, or TIMEOUT after `timeoutMs`.
   * `client`: the gateway's HTTP client the call is for, charged for this node's own lookup
   */
  ask (key: string, ref: string, timeoutMs: number, signal?: AbortSignal, client?: string): Promise<MountVersions>
}

/** Options of {@link ManifestPins}. */
export interface ManifestPinsOptions {
  asker: MountAsker
  /** where this node opens drives' logs to check a version; absent, no mount is pinned (blocks still are) */
  drives?: DriveHost
  now: () => number
}

/** Pins the manifest mounts of this node's calls. */
export class ManifestPins {
  readonly #asker: MountAsker
  readonly #drives: DriveHost | undefined
  readonly #now: () => number
  /** ref → until when it is known to have no "latest" mount */
  readonly #noLatest = new Map<string, number>()
  /** ref → until when it is known to name no chain an executor would pin (as long as {@link #noLatest}) */
  readonly #noChain = new Map<string, number>()

  constructor (opts: ManifestPinsOptions) {
    this.#asker = opts.asker
    this.#drives = opts.drives
    this.#now = opts.now
  }

  /**
   * The mounts a call of `ref` sends: each "latest" mount of its manifest pinned (unless the
   * invocation mounts something at its path itself), then the invocation's own `requested`.
   * Returns `requested` as it is when there is nothing to pin or nothing verified.
   * `client`: the gateway's HTTP client the call is for (see {@link MountAsker.ask}).
   * @throws `MOUNT_INVALID` when the pins and the invocation's mounts together are too many
   */
  async pin (ref: string, requested: PinnedMount[] | undefined, budgetMs: number, signal?: AbortSignal, client?: string): Promise<PinnedMount[] | undefined> {
    return (await this.pinCall(ref, requested, { mounts: true, blocks: false }, budgetMs, signal, client)).mounts
  }

  /**
   * {@link pin} when `want.mounts` (and this node checks drives), and with `want.blocks` (a call
   * with redundancy > 1 that pins no block itself) one block per chain of the function's
   * conditions for every executor, from the same answers; nothing asked when neither is wanted.
   * `client`: whom the executors charge the question to (a gateway's HTTP client).
   * @throws `MOUNT_INVALID` as {@link pin}
   */
  async pinCall (ref: string, requested: PinnedMount[] | undefined, want: { mounts: boolean, blocks: boolean }, budgetMs: number, signal?: AbortSignal, client?: string): Promise<{ mounts: PinnedMount[] | undefined, blocks?: Record<string, bigint> }> {
    const none = { mounts: requested }
    let fnRef: FunctionRef
    try {
      fnRef = parseFunctionRef(ref)
    } catch {
      // the call refuses the ref itself, with its own error
      return none
    }
    const mounts = want.mounts && this.#drives !== undefined && !this.#known(this.#noLatest, ref)
    const blocks = want.blocks && !this.#known(this.#noChain, ref)
    if (!mounts && !blocks) return none
    const window = Math.min(budgetMs, MAX_PIN_MS)
    const end = this.#now() + window
    // half the time for the answers, the rest for checking the versions they name
    const found = await this.#ask(ref, fnRef, end - Math.floor(window / 2), signal, client)
    if (found === null) return none
    const heads = lowestBlocks(found.blocks)
    const pinned = blocks && heads !== undefined ? { blocks: heads } : {}
    const taken = new Set((requested ?? []).map(m => m.path))
    const latest = (found.manifest.mounts ?? []).map((m, i) => ({ m, i })).filter(({ m }) => m.version === 'latest')
    if (latest.length === 0) this.#remember(this.#noLatest, ref)
    if (heads === undefined) this.#remember(this.#noChain, ref)
    const drives = this.#drives
    if (latest.length === 0 || drives === undefined || !mounts) return { ...none, ...pinned }
    const pins: PinnedMount[] = []
    await Promise.all(latest.filter(({ m }) => !taken.has(m.path)).map(async ({ m, i }) => {
      const claims = found.answers.map(a => a[i] ?? 0).filter(v => v > 0)
      const version = await verifiedVersion(drives, m.drive, claims, Math.max(0, end - this.#now()))
      if (version < 1) { debug('no verified version of drive', m.drive.slice(0, 8), 'claims', claims); return }
      pins.push({ drive: m.drive, version, path: m.path, ...(m.from === undefined ? {} : { from: m.from }) })
    }))
    if (pins.length === 0) return { ...none, ...pinned }
    // the executor orders mounts by the manifest: this order is for people reading requests
    pins.sort((a, b) => a.path < b.path ? -1 : 1)
    return { mounts: parsePinnedMounts([...pins, ...(requested ?? [])]), ...pinned }
  }

  /**
   * Asks up to {@link MAX_PIN_ASKS} executors; keeps the answers whose manifest the
   * publisher signed for the function `fnRef` names, and of those the newest manifest
   * version in its range (the one executors resolve now) with every answer for it.
   */
  async #ask (ref: string, fnRef: FunctionRef, end: number, signal?: AbortSignal, client?: string): Promise<{ manifest: FunctionManifest, answers: number[][], blocks: Array<Record<string, string>> } | null> {
    const keys = this.#asker.executors(MAX_PIN_ASKS)
    if (keys.length === 0) return null
    const timeoutMs = Math.max(1, end - this.#now())
    const good: Array<{ manifest: FunctionManifest, versions: number[], blocks?: Record<string, string> }> = []
    // every answer, or the first good one and a short grace for the rest: a silent executor
    // must not hold every call back for the whole window
    await new Promise<void>(resolve => {
      let left = keys.length
      let grace: ReturnType<typeof setTimeout> | undefined
      const done = (): void => { clearTimeout(grace); resolve() }
      const window = setTimeout(done, timeoutMs)
      for (const key of keys) {
        this.#asker.ask(key, ref, timeoutMs, signal, client).then(answer => {
          const manifest = checkManifest(answer, fnRef)
          if (manifest === null) { debug('mounts answer of', key.slice(0, 8), 'does not verify'); return }
          good.push({ manifest, versions: answer.versions, ...(answer.blocks === undefined ? {} : { blocks: answer.blocks }) })
          if (grace === undefined) grace = setTimeout(() => { clearTimeout(window); done() }, PIN_GRACE_MS)
        }, (err: Error) => {
          debug('mounts query to', key.slice(0, 8), 'failed:', err.message)
        }).finally(() => {
          if (--left === 0) { clearTimeout(window); done() }
        }).catch(() => {})
      }
    })
    const newest = resolveRange(good.map(g => g.manifest.version), fnRef.range)
    const same = good.filter(g => g.manifest.version === newest)
    const first = same[0]
    return first === undefined ? null : { manifest: first.manifest, answers: same.map(g => g.versions), blocks: same.flatMap(g => g.blocks === undefined ? [] : [g.blocks]) }
  }

  #known (map: Map<string, number>, ref: string): boolean {
    const until = map.get(ref)
    return until !== undefined && until > this.#now()
  }

  #remember (map: Map<string, number>, ref: string): void {
    map.delete(ref)
    map.set(ref, this.#now() + NO_LATEST_TTL_MS)
    if (map.size > MAX_REMEMBERED) map.delete(map.keys().next().value as string)
  }
}

/**
 * Per chain, the lowest block the answers name (every one of those executors has it; each
 * checks it is recent enough), over the chains the first answer with blocks names; undefined
 * when none names any. Blocks are checked decimal numbers (protocol.ts).
 */
function lowestBlocks (answers: Array<Record<string, string>>): Record<string, bigint> | undefined {
  const first = answers[0]
  if (first === undefined) return undefined
  const out: Record<string, bigint> = {}
  for (const chain of Object.keys(first)) {
    let low: bigint | undefined
    for (const a of answers) {
      const v = Object.hasOwn(a, chain) ? a[chain] : undefined
      if (v === undefined) continue
      const b = BigInt(v)
      if (low === undefined || b < low) low = b
    }
    if (low !== undefined) out[chain] = low
  }
  return Object.keys(out).length === 0 ? undefined : out
}

/**
 * The manifest of an answer when the publisher of `fnRef` signed it for that function and
 * a version in its range, with one version per mount; else null. Limits and yanks are the
 * executor's to check: this only decides what to pin.
 */
function checkManifest (answer: MountVersions, fnRef: FunctionRef): FunctionManifest | null {
  try {
    const signed = decodeSignedManifest(answer.manifest)
    const m = signed.manifest
    if (m.publisher !== fnRef.publisher.toLowerCase() || m.name !== fnRef.name || resolveRange([m.version], fnRef.range) === null) return null
    if (!verifyRecord(MANIFEST_DOMAIN, signed, b4a.from(m.publisher, 'hex'))) return null
    if (answer.versions.length !== (m.mounts?.length ?? 0)) return null
    return m
  } catch {
    return null
  }
}

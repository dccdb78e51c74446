/**
 * One invocation from the caller's side: `k` executor slots run at once on distinct peers;
 * a slot whose executor drops, refuses with a retryable code or misses its attempt deadline
 * moves to another peer while the caller's deadline allows. Each result's receipt is
 * checked (signature, executor = the peer we asked, nonce, input and output hashes) before
 * it counts; the quorum then decides.
 */
import b4a from 'b4a'
import { ShadwError, type ErrorCode } from '../errors.ts'
import { parseFunctionRef, satisfiesRange, type FunctionRef } from '../registry/index.ts'
import type { PinnedMount } from '../drive/index.ts'
import { sha256 } from '../sha256.ts'
import { MAX_INPUT_BYTES, MAX_PINNED_CHAINS, MAX_REDUNDANCY, NONCE_BYTES, type RequestMessage, type ResultMessage } from './protocol.ts'
import { decideQuorum, majority, type QuorumDecision, type SlotOutcome, type VerifiedResult } from './quorum.ts'
import { openReceipt, type VerifiedRoots } from '../ledger/index.ts'
import { authCall } from '../access/index.ts'

/** Default time a caller gives a call, ms. */
export const DEFAULT_INVOKE_DEADLINE_MS = 10_000
/**
 * Share of the remaining time one attempt gets when another executor could take over: an
 * executor that stays silent (no drop, no answer) leaves the rest for a retry.
 */
export const ATTEMPT_SHARE = 0.5
/** Failures another executor may not repeat: its connection, load, capacity or honesty. */
export const RETRYABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'BUSY', 'EXECUTOR_CLOSED', 'TIMEOUT', 'INTERNAL', 'FUNCTION_NOT_FOUND', 'RECEIPT_INVALID', 'INVOKE_PROTOCOL', 'LIT_UNAVAILABLE', 'NODE_CLOSED',
  // prices differ per executor (their utilisation): a cheaper one may take the call
  'SPENDING_CAP_EXCEEDED',
  // chain endpoints and read budgets are per executor: another may have a working one
  'CHAIN_UNCONFIGURED', 'CHAIN_RPC_FAILED', 'CHAIN_RPC_DISAGREE', 'CHAIN_RATE_LIMITED',
  // a memory budget is an executor's own: another may have room for the request
  'MEMORY_BUDGET_EXCEEDED',
  // an executor accepts auth for its own app's domain: another, served from the domain the
  // tenant signed for, accepts it (the refusal comes before the nonce is spent)
  'AUTH_WRONG_DOMAIN',
  // a publisher names the executors it trusts with its function's secrets: one of them may take the call
  'EXECUTOR_NOT_TRUSTED'
])

/** Options of one invocation. */
export interface InvokeOptions {
  /** ms the caller waits in total (default {@link DEFAULT_INVOKE_DEADLINE_MS}) */
  deadline?: number
  /** executors that run the call (default 1) */
  redundancy?: number
  /** matching results needed (default: a majority of `redundancy`) */
  quorum?: number
  /** the tenant's Lit AuthSig (SIWE), for gated functions */
  auth?: unknown
  signal?: AbortSignal
  /** the call's nonce (default: the call the auth is bound to, `shadw:call:`, else 32 random bytes); reusing one is refused as a replay */
  nonce?: Uint8Array
  /** the most the tenant pays each executor for this call, µcredits (docs/pricing.md); a pricier executor refuses before any work */
  maxCharge?: number
  /**
   * reveal this call's input to light nodes so they re-execute it and co-sign (or refute) its
   * receipts: `true`, or the share of calls audited, in [0, 1] (docs/pricing.md, "Audits").
   * Off by default: a gated function's input may be private.
   */
  audit?: boolean | number
  /**
   * chain → block to read the function's conditions at: every executor of the call reads the
   * same chain state, so they decide alike (each still refuses a pin ahead of its head or too
   * old, `CHAIN_BLOCK_INVALID`)
   */
  blocks?: Readonly<Record<string, bigint>>
  /**
   * the drives the call runs over, each pinned to a version (`pinMounts` pins a manifest's
   * "latest"): the manifest's mounts and the invocation's own. Every receipt must name them.
   */
  mounts?: PinnedMount[]
  /**
   * ask executors for the function's "latest" mounts and pin them here, checked, before the
   * call (manifest-pins.ts; only on an endpoint given `drives`). Default true; false when the
   * caller pinned them itself
   */
  pinManifest?: boolean
  /**
   * who asked this node's gateway for the call (an HTTP client's address): a function lookup
   * it starts on this node's own executor counts against that client's share, not the node's
   */
  client?: string
}

/** An accepted invocation. */
export interface InvokeResult extends QuorumDecision {
  /** attempts made, retries included */
  attempts: number
}

/** What the call needs from the endpoint. */
export interface CallTransport {
  /** the best peer not in `exclude` for a call that mounts `drives` (throws BUSY / NO_EXECUTORS) */
  pick (exclude: ReadonlySet<string>, drives?: readonly string[]): { key: string }
  /** true when more than `reserve` peers outside `exclude` could take a call now (default 0: any one) */
  hasAlternative (exclude: ReadonlySet<string>, reserve?: number): boolean
  /**
   * waits (at most `timeoutMs`) for an executor outside `exclude` that is on its way back (its
   * connection replaced or dropped a moment ago), or with `arrivals` for any executor outside
   * `exclude` to connect; true when one is there. Absent: never waits
   */
  rejoin? (exclude: ReadonlySet<string>, timeoutMs: number, signal: AbortSignal | undefined, arrivals?: boolean): Promise<boolean>
  /** sends a request to `key`; rejects with a typed error, or TIMEOUT after `timeoutMs`; `signal`: the caller's, when it gave one */
  request (key: string, req: Omit<RequestMessage, 'type' | 'id'>, timeoutMs: number, signal: AbortSignal | undefined, client?: string): Promise<ResultMessage>
  randomBytes (n: number): Uint8Array
  now (): number
  /** batch roots already verified: the other receipts of a batch cost hashes only */
  verifiedRoots?: VerifiedRoots
}

/**
 * @throws ShadwError `INVALID_ARGUMENT`, `INPUT_TOO_LARGE` (before anything is sent),
 *   `BUSY`, `NO_EXECUTORS`, `DEADLINE_EXCEEDED`, `ABORTED`, `QUORUM_FAILED`, or the code
 *   a quorum of executors agreed on (`TRAP`, `AUTH_MALFORMED`, …).
 */
export async function runCall (t: CallTransport, ref: string, input: Uint8Array, opts: InvokeOptions = {}): Promise<InvokeResult> {
  const k = opts.redundancy ?? 1
  // refused here, before anything is sent; receipts are checked against it below
  const fnRef = parseFunctionRef(ref)
  if (!Number.isInteger(k) || k < 1 || k > MAX_REDUNDANCY) throw ShadwError.INVALID_ARGUMENT(`redundancy must be 1-${MAX_REDUNDANCY}`)
  const quorum = opts.quorum ?? majority(k)
  if (!Number.isInteger(quorum) || quorum < 1 || quorum > k) throw ShadwError.INVALID_ARGUMENT(`quorum must be 1-${k}`)
  if (!(input instanceof Uint8Array)) throw ShadwError.INVALID_ARGUMENT('input must be bytes')
  if (input.byteLength > MAX_INPUT_BYTES) throw ShadwError.INPUT_TOO_LARGE(input.byteLength, MAX_INPUT_BYTES)
  const budget = opts.deadline ?? DEFAULT_INVOKE_DEADLINE_MS
  if (!Number.isSafeInteger(budget) || budget < 1) throw ShadwError.INVALID_ARGUMENT('deadline must be a positive number of ms')
  // an auth bound to a call names its nonce: executors and key holders check the two agree
  const bound = opts.nonce === undefined && opts.auth !== undefined ? authCall(opts.auth) : null
  const nonce = opts.nonce ?? (bound === null ? t.randomBytes(NONCE_BYTES) : b4a.from(bound, 'hex'))
  if (!(nonce instanceof Uint8Array) || nonce.byteLength !== NONCE_BYTES) throw ShadwError.INVALID_ARGUMENT(`nonce must be ${NONCE_BYTES} bytes`)
  if (opts.maxCharge !== undefined && (!Number.isSafeInteger(opts.maxCharge) || opts.maxCharge < 0)) throw ShadwError.INVALID_ARGUMENT('maxCharge must be a non-negative integer (µcredits)')
  const blocks = opts.blocks === undefined ? undefined : wireBlocks(opts.blocks)
  opts.signal?.throwIfAborted()
  const auth = opts.auth === undefined ? null : JSON.stringify(opts.auth)
  const deadline = t.now() + budget
  const inputHash = sha256(input)
  const nonceHex = b4a.toString(nonce, 'hex')
  // every slot asks distinct executors: one peer answering twice is not two opinions
  const tried = new Set<string>()
  // only a caller's signal aborts a call: without one, no controller (one per call showed in
  // the caller's profile)
  const abort = opts.signal === undefined ? null : new AbortController()
  const signal = abort?.signal
  const onAbort = (): void => { abort?.abort(ShadwError.ABORTED('invocation aborted')) }
  opts.signal?.addEventListener('abort', onAbort, { once: true })
  let attempts = 0
  // slots that have not asked anyone yet: each will take a peer of its own, so a peer they
  // are about to take is no alternative for the others (with k executors and k slots, none is)
  let unstarted = k
  // slots that found no executor at all: once fewer than a quorum of slots could still answer, a call fails without the next
  let starved = 0
  // the router prefers executors that hold the data the call reads
  const drives = [...new Set((opts.mounts ?? []).map(m => m.drive))]

  const slot = async (): Promise<SlotOutcome> => {
    let last: Extract<SlotOutcome, { ok: false }> | null = null
    // a slot waits once for a reconnecting executor: a user's two executors must not become
    // one because a connection was being replaced at the moment of the call
    let waited = false
    unstarted--
    for (;;) {
      const left = deadline - t.now()
      if (signal?.aborted === true) return failure(null, signal.reason)
      if (left <= 0) return last !== null && last.code !== 'TIMEOUT' ? last : failure(null, new ShadwError('DEADLINE_EXCEEDED', `no result within the deadline of ${budget} ms`, { details: { deadline: budget } }))
      let key: string
      try {
        key = t.pick(tried, drives).key
      } catch (err) {
        if (!waited && t.rejoin !== undefined && (err as ShadwError).code === 'NO_EXECUTORS') {
          waited = true
          // a fresh node hears the swarm's executors one by one: when the other slots already
          // took some and the quorum cannot be reached without this slot, an executor yet to
          // connect is worth waiting for, as one reconnecting is (the call fails otherwise)
          const arrivals = last === null && tried.size > 0 && k - starved - 1 < quorum
          // half the time left at most: the call needs the rest
          if (await t.rejoin(tried, Math.floor(left / 2), signal, arrivals)) continue
        }
        if (last === null) starved++
        // nobody left: the previous executor's error says more than "nobody left"
        return last ?? failure(null, err)
      }
      tried.add(key)
      attempts++
      // cut short only when another executor is left to take over: otherwise a slow executor
      // would be cancelled and the rest of the caller's time go unused
      const attemptMs = t.hasAlternative(tried, unstarted) ? Math.max(1, Math.floor(left * ATTEMPT_SHARE)) : left
      try {
        const attemptDeadline = t.now() + attemptMs
        const res = await t.request(key, { ref, input, nonce, deadline: attemptDeadline, redundancy: k, auth, ...(opts.maxCharge === undefined ? {} : { maxCharge: opts.maxCharge }), ...(blocks === undefined ? {} : { blocks }), ...(opts.mounts === undefined ? {} : { mounts: opts.mounts }) }, attemptMs, signal, opts.client)
        return { ok: true, result: verifyResult(res, key, { fn: fnRef, inputHash, inputBytes: input.byteLength, nonce: nonceHex, deadline: attemptDeadline, maxCharge: opts.maxCharge, blocks, mounts: opts.mounts }, t.verifiedRoots) }
      } catch (err) {
        last = failure(key, err)
        if (!RETRYABLE.has(last.code)) return last
      }
    }
  }

  try {
    const outcomes = await Promise.all(Array.from({ length: k }, slot))
    if (signal?.aborted === true) throw signal.reason
    return { ...decideQuorum(outcomes, quorum), attempts }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort)
  }
}

function failure (executor: string | null, err: unknown): Extract<SlotOutcome, { ok: false }> {
  const e = err instanceof ShadwError ? err : ShadwError.INTERNAL(err instanceof Error ? err.message : String(err))
  return { ok: false, executor, code: e.code, message: e.message }
}

/** What the caller sent, which the executor's receipt must repeat. */
interface Sent {
  fn: FunctionRef
  inputHash: string
  inputBytes: number
  nonce: string
  /** the attempt's deadline the request carried */
  deadline: number
  maxCharge: number | undefined
  /** the caller's pins, decimal */
  blocks: Record<string, string> | undefined
  mounts: PinnedMount[] | undefined
}

/** The caller's pins as the wire carries them; a bad one is the caller's own `INVALID_ARGUMENT`. */
function wireBlocks (blocks: Readonly<Record<string, bigint>>): Record<string, string> {
  const entries = Object.entries(blocks)
  if (entries.length === 0 || entries.length > MAX_PINNED_CHAINS) throw ShadwError.INVALID_ARGUMENT(`pin blocks on 1-${MAX_PINNED_CHAINS} chains`)
  for (const [chain, block] of entries) {
    if (typeof block !== 'bigint' || block < 0n || chain.length === 0) throw ShadwError.INVALID_ARGUMENT(`pinned block of ${chain} must be a non-negative bigint`)
  }
  return Object.fromEntries(entries.map(([chain, block]) => [chain, block.toString()]))
}

function verifyResult (res: ResultMessage, executor: string, sent: Sent, roots: VerifiedRoots | undefined): VerifiedResult {
  const receipt = openReceipt(res.receipt, roots)
  const mismatch = (what: string): never => { throw ShadwError.RECEIPT_INVALID(`receipt ${what}`, { executor }) }
  if (receipt.executor !== executor) mismatch('is signed by another key than the executor asked')
  // the version ran must be one the caller's range allows, of the function asked for
  const at = receipt.fn.lastIndexOf('@')
  if (receipt.fn.slice(0, at) !== `${sent.fn.publisher}/${sent.fn.name}` || !satisfiesRange(receipt.fn.slice(at + 1), sent.fn.range)) mismatch(`names another function (${receipt.fn.slice(0, 200)})`)
  if (receipt.nonce !== sent.nonce) mismatch('names another nonce')
  if (receipt.inputHash !== sent.inputHash) mismatch('names another input')
  if (receipt.outputHash !== sha256(res.output)) mismatch('does not match the output')
  // the receipt's own arithmetic is checked when it is opened; what it is applied to is the
  // caller's to check: a later deadline would hide lateness, more bytes or a total over the
  // cap would bill for what did not happen
  if (receipt.deadline !== sent.deadline) mismatch('names another deadline than the request')
  if (receipt.bytes !== sent.inputBytes + res.output.byteLength) mismatch(`counts ${receipt.bytes} bytes moved, not ${sent.inputBytes + res.output.byteLength}`)
  // an executor that read another block than the caller pinned decided on other chain state
  for (const { chain, block } of receipt.chainBlocks ?? []) {
    const pinned = sent.blocks !== undefined && Object.hasOwn(sent.blocks, chain) ? sent.blocks[chain] : undefined
    if (pinned !== undefined && String(block) !== pinned) mismatch(`read ${chain} at block ${block}, not the pinned ${pinned}`)
  }
  if (sent.maxCharge !== undefined && receipt.total > sent.maxCharge) mismatch(`charges ${receipt.total} µcredits, over the cap of ${sent.maxCharge}`)
  // each drive the caller pinned must be named at its version (the manifest may add more first)
  for (const m of sent.mounts ?? []) {
    if (receipt.mounts?.some(r => r.drive === m.drive && r.version === m.version) !== true) mismatch(`does not name drive ${m.drive} at version ${m.version}`)
  }
  return { output: res.output, receipt, ledger: { key: b4a.toString(res.ledgerKey, 'hex'), index: res.ledgerIndex } }
}

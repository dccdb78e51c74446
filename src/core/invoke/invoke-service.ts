/**
 * The executor side of invocation: takes a request from a peer, refuses what it must
 * (full, replayed, expired, oversized, unauthorized) before running anything, loads and
 * verifies the function, runs it in the sandbox, signs a receipt with the node key and
 * appends it to the node's ledger log.
 */
import b4a from 'b4a'
import { AccessGate } from '../access/index.ts'
import { ShadwError } from '../errors.ts'
import { keyToHex } from '../keys.ts'
import { log } from '../log.ts'
import { charge, type PriceQuote } from '../pricing/index.ts'
import type { LoadedFunction } from '../registry/index.ts'
import type { Executor } from '../sandbox/index.ts'
import { afterBurst } from './after-burst.ts'
import { sha256 } from '../sha256.ts'
import { NonceSet } from './nonce-set.ts'
import type { RequestMessage } from './protocol.ts'
import { MAX_RECEIPT_BATCH, UNPRICED, VerifiedRoots, type SignedReceipt } from '../ledger/index.ts'
import { prepareReceipt, signReceiptBatch, type PendingReceipt } from '../ledger/index.ts'

const debug = log('invoke-service')

/**
 * How long a loaded function is reused without asking the registry again. A registry that
 * grows (a yank, a new version) drops its functions at once when the host reports it
 * ({@link InvokeService.invalidate}); this bounds staleness when nothing reports.
 */
export const FUNCTION_CACHE_TTL_MS = 5_000
/** Most functions kept loaded: module bytes are up to 32 MiB, so the cache stays small. */
const FUNCTION_CACHE_ENTRIES = 64
/** A request's auth JSON parses to at most this depth (a Lit AuthSig is flat). */
const AUTH_DEPTH_LIMIT = 4

/** What the service needs to load functions (FunctionLoader implements it). */
export interface FunctionSource {
  load (ref: string, opts?: { signal?: AbortSignal }): Promise<LoadedFunction>
}

/**
 * Where receipts go: the node's ledger log. The service must be its only writer while it
 * runs (see {@link InvokeService.close}): it gives a receipt its block index before the
 * append completes.
 */
export interface Ledger {
  /** the ledger log's public key */
  readonly key: Uint8Array
  /**
   * appends blocks in order; resolves to the log's new length. Rejects with a typed storage
   * error where the host can tell (`STORAGE_FULL`, …); anything else counts as `STORAGE_UNAVAILABLE`.
   */
  append (blocks: Uint8Array[]): Promise<number>
}

/** Options of {@link InvokeService}. */
export interface InvokeServiceOptions {
  executor: Executor
  functions: FunctionSource
  /** the node's swarm key pair: receipts are signed with it */
  keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }
  ledger: Ledger
  /** default: a gate for domain `shadw.local` */
  gate?: AccessGate
  /** calls taken at once (default: twice the executor's workers, so each has one queued) */
  slots?: number
  /** the contributor's CPU budget, percent (default 100) */
  cpuBudget?: number
  nonces?: NonceSet
  now?: () => number
  /** how long a loaded function is reused, ms (default {@link FUNCTION_CACHE_TTL_MS}) */
  functionCacheMs?: number
}

/** What a successful execution gives back to the channel. */
export interface ServiceResult {
  output: Uint8Array
  receipt: SignedReceipt
  encodedReceipt: Uint8Array
  ledgerIndex: number
}

interface Recorded { receipt: SignedReceipt, bytes: Uint8Array, index: number }

/** The executor side; one per node, shared by all its channels. */
export class InvokeService {
  readonly slots: number
  readonly cpuBudget: number
  readonly ledgerKey: Uint8Array
  /** the executor's node key, hex (receipts name it) */
  readonly publicKey: string
  /**
   * Batch roots this node signed or verified: its own receipts are never verified again,
   * and the endpoint checks the receipts of its calls against it.
   */
  readonly verifiedRoots = new VerifiedRoots()
  readonly #opts: InvokeServiceOptions
  readonly #gate: AccessGate
  readonly #nonces: NonceSet
  readonly #now: () => number
  /** loaded functions by the ref asked for; `publisher` once known (a ref may be a local alias) */
  readonly #functions = new Map<string, { fn: Promise<LoadedFunction>, at: number, publisher?: string }>()
  readonly #functionTtl: number
  #active = 0
  /** receipts waiting for the ledger append in flight to finish (group commit) */
  #queued: Array<{ pending: PendingReceipt, resolve (r: Recorded): void, reject (err: unknown): void }> = []
  #appending = false
  /** index the next receipt's block gets; null until the first append told the ledger's length */
  #nextIndex: number | null = null
  /** set when a ledger append failed: the service then refuses every call */
  #ledgerError: ShadwError | null = null
  /** set by {@link close}: no call is admitted from then on */
  #closing: Promise<void> | null = null
  /** woken whenever a call settles or a group commit ends: {@link close} waits on them */
  #settled: Array<() => void> = []
  /** told when the service stops taking calls (closed, or its ledger failed) */
  readonly #onstop = new Set<() => void>()
  /** executions the service started (tests use it to prove a refusal ran nothing) */
  executions = 0

  constructor (opts: InvokeServiceOptions) {
    this.#opts = opts
    this.slots = opts.slots ?? Math.max(1, opts.executor.size * 2)
    this.cpuBudget = opts.cpuBudget ?? 100
    if (!Number.isSafeInteger(this.slots) || this.slots < 1) throw ShadwError.INVALID_ARGUMENT('slots must be a positive integer')
    this.#now = opts.now ?? Date.now
    this.#functionTtl = opts.functionCacheMs ?? FUNCTION_CACHE_TTL_MS
    this.#gate = opts.gate ?? new AccessGate({ domain: 'shadw.local', now: this.#now })
    this.#nonces = opts.nonces ?? new NonceSet({ now: this.#now })
    this.ledgerKey = opts.ledger.key
    this.publicKey = keyToHex(opts.keyPair.publicKey)
  }

  /** Calls it would take now: none once closing or once its ledger failed. */
  get free (): number {
    return this.#taking ? Math.max(0, this.slots - this.#active) : 0
  }

  /**
   * Slots it advertises: {@link slots} while it takes calls, 0 once closing or once its
   * ledger failed, so routers stop choosing it (its instant refusals would otherwise look
   * like a fast peer).
   */
  get total (): number {
    return this.#taking ? this.slots : 0
  }

  /** Calls running now (admitted, not yet answered): the utilisation prices are set from. */
  get running (): number {
    return this.#active
  }

  /** The failure of the ledger write that stopped this service (`STORAGE_FULL`, …); null while none failed. */
  get ledgerError (): ShadwError | null {
    return this.#ledgerError
  }

  get #taking (): boolean {
    return this.#closing === null && this.#ledgerError === null
  }

  /**
   * Calls `listener` once when the service stops taking calls (closed, or its ledger failed),
   * so the endpoint advertises no room at once. Returns the unsubscribe.
   */
  onstop (listener: () => void): () => void {
    this.#onstop.add(listener)
    return () => { this.#onstop.delete(listener) }
  }

  /**
   * Stops taking calls (`EXECUTOR_CLOSED` from then on), lets the calls already admitted
   * finish, and resolves once every receipt they signed is in the ledger (or its append
   * failed). Nothing of this service writes to the ledger after that, so another service (a
   * contributor's switch) or a closing node may take the log over. The host ends the calls
   * in flight (closing its endpoint and executor) for this to resolve soon. Safe to call twice.
   */
  close (): Promise<void> {
    if (this.#closing === null) {
      const wasTaking = this.#taking
      this.#closing = this.#drain()
      if (wasTaking) this.#stopped()
    }
    return this.#closing
  }

  async #drain (): Promise<void> {
    // each wait ends when a call settles or a group commit ends, and both always do
    while (this.#active > 0 || this.#appending) await new Promise<void>(resolve => { this.#settled.push(resolve) })
  }

  #wake (): void {
    const settled = this.#settled
    this.#settled = []
    for (const resolve of settled) resolve()
  }

  #stopped (): void {
    for (const listener of [...this.#onstop]) {
      try { listener() } catch (err) { debug('onstop listener failed', err) }
    }
  }

  /**
   * Runs one request from `caller` (hex node key).
   *
   * @throws ShadwError `BUSY`, `REQUEST_REPLAYED`, `DEADLINE_EXCEEDED`, `INPUT_TOO_LARGE`,
   *   the loader's codes, the access gate's codes, the executor's codes, `ABORTED`;
   *   `EXECUTOR_CLOSED` once closing, and once a ledger write failed (its message names the
   *   storage failure, {@link ledgerError}): a code callers retry on another executor.
   */
  async handle (req: RequestMessage, caller: string, signal: AbortSignal): Promise<ServiceResult> {
    if (this.#ledgerError !== null) throw this.#refusal()
    if (this.#closing !== null) throw ShadwError.EXECUTOR_CLOSED('this executor is closing')
    if (this.#active >= this.slots) throw ShadwError.BUSY(this.#active)
    this.#nonces.use(req.nonce, req.deadline)
    this.#active++
    try {
      return await this.#run(req, caller, signal)
    } finally {
      this.#active--
      this.#wake()
    }
  }

  async #run (req: RequestMessage, caller: string, signal: AbortSignal): Promise<ServiceResult> {
    const fn = await this.#load(req.ref, signal)
    const m = fn.manifest
    // refused before any work: the manifest's input ceiling is the publisher's word
    if (req.input.byteLength > m.limits.maxInputBytes) throw ShadwError.INPUT_TOO_LARGE(req.input.byteLength, m.limits.maxInputBytes)
    const price = this.admit(fn, req)
    const grant = await this.#gate.authorize({
      fn: { publisher: m.publisher, name: m.name, version: m.version },
      access: m.access,
      ...(m.authDomains === undefined ? {} : { domains: m.authDomains }),
      auth: parseAuth(req.auth),
      signal
    })
    const left = req.deadline - this.#now()
    if (left <= 0) throw new ShadwError('DEADLINE_EXCEEDED', 'the request deadline passed before execution', { details: { deadline: req.deadline } })
    signal.throwIfAborted()
    this.executions++
    const result = await this.#opts.executor.execute({
      module: fn.module,
      abi: m.abi,
      input: req.input,
      // redundant executors derive the same seed from the shared nonce, so they agree
      seed: new DataView(req.nonce.buffer, req.nonce.byteOffset, 4).getUint32(0),
      limits: { ...m.limits, deadlineMs: Math.max(1, Math.min(m.limits.deadlineMs, left)) }
    }, { signal })
    const moved = req.input.byteLength + result.output.byteLength
    const pending = prepareReceipt({
      fn: `${m.publisher}/${m.name}@${m.version}`,
      manifestSignature: fn.signature,
      moduleHash: m.moduleHash,
      inputHash: sha256(req.input),
      outputHash: sha256(result.output),
      fuel: result.fuelUsed,
      executor: this.publicKey,
      tenant: grant.address ?? caller,
      time: this.#now(),
      nonce: b4a.toString(req.nonce, 'hex'),
      deadline: req.deadline,
      bytes: moved,
      price,
      total: charge(price, result.fuelUsed, moved)
    })
    const { receipt, bytes, index } = await this.#record(pending)
    debug('ran', receipt.fn, 'fuel', receipt.fuel, 'for', receipt.tenant.slice(0, 10))
    return { output: result.output, receipt, encodedReceipt: bytes, ledgerIndex: index }
  }

  /**
   * Prices a call at admission, once its function is loaded and before any work; a refusal
   * here (e.g. `SPENDING_CAP_EXCEEDED`) runs nothing. The quote goes into the receipt. This
   * service does not price: every receipt says price 0, total 0 (see `PricedInvokeService`).
   */
  protected admit (_fn: LoadedFunction, _req: RequestMessage): PriceQuote {
    return UNPRICED
  }

  /**
   * Signs a receipt and queues it for the ledger; resolves to it, its encoding and the index
   * of its ledger block. While one append runs, receipts queue and go in the next append
   * together (group commit): one receipt signature over the batch's Merkle root, one ledger
   * Merkle tree update and signature per batch instead of per call, and no added wait when
   * calls come one by one. The first receipt of a burst waits for the rest of it
   * ({@link afterBurst}).
   *
   * The ledger write is pipelined: a receipt is final once signed (it proves itself, and the
   * tenant holds it), and its block index is known then, since only this service appends to
   * the ledger and appends are serial — so the caller gets its result while the append runs,
   * not after. Whoever writes the ledger next waits for {@link close}. If an append fails,
   * the receipts it carried are not in the ledger: the executor loses their credit and
   * reputation, nobody else loses anything, and the service refuses every later call
   * ({@link ledgerError}) rather than sign work it cannot record. Only the first append is
   * awaited: it tells the ledger's length.
   */
  #record (pending: PendingReceipt): Promise<Recorded> {
    return new Promise((resolve, reject) => {
      this.#queued.push({ pending, resolve, reject })
      if (!this.#appending) {
        this.#appending = true
        afterBurst(() => { void this.#flush() })
      }
    })
  }

  async #flush (): Promise<void> {
    while (this.#queued.length > 0) {
      const batch = this.#queued.splice(0, MAX_RECEIPT_BATCH)
      let signed: Array<{ receipt: SignedReceipt, bytes: Uint8Array }>
      try {
        if (this.#ledgerError !== null) throw this.#refusal()
        signed = signReceiptBatch(batch.map(b => b.pending), this.#opts.keyPair.secretKey, this.verifiedRoots)
      } catch (err) {
        for (const b of batch) b.reject(err)
        continue
      }
      const blocks = signed.map(s => s.bytes)
      const settle = (base: number): void => { batch.forEach((b, i) => { b.resolve({ ...(signed[i] as { receipt: SignedReceipt, bytes: Uint8Array }), index: base + i }) }) }
      const base = this.#nextIndex
      if (base === null) {
        try {
          const length = await this.#opts.ledger.append(blocks)
          this.#nextIndex = length
          settle(length - batch.length)
        } catch (err) {
          // the same stop as a pipelined failure; these calls, not yet answered, fail retryably
          this.#fail(err)
          for (const b of batch) b.reject(this.#refusal())
        }
        continue
      }
      this.#nextIndex = base + batch.length
      settle(base)
      // an append hashes and signs before its first await: let the results leave first
      await new Promise<void>(resolve => { afterBurst(resolve) })
      try {
        const length = await this.#opts.ledger.append(blocks)
        // a bug: every other writer of this log is refused (the bridge) or waits for close()
        if (length !== base + batch.length) throw ShadwError.INTERNAL(`the ledger is ${length} blocks long, ${base + batch.length} expected: something else appends to it`)
      } catch (err) {
        this.#fail(err)
      }
    }
    this.#appending = false
    this.#wake()
  }

  /** What a call gets once the ledger failed: retryable elsewhere, the storage failure named. */
  #refusal (): ShadwError {
    return ShadwError.EXECUTOR_CLOSED(`this executor takes no calls: its ledger cannot be written (${this.#ledgerError?.message ?? 'unknown failure'})`)
  }

  #fail (err: unknown): void {
    if (this.#ledgerError !== null) return
    const wasTaking = this.#taking
    this.#ledgerError = ledgerWriteError(err)
    debug('ledger append failed; refusing calls from now on:', this.#ledgerError.message)
    if (wasTaking) this.#stopped()
  }

  /**
   * Forgets the loaded functions of `publisher` (hex key), so the next call asks its registry
   * again: the host calls it when that registry's log grows (a yank or a new version arrived).
   */
  invalidate (publisher: string): void {
    const prefix = `${publisher}/`
    for (const [ref, e] of this.#functions) if (e.publisher === publisher || ref.startsWith(prefix)) this.#functions.delete(ref)
  }

  async #load (ref: string, signal: AbortSignal): Promise<LoadedFunction> {
    const now = this.#now()
    const hit = this.#functions.get(ref)
    if (hit !== undefined && now - hit.at < this.#functionTtl) return await hit.fn
    if (this.#functions.size >= FUNCTION_CACHE_ENTRIES) {
      for (const [k, v] of this.#functions) if (now - v.at >= this.#functionTtl || this.#functions.size >= FUNCTION_CACHE_ENTRIES) this.#functions.delete(k)
    }
    const fn = this.#opts.functions.load(ref, { signal })
    const entry: { fn: Promise<LoadedFunction>, at: number, publisher?: string } = { fn, at: now }
    this.#functions.set(ref, entry)
    fn.then(f => { entry.publisher = f.manifest.publisher }, () => { if (this.#functions.get(ref)?.fn === fn) this.#functions.delete(ref) })
    return await fn
  }
}

/** A failed ledger append as a typed error: the host's own (`STORAGE_FULL`, …) kept, anything else `STORAGE_UNAVAILABLE`. */
function ledgerWriteError (err: unknown): ShadwError {
  return err instanceof ShadwError ? err : ShadwError.STORAGE_UNAVAILABLE(`the ledger cannot be written: ${err instanceof Error ? err.message : String(err)}`, err)
}

function parseAuth (auth: string | null): unknown {
  if (auth === null) return undefined
  let value: unknown
  try {
    value = JSON.parse(auth)
  } catch {
    throw ShadwError.AUTH_MALFORMED('auth is not JSON')
  }
  if (depth(value) > AUTH_DEPTH_LIMIT) throw ShadwError.AUTH_MALFORMED('auth is nested too deeply')
  return value
}

function depth (v: unknown): number {
  if (typeof v !== 'object' || v === null) return 0
  let d = 0
  for (const x of Object.values(v)) { d = Math.max(d, depth(x)); if (d > AUTH_DEPTH_LIMIT) break }
  return d + 1
}

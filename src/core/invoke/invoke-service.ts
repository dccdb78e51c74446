/**
 * The executor side of invocation: takes a request from a peer, refuses what it must
 * (full, replayed, expired, oversized, unauthorized, over the tenant's spending cap) before
 * running anything, loads and verifies the function, runs it in the sandbox, and hands its
 * receipt (priced when the service has `pricing`) to the node's {@link LedgerWriter}.
 */
import b4a from 'b4a'
import { AccessGate, type AccessGrant } from '../access/index.ts'
import { withinMs } from '../abort.ts'
import { ShadwError } from '../errors.ts'
import { mark } from '../trace.ts'
import { keyToHex } from '../keys.ts'
import { log } from '../log.ts'
import { charge, checkPricing, quote, type PriceQuote, type PricingConfig } from '../pricing/index.ts'
import type { LoadedFunction } from '../registry/index.ts'
import type { Executor } from '../sandbox/index.ts'
import { sha256 } from '../sha256.ts'
import { CallMounts, mountVersions, withMounts, type CallMountsResult, type MountVersions } from './call-mounts.ts'
import { checkTrusted, fetchCallKeys, needsKeys, type CallKeys } from './call-keys.ts'
import { priceCall } from './call-price.ts'
import { MAX_PIN_MS } from './manifest-pins.ts'
import type { DriveHost } from '../drive/index.ts'
import { NonceSet } from './nonce-set.ts'
import { FunctionCache, type FunctionSource } from './function-cache.ts'
import { parseAuth, pinnedBlocks } from './request-fields.ts'
import type { RequestMessage } from './protocol.ts'
import { LedgerWriter, prepareReceipt, VerifiedRoots, type Ledger, type RecordedReceipt, type SignedReceipt } from '../ledger/index.ts'

const debug = log('invoke-service')

export { FUNCTION_CACHE_TTL_MS, MAX_LOOKUPS, MAX_LOOKUPS_PER_CALLER, type FunctionSource } from './function-cache.ts'

/** Longest a mounts query alone keeps a lookup of a publisher not followed here: past the caller's wait for answers (manifest-pins.ts), so the call that follows finds it still running. */
export const MOUNTS_LOOKUP_MS = MAX_PIN_MS / 2 + 2_000
/** setTimeout's largest delay; a later deadline is waited on in full by the sandbox's own limit. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** Options of {@link InvokeService}. */
export interface InvokeServiceOptions {
  executor: Executor
  functions: FunctionSource
  /** the node's swarm key pair: receipts are signed with it */
  keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }
  /** where receipts go; the service must be its only writer while it runs (see {@link InvokeService.close}) */
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
  /** the node's price curve: calls are priced at admission (default: none, every receipt says price 0, total 0) */
  pricing?: PricingConfig
  /** function lookups in flight at once (default {@link MAX_LOOKUPS}) */
  maxLookups?: number
  /** function lookups in flight at once for one caller (default {@link MAX_LOOKUPS_PER_CALLER}) */
  maxLookupsPerCaller?: number
  /** the node drives are mounted from (default: none, calls with mounts are refused) */
  drives?: DriveHost
  /** fetches the gated keys calls need (secrets, gated mounts); default: none, such calls are refused `EXECUTOR_NOT_TRUSTED` */
  keys?: CallKeys
}

/** What a successful execution gives back to the channel. */
export interface ServiceResult {
  output: Uint8Array
  receipt: SignedReceipt
  encodedReceipt: Uint8Array
  ledgerIndex: number
}

/**
 * The executor side; one per node, shared by all its channels.
 *
 * @example
 * ```ts
 * const service = new InvokeService({ executor, functions, keyPair, ledger, pricing: DEFAULT_PRICING })
 * const endpoint = new InvokeEndpoint({ host: node, tier: 'super', service, quote: () => service.quote })
 * ```
 */
export class InvokeService {
  readonly slots: number
  readonly cpuBudget: number
  readonly ledgerKey: Uint8Array
  /** the price curve calls are priced on; null: this service does not price */
  readonly pricing: PricingConfig | null
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
  /** the functions calls name, loaded once and shared */
  readonly #functions: FunctionCache
  #active = 0
  /** signs the receipts and appends them; once its append failed, the service refuses every call */
  readonly #writer: LedgerWriter
  /** set by {@link close}: no call is admitted from then on */
  #closing: Promise<void> | null = null
  /** woken whenever a call settles: {@link close} waits on them */
  #settled: Array<() => void> = []
  /** told when the service stops taking calls (closed, or its ledger failed) */
  readonly #onstop = new Set<() => void>()
  /** executions the service started (tests use it to prove a refusal ran nothing) */
  executions = 0
  /** the drives calls mount (null: this executor mounts none) */
  readonly mounts: CallMounts | null

  constructor (opts: InvokeServiceOptions) {
    this.#opts = opts
    this.slots = opts.slots ?? Math.max(1, opts.executor.size * 2)
    this.cpuBudget = opts.cpuBudget ?? 100
    if (!Number.isSafeInteger(this.slots) || this.slots < 1) throw ShadwError.INVALID_ARGUMENT('slots must be a positive integer')
    this.#now = opts.now ?? Date.now
    this.mounts = opts.drives === undefined ? null : new CallMounts(opts.drives)
    this.#gate = opts.gate ?? new AccessGate({ domain: 'shadw.local', now: this.#now })
    this.#nonces = opts.nonces ?? new NonceSet({ now: this.#now })
    this.ledgerKey = opts.ledger.key
    this.publicKey = keyToHex(opts.keyPair.publicKey)
    this.#functions = new FunctionCache({
      functions: opts.functions,
      now: this.#now,
      self: this.publicKey,
      ...(opts.functionCacheMs === undefined ? {} : { ttlMs: opts.functionCacheMs }),
      ...(opts.maxLookups === undefined ? {} : { maxLookups: opts.maxLookups }),
      ...(opts.maxLookupsPerCaller === undefined ? {} : { maxLookupsPerCaller: opts.maxLookupsPerCaller })
    })
    this.#writer = new LedgerWriter({
      ledger: opts.ledger,
      secretKey: opts.keyPair.secretKey,
      verifiedRoots: this.verifiedRoots,
      onfail: () => { if (this.#closing === null) this.#stopped() }
    })
    this.pricing = opts.pricing === undefined ? null : checkPricing(opts.pricing)
  }

  /** The price now, for adverts: the node's curve at utilisation = calls running / slots; null when it does not price. */
  get quote (): PriceQuote | null { return this.pricing === null ? null : quote(this.pricing, this.running, this.slots) }

  /** Calls it would take now: none once closing or once its ledger failed. */
  get free (): number { return this.#taking ? Math.max(0, this.slots - this.#active) : 0 }

  /**
   * Slots it advertises: {@link slots} while it takes calls, 0 once closing or once its
   * ledger failed, so routers stop choosing it (its instant refusals would otherwise look
   * like a fast peer).
   */
  get total (): number { return this.#taking ? this.slots : 0 }

  /** Function lookups in flight now, in all or for `caller` (a peer's hex key; `client:…`: an HTTP client of the gateway). */
  lookups (caller?: string): number { return this.#functions.lookups(caller) }

  /** Calls running now (admitted, not yet answered): the utilisation prices are set from. */
  get running (): number { return this.#active }

  /** The failure of the ledger write that stopped this service (`STORAGE_FULL`, …); null while none failed. */
  get ledgerError (): ShadwError | null { return this.#writer.failure }

  get #taking (): boolean { return this.#closing === null && this.#writer.failure === null }

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
    // each wait ends when a call settles, and every call does; its receipt is queued by then
    while (this.#active > 0) await new Promise<void>(resolve => { this.#settled.push(resolve) })
    await this.#writer.close()
    await this.mounts?.close()
  }

  #wake (): void {
    const settled = this.#settled
    this.#settled = []
    for (const resolve of settled) resolve()
  }

  #stopped (): void {
    for (const listener of [...this.#onstop]) try { listener() } catch (err) { debug('onstop listener failed', err) }
  }

  /**
   * Runs one request from `caller` (hex node key).
   *
   * @throws ShadwError `BUSY`, `REQUEST_REPLAYED`, `DEADLINE_EXCEEDED`, `INPUT_TOO_LARGE`,
   *   the loader's codes, the access gate's codes, the executor's codes, `ABORTED`;
   *   `EXECUTOR_CLOSED` once closing, and once a ledger write failed (its message names the
   *   storage failure, {@link ledgerError}): a code callers retry on another executor.
   *   `client`: whom a lookup this call starts is charged to, when not `caller` (this node's
   *   own gateway names each HTTP client, so one client cannot take every lookup).
   *   `signal`: the caller's, or a controller of this call alone, which the service aborts
   *   at the request's deadline.
   */
  async handle (req: RequestMessage, caller: string, signal: AbortSignal | AbortController, client: string = caller): Promise<ServiceResult> {
    if (this.#writer.failure !== null) throw this.#refusal()
    if (this.#closing !== null) throw ShadwError.EXECUTOR_CLOSED('this executor is closing')
    if (this.#active >= this.slots) throw ShadwError.BUSY(this.#active)
    this.#nonces.use(req.nonce, req.deadline)
    // the call lives until its own deadline and no longer, whatever it waits on
    const left = req.deadline - this.#now()
    if (left <= 0) throw deadlinePassed(req.deadline, 'before the call was admitted')
    // a controller of the call's own (the endpoint's, per request) is aborted at the deadline
    // directly; a signal is followed by a controller made here (two per call showed in the
    // executor's profile)
    const call = signal instanceof AbortController ? signal : new AbortController()
    const outer = signal instanceof AbortController ? null : signal
    const onAbort = (): void => { call.abort(outer?.reason) }
    outer?.addEventListener('abort', onAbort, { once: true })
    if (outer?.aborted === true) onAbort()
    const timer = setTimeout(() => { call.abort(deadlinePassed(req.deadline, 'while the call waited')) }, Math.min(left, MAX_TIMER_MS))
    try {
      // the lookup holds no slot: a registry nobody serves costs a lookup, not execution
      // a warm call's function is at hand: no await, no lookup
      const fn = this.#functions.ready(req.ref) ?? await this.#functions.load(req.ref, client, call.signal)
      if (this.#writer.failure !== null) throw this.#refusal()
      if (this.#closing !== null) throw ShadwError.EXECUTOR_CLOSED('this executor is closing')
      if (this.#active >= this.slots) throw ShadwError.BUSY(this.#active)
      this.#active++
      try {
        // the run itself stops at the deadline (the gate and the sandbox take the signal, the
        // sandbox the time left), and its receipt must reach the writer before the slot frees
        return await this.#run(fn, req, caller, call.signal)
      } finally {
        this.#active--
        this.#wake()
      }
    } finally {
      clearTimeout(timer)
      outer?.removeEventListener('abort', onAbort)
    }
  }

  /**
   * What a caller pins before calling `ref` (manifest-pins.ts): its signed manifest and the
   * version of each of its mounts this node knows now, and the block it would read each chain of its conditions at
   * (the caller pins one for all). The lookup is the one the call then reuses, charged to `caller`; it holds no slot.
   * A publisher not followed here is looked up for {@link MOUNTS_LOOKUP_MS} at most. @throws the loader's codes, `TIMEOUT`, `ABORTED`
   */
  async mountVersions (ref: string, caller: string, signal: AbortSignal): Promise<MountVersions> {
    if (this.#closing !== null) throw ShadwError.EXECUTOR_CLOSED('this executor is closing')
    // as a call would (its follow tentative, forgotten when nobody serves it), but a question alone holds it no longer than a caller waits for answers; the call joins it
    const unknown = this.#opts.functions.follows?.(ref) === false && !this.#functions.settled(ref)
    const fn = await (unknown ? withinMs(signal, MOUNTS_LOOKUP_MS, () => ShadwError.TIMEOUT(`lookup of ${ref.slice(0, 16)} for a mounts query`, MOUNTS_LOOKUP_MS), async s => await this.#functions.load(ref, caller, s)) : this.#functions.load(ref, caller, signal))
    const [answer, blocks] = await Promise.all([mountVersions(fn, this.mounts), this.#gate.heads(fn.manifest.access, caller)])
    return Object.keys(blocks).length === 0 ? answer : { ...answer, blocks }
  }

  async #run (fn: LoadedFunction, req: RequestMessage, caller: string, signal: AbortSignal): Promise<ServiceResult> {
    const m = fn.manifest
    // refused before any work: the manifest's input ceiling is the publisher's word
    if (req.input.byteLength > m.limits.maxInputBytes) throw ShadwError.INPUT_TOO_LARGE(req.input.byteLength, m.limits.maxInputBytes)
    // the call counts as running already: its own load is in the price
    const price = priceCall(this.pricing, fn, req, this.running, this.slots)
    const fnId = { publisher: m.publisher, name: m.name, version: m.version }
    // before the auth is spent: an executor the publisher does not trust with its secrets leaves the call to another
    checkTrusted(this.#opts.keys, this.publicKey, `${m.publisher}/${m.name}@${m.version}`, m.secrets, req.mounts)
    const call = needsKeys(m.secrets, req.mounts) ? b4a.toString(req.nonce, 'hex') : undefined
    const auth = parseAuth(req.auth)
    const blocks = req.blocks === undefined ? undefined : pinnedBlocks(req.blocks)
    const grant = await this.#gate.authorize({
      fn: fnId,
      access: m.access,
      policy: await this.#functions.policy(fn),
      ...(m.authDomains === undefined ? {} : { domains: m.authDomains }),
      auth,
      // the caller's pins: every redundant executor reads the same chain state
      ...(blocks === undefined ? {} : { blocks }),
      // a call that fetches keys needs an auth bound to it, which the holders check again
      ...(call === undefined ? {} : { call }),
      signal
    })
    // the call's keys from their holders, at the blocks this gate read: for this call, never the caller's
    const keyed = call === undefined || this.#opts.keys === undefined ? undefined : await fetchCallKeys(this.#opts.keys, m.secrets, req.mounts, { auth, call, signal, leftMs: req.deadline - this.#now(), ...(grant.blocks === undefined ? {} : { blocks: pinnedBlocks(grant.blocks) }) })
    const mounts = keyed?.mounts ?? req.mounts
    // a call over no drive (most) goes straight on, without withMounts' two async layers
    if (m.mounts === undefined && mounts === undefined) return await this.#execute(fn, req, caller, signal, grant, price, undefined, keyed?.env)
    // the drives stay open while the call may read them
    return await withMounts(this.mounts, m, mounts, signal, async mounted => await this.#execute(fn, req, caller, signal, grant, price, mounted, keyed?.env))
  }

  async #execute (fn: LoadedFunction, req: RequestMessage, caller: string, signal: AbortSignal, grant: AccessGrant, price: ReturnType<typeof priceCall>, mounted: CallMountsResult | undefined, env: string[] | undefined): Promise<ServiceResult> {
    const m = fn.manifest
    const left = req.deadline - this.#now()
    if (left <= 0) throw new ShadwError('DEADLINE_EXCEEDED', 'the request deadline passed before execution', { details: { deadline: req.deadline } })
    signal.throwIfAborted()
    this.executions++
    mark('exec.run-start')
    const result = await this.#opts.executor.execute({
      module: fn.module,
      abi: m.abi,
      input: req.input,
      // redundant executors derive the same seed from the shared nonce, so they agree
      seed: new DataView(req.nonce.buffer, req.nonce.byteOffset, 4).getUint32(0),
      limits: { ...m.limits, deadlineMs: Math.max(1, Math.min(m.limits.deadlineMs, left)) },
      ...(env === undefined || env.length === 0 ? {} : { env }),
      ...(mounted === undefined || mounted.preopens.length === 0 ? {} : { preopens: mounted.preopens, files: mounted.files })
    }, { signal })
    mark('exec.run-done')
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
      total: charge(price, result.fuelUsed, moved),
      // the blocks the grant read, so it can be re-checked against the same chain state
      ...(grant.blocks === undefined || Object.keys(grant.blocks).length === 0
        ? {}
        : { chainBlocks: Object.keys(grant.blocks).sort().map(chain => ({ chain, block: Number(grant.blocks?.[chain]) })) }),
      // the drive versions the call read, so anyone can tell which data produced the output
      ...(mounted === undefined || mounted.versions.length === 0 ? {} : { mounts: mounted.versions })
    })
    let recorded: RecordedReceipt
    // answered once its receipt is in the ledger; once a write failed, no call is signed
    try {
      recorded = await this.#writer.record(pending)
    } catch (err) {
      throw err === this.#writer.failure ? this.#refusal() : err
    }
    mark('exec.receipt-recorded')
    const { receipt, bytes, index } = recorded
    debug('ran', receipt.fn, 'fuel', receipt.fuel, 'for', receipt.tenant.slice(0, 10))
    return { output: result.output, receipt, encodedReceipt: bytes, ledgerIndex: index }
  }

  /** What a call gets once the ledger failed: retryable elsewhere, the storage failure named. */
  #refusal (): ShadwError { return ShadwError.EXECUTOR_CLOSED(`this executor takes no calls: its ledger cannot be written (${this.#writer.failure?.message ?? 'unknown failure'})`) }

  /**
   * Forgets the loaded functions of `publisher` (hex key), so the next call asks its registry
   * again: the host calls it when that registry's log grows (a yank or a new version arrived).
   * With its new `length`: a function resolved at that length or later is kept (its own sync grew it).
   */
  invalidate (publisher: string, length?: number): void { this.#functions.invalidate(publisher, length) }
}

function deadlinePassed (deadline: number, when: string): ShadwError { return new ShadwError('DEADLINE_EXCEEDED', `the request deadline passed ${when}`, { details: { deadline } }) }

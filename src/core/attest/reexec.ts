/**
 * Re-execution for a light node: given a receipt and the input a tenant revealed for it (an
 * audit), run the same function version in this node's own sandbox, with the seed every
 * executor derives from the call's nonce and the manifest's limits, and report the output
 * hash and fuel for {@link LightSigner} to compare. Fuel metering is deterministic, so an
 * honest executor's receipt matches exactly.
 */
import b4a from 'b4a'
import { ShadwError, type ErrorCode } from '../errors.ts'
import { log } from '../log.ts'
import type { FunctionSource } from '../invoke/index.ts'
import type { LoadedFunction } from '../registry/index.ts'
import { parseFunctionRef } from '../registry/index.ts'
import type { SignedReceipt } from '../ledger/index.ts'
import { sha256 } from '../sha256.ts'
import type { Executor } from '../sandbox/index.ts'
import type { Rerun } from './light-signer.ts'

const debug = log('reexec')

/**
 * Publishers whose registries one light node follows to re-run calls. The loader keeps every
 * registry it followed (and a receipt can name any publisher), so without a bound each new
 * publisher named in a receipt would cost a registry replicated for good.
 */
export const MAX_RERUN_PUBLISHERS = 256

/**
 * Failures that every executor meets on the same input: the receipt claims a result that
 * cannot exist, so the light node disagrees. Anything else (its own deadline, a pool closing,
 * a registry it cannot reach) says nothing about the executor and it abstains.
 */
const DETERMINISTIC_FAILURES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['FUEL_EXHAUSTED', 'MEMORY_LIMIT', 'TRAP', 'OUTPUT_TOO_LARGE', 'ABI_MISMATCH'])

/** What a rerun needs: the function loader and a sandbox executor of this node. */
export interface ReexecOptions {
  functions: FunctionSource
  executor: Executor
}

/**
 * The seed every executor of a call uses: the first four bytes of its nonce, big-endian (as
 * InvokeService derives it), so clock and random imports give the same values.
 */
export function seedOf (nonceHex: string): number {
  const nonce = b4a.from(nonceHex, 'hex')
  return new DataView(nonce.buffer, nonce.byteOffset, 4).getUint32(0)
}

/**
 * Runs `receipt`'s call again on `input`; null when it cannot tell (function not loadable,
 * another manifest than the receipt names, a failure that is not the executor's).
 */
export async function rerunCall (opts: ReexecOptions, receipt: SignedReceipt, input: Uint8Array, signal?: AbortSignal): Promise<Rerun | null> {
  const fn = await loadFor(opts, receipt, signal)
  return fn === null ? null : await rerunLoaded(opts, fn, receipt, input, signal)
}

/**
 * {@link rerunCall} with a bound on the publishers it follows: a receipt naming a publisher
 * beyond the first {@link MAX_RERUN_PUBLISHERS} it met is not re-run (null, counted).
 *
 * @example
 * ```ts
 * const rerunner = new Rerunner({ functions: loader, executor: sandbox })
 * const mine = await rerunner.run(receipt, input) // null: abstain
 * ```
 */
export class Rerunner {
  readonly #opts: ReexecOptions
  readonly #max: number
  readonly #publishers = new Set<string>()
  /** re-runs refused because their publisher would be one too many */
  refusedPublishers = 0

  constructor (opts: ReexecOptions & { maxPublishers?: number }) {
    this.#opts = opts
    this.#max = opts.maxPublishers ?? MAX_RERUN_PUBLISHERS
  }

  async run (receipt: SignedReceipt, input: Uint8Array, signal?: AbortSignal): Promise<Rerun | null> {
    let publisher: string
    try {
      publisher = parseFunctionRef(receipt.fn).publisher
    } catch {
      return null
    }
    if (!this.#publishers.has(publisher)) {
      // a publisher whose load failed stays counted: the loader may hold its registry all the same
      if (this.#publishers.size >= this.#max) { this.refusedPublishers++; return null }
      this.#publishers.add(publisher)
    }
    return await rerunCall(this.#opts, receipt, input, signal)
  }
}

async function loadFor (opts: ReexecOptions, receipt: SignedReceipt, signal?: AbortSignal): Promise<LoadedFunction | null> {
  try {
    return await opts.functions.load(receipt.fn, signal === undefined ? {} : { signal })
  } catch (err) {
    debug('cannot load', receipt.fn, (err as Error).message)
    return null
  }
}

async function rerunLoaded (opts: ReexecOptions, fn: LoadedFunction, receipt: SignedReceipt, input: Uint8Array, signal?: AbortSignal): Promise<Rerun | null> {
  // the receipt names one signed manifest: a re-published or re-signed one is not the same function
  if (fn.signature !== receipt.manifestSignature || fn.manifest.moduleHash !== receipt.moduleHash) return null
  const m = fn.manifest
  if (input.byteLength > m.limits.maxInputBytes) return { outputHash: 'refused:INPUT_TOO_LARGE', fuel: 0 }
  try {
    const result = await opts.executor.execute({ module: fn.module, abi: m.abi, input, seed: seedOf(receipt.nonce), limits: { ...m.limits } }, signal === undefined ? {} : { signal })
    return { outputHash: sha256(result.output), fuel: result.fuelUsed }
  } catch (err) {
    const code = err instanceof ShadwError ? err.code : (err as { code?: unknown }).code
    if (typeof code === 'string' && DETERMINISTIC_FAILURES.has(code as ErrorCode)) return { outputHash: `failed:${code}`, fuel: 0 }
    debug('rerun of', receipt.fn, 'failed:', (err as Error).message)
    return null
  }
}

/**
 * A light node's side of the signing swarm: given a receipt, it checks the call and signs a
 * verdict. Two ways to check, cheapest first: quorum evidence (signed receipts of other
 * executors for the same call — same function, input and nonce — which agree or not with
 * this one), and, for a sample of receipts or when the evidence is not decisive, running the
 * call again itself. It abstains (returns null) when it could not check: a signature it gives
 * is always backed by a check.
 */
import b4a from 'b4a'
import { log } from '../log.ts'
import { majority } from '../invoke/index.ts'
import { verifyReceipt, type SignedReceipt } from '../ledger/index.ts'
import { signAttestation, type SignedAttestation, type Verdict } from '../ledger/index.ts'

const debug = log('attest')

/** Share of receipts re-executed even when quorum evidence decides: keeps a colluding quorum honest. */
export const DEFAULT_SAMPLE_RATE = 0.1

/** What re-executing a receipt's call gave: the light node's own output hash and fuel. */
export interface Rerun { outputHash: string, fuel: number }

/** Options of {@link LightSigner}. */
export interface LightSignerOptions {
  keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }
  /** runs the receipt's call again (needs its input); absent: quorum evidence only */
  rerun?: (receipt: SignedReceipt) => Promise<Rerun | null>
  /** share of receipts re-executed anyway (default {@link DEFAULT_SAMPLE_RATE}) */
  sampleRate?: number
  random?: () => number
  now?: () => number
}

/**
 * @example
 * ```ts
 * const signer = new LightSigner({ keyPair, rerun: async r => ({ outputHash: sha256(await run(r)), fuel }) })
 * const a = await signer.attest(receipt, otherReceiptsOfTheCall)
 * if (a !== null) await ledger.append([encodeAttestation(a)])
 * ```
 */
export class LightSigner {
  readonly publicKey: string
  readonly #opts: LightSignerOptions
  readonly #random: () => number
  readonly #now: () => number

  constructor (opts: LightSignerOptions) {
    this.#opts = opts
    this.publicKey = b4a.toString(opts.keyPair.publicKey, 'hex')
    this.#random = opts.random ?? Math.random
    this.#now = opts.now ?? Date.now
  }

  /**
   * Checks `receipt` (against `evidence`, or by re-running) and signs a verdict; null = abstain.
   * `evidence` must be receipts read from executors' ledgers, never ones a peer sent: a
   * receipt's signature alone is cheap to make, so receipts from anywhere else could outvote
   * an honest one. `reexec`: re-run whatever the evidence says (a tenant asked for this call
   * to be audited).
   */
  async attest (receipt: SignedReceipt, evidence: readonly SignedReceipt[] = [], reexec = false): Promise<SignedAttestation | null> {
    try {
      verifyReceipt(receipt)
    } catch {
      return null // not a receipt at all: nothing to vouch for or against
    }
    if (receipt.executor === this.publicKey) return null
    let verdict = this.#fromQuorum(receipt, evidence)
    let method: 'quorum' | 'reexec' = 'quorum'
    const sample = this.#random() < (this.#opts.sampleRate ?? DEFAULT_SAMPLE_RATE)
    if ((verdict === null || sample || reexec) && this.#opts.rerun !== undefined) {
      const mine = await this.#opts.rerun(receipt)
      if (mine !== null) {
        verdict = mine.outputHash === receipt.outputHash && mine.fuel === receipt.fuel ? 'agree' : 'disagree'
        method = 'reexec'
      }
    }
    if (verdict === null) return null
    debug(verdict, receipt.fn, 'by', receipt.executor.slice(0, 8), 'via', method)
    return signAttestation(receipt, verdict, method, this.#opts.keyPair, this.#now())
  }

  /** A majority of the call's distinct executors (this one included) agreeing decides; else null. */
  #fromQuorum (receipt: SignedReceipt, evidence: readonly SignedReceipt[]): Verdict | null {
    const byExecutor = new Map<string, string>([[receipt.executor, `${receipt.outputHash}:${receipt.fuel}`]])
    for (const e of evidence) {
      if (e.fn !== receipt.fn || e.nonce !== receipt.nonce || e.inputHash !== receipt.inputHash || byExecutor.has(e.executor)) continue
      try { verifyReceipt(e) } catch { continue }
      byExecutor.set(e.executor, `${e.outputHash}:${e.fuel}`)
    }
    const k = byExecutor.size
    if (k < 2) return null
    const counts = new Map<string, number>()
    for (const v of byExecutor.values()) counts.set(v, (counts.get(v) ?? 0) + 1)
    const mine = counts.get(`${receipt.outputHash}:${receipt.fuel}`) ?? 0
    if (mine >= majority(k)) return 'agree'
    if ([...counts.values()].some(n => n >= majority(k))) return 'disagree'
    return null
  }
}

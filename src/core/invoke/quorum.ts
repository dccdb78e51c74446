/**
 * Deciding what a redundant call returns: results are grouped by what their receipts sign
 * (output hash and fuel); a group with at least `quorum` members is accepted and every
 * executor outside it is recorded as a dissenter. Without such a group the call fails with
 * `QUORUM_FAILED`, carrying every receipt and error as evidence.
 */
import { ShadwError, type ErrorCode } from '../errors.ts'
import type { SignedReceipt } from '../ledger/index.ts'

/** A result whose receipt the caller has verified against the output, input and nonce. */
export interface VerifiedResult {
  output: Uint8Array
  receipt: SignedReceipt
  /** where the executor says it appended the receipt */
  ledger: { key: string, index: number }
}

/** What one executor slot ended with. */
export type SlotOutcome =
  | { ok: true, result: VerifiedResult }
  | { ok: false, executor: string | null, code: ErrorCode, message: string }

/** An accepted call. */
export interface QuorumDecision {
  output: Uint8Array
  /** receipts of the executors that agreed */
  receipts: SignedReceipt[]
  ledgers: Array<{ key: string, index: number }>
  /** receipts of executors that returned another result: recorded, never accepted */
  dissenters: SignedReceipt[]
  /** executors (or slots) that failed with an error */
  failures: Array<{ executor: string | null, code: ErrorCode, message: string }>
}

/** The default quorum of `k` executors: a strict majority. */
export function majority (k: number): number {
  return Math.floor(k / 2) + 1
}

/**
 * @throws ShadwError `QUORUM_FAILED` with `details.groups` (each signed result hash with its
 *   receipts) and `details.failures`; or, when a quorum of executors failed with the same
 *   code (a function that traps traps everywhere), that error.
 */
export function decideQuorum (outcomes: SlotOutcome[], quorum: number): QuorumDecision {
  const groups = new Map<string, VerifiedResult[]>()
  const failures: QuorumDecision['failures'] = []
  for (const o of outcomes) {
    if (!o.ok) { failures.push({ executor: o.executor, code: o.code, message: o.message }); continue }
    const key = `${o.result.receipt.outputHash}:${o.result.receipt.fuel}`
    const group = groups.get(key) ?? []
    group.push(o.result)
    groups.set(key, group)
  }
  const best = [...groups.values()].sort((a, b) => b.length - a.length)[0]
  if (best !== undefined && best.length >= quorum) {
    const first = best[0] as VerifiedResult
    return {
      output: first.output,
      receipts: best.map(r => r.receipt),
      ledgers: best.map(r => r.ledger),
      dissenters: [...groups.values()].filter(g => g !== best).flat().map(r => r.receipt),
      failures
    }
  }
  const byCode = new Map<ErrorCode, number>()
  for (const f of failures) byCode.set(f.code, (byCode.get(f.code) ?? 0) + 1)
  const [code, count] = [...byCode].sort((a, b) => b[1] - a[1])[0] ?? ['INTERNAL' as ErrorCode, 0]
  if (count >= quorum && groups.size === 0) {
    const f = failures.find(x => x.code === code) as QuorumDecision['failures'][number]
    const message = f.message.startsWith(code + ': ') ? f.message.slice(code.length + 2) : f.message
    return fail(new ShadwError(code, message, { details: { failures } }))
  }
  const evidence = {
    quorum,
    groups: [...groups.values()].map(g => ({ outputHash: g[0]?.receipt.outputHash, fuel: g[0]?.receipt.fuel, receipts: g.map(r => r.receipt) })),
    failures
  }
  // the failures' codes in the message: "why" without digging into the details
  const why = failures.length === 0 ? '' : ': ' + [...byCode].map(([c, n]) => n > 1 ? `${c} ×${n}` : c).join(', ')
  return fail(ShadwError.QUORUM_FAILED(`no ${quorum} of ${outcomes.length} executors agreed (${groups.size} distinct results, ${failures.length} failures${why})`, evidence))
}

function fail (err: ShadwError): never {
  throw err
}

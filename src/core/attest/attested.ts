/**
 * When a receipt counts as attested: at least `m` distinct light nodes, out of the `n` the
 * verifier accepts as its signing swarm, signed "agree" over exactly this receipt (its hash,
 * executor, output and fuel). The executor can never attest itself, a signer counts once
 * however often it signs, a forged or moved attestation counts for nothing, and one
 * "disagree" does not veto: m honest signers outvote a liar either way.
 */
import { sha256 } from '../sha256.ts'
import { encodeReceipt, type SignedReceipt } from '../ledger/index.ts'
import { verifyAttestation, type SignedAttestation } from '../ledger/index.ts'

/** The policy of one verifier. */
export interface AttestPolicy {
  /** co-signatures needed */
  m: number
  /** the light nodes whose word counts (hex keys); the n of m-of-n */
  signers: ReadonlySet<string>
}

/** What the verifier found. */
export interface AttestStatus {
  attested: boolean
  /** distinct eligible signers that agree */
  agree: string[]
  /** distinct eligible signers that disagree */
  disagree: string[]
  /** attestations ignored: bad signature, other receipt, not an eligible signer, the executor itself */
  ignored: number
}

/** Counts the valid co-signatures `attestations` carry for `receipt`. */
export function attestStatus (receipt: SignedReceipt, attestations: Iterable<SignedAttestation>, policy: AttestPolicy): AttestStatus {
  const hash = sha256(encodeReceipt(receipt))
  const agree = new Set<string>()
  const disagree = new Set<string>()
  let ignored = 0
  for (const a of attestations) {
    const ok = a.receiptHash === hash && a.executor === receipt.executor && a.outputHash === receipt.outputHash && a.fuel === receipt.fuel &&
      a.signer !== receipt.executor && policy.signers.has(a.signer) && valid(a)
    if (!ok) { ignored++; continue }
    // a signer who said both counts as neither: it is not a witness anyone can lean on
    ;(a.verdict === 'agree' ? agree : disagree).add(a.signer)
  }
  for (const k of [...agree]) if (disagree.has(k)) { agree.delete(k); disagree.delete(k) }
  return { attested: agree.size >= policy.m, agree: [...agree].sort(), disagree: [...disagree].sort(), ignored }
}

function valid (a: SignedAttestation): boolean {
  try {
    verifyAttestation(a)
    return true
  } catch {
    return false
  }
}

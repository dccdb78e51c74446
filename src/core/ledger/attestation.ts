/**
 * Attestations: a light node's signed word on one receipt — it checked the call (by quorum
 * evidence or by running it again) and agrees or disagrees with the result the receipt signs.
 * Appended to the light node's ledger; anyone holding the receipt and the attestations checks
 * them offline. The attestation names the receipt by the SHA-256 of its encoding and repeats
 * the output hash and fuel it vouches for, so it cannot be moved to another result.
 */
import b4a from 'b4a'
import c from 'compact-encoding'
import { ShadwError } from '../errors.ts'
import { receiptHash, type SignedReceipt } from './receipt.ts'
import { encodeFields, put } from '../encoding.ts'
import { isHexKey } from '../hex.ts'
import { SignatureDomain } from '../signature-domain.ts'
import { decodeSigned, encodeSigned, type RecordKind } from './signed-codec.ts'

/** First byte of an encoded attestation (receipts start with their version, 3 or 4; miss records with 0xb1). */
export const ATTESTATION_TAG = 0xa1
/** Signature domain. */
export const ATTESTATION_DOMAIN = 'shadw/attest/v1'
/** An attestation is ~240 bytes. */
export const MAX_ATTESTATION_BYTES = 512

/** What the signer concluded. */
export type Verdict = 'agree' | 'disagree'
/** How it checked: matching receipts of other executors, or its own re-execution. */
export type AttestMethod = 'quorum' | 'reexec'

const VERDICTS: readonly Verdict[] = ['agree', 'disagree']
const METHODS: readonly AttestMethod[] = ['quorum', 'reexec']

/** The signed fields. */
export interface AttestationBody {
  receiptHash: string
  /** the receipt's executor (so reputation can be read without the receipt) */
  executor: string
  /** the receipt's output hash and fuel: what is vouched for */
  outputHash: string
  fuel: number
  /** the light node that signs (64 hex) */
  signer: string
  verdict: Verdict
  method: AttestMethod
  /** ms since the epoch */
  time: number
}

/** An attestation with the signer's signature (128 hex). */
export interface SignedAttestation extends AttestationBody { signature: string }

const ATTESTATION_SIGNATURE = new SignatureDomain(ATTESTATION_DOMAIN)

function bad (why: string): never {
  throw ShadwError.ATTESTATION_INVALID(why)
}

function body (r: AttestationBody): Uint8Array {
  if (typeof r !== 'object' || r === null) bad('attestation is not an object')
  for (const f of ['receiptHash', 'executor', 'outputHash', 'signer'] as const) if (!isHexKey(r[f])) bad(`${f} must be 64 hex characters`)
  if (!VERDICTS.includes(r.verdict)) bad('verdict must be agree or disagree')
  if (!METHODS.includes(r.method)) bad('method must be quorum or reexec')
  if (!Number.isSafeInteger(r.fuel) || r.fuel < 0) bad('fuel must be a non-negative integer')
  if (!Number.isSafeInteger(r.time) || r.time < 0) bad('time must be a non-negative integer')
  return encodeFields((s, pre) => {
    put(s, pre, c.uint8, ATTESTATION_TAG)
    put(s, pre, c.fixed32, b4a.from(r.receiptHash, 'hex'))
    put(s, pre, c.fixed32, b4a.from(r.executor, 'hex'))
    put(s, pre, c.fixed32, b4a.from(r.outputHash, 'hex'))
    put(s, pre, c.uint, r.fuel)
    put(s, pre, c.fixed32, b4a.from(r.signer, 'hex'))
    put(s, pre, c.uint8, VERDICTS.indexOf(r.verdict))
    put(s, pre, c.uint8, METHODS.indexOf(r.method))
    put(s, pre, c.uint, r.time)
  })
}

/** Signs a verdict on `receipt` with a light node's key pair. */
export function signAttestation (receipt: SignedReceipt, verdict: Verdict, method: AttestMethod, keyPair: { publicKey: Uint8Array, secretKey: Uint8Array }, time: number): SignedAttestation {
  const r: AttestationBody = {
    receiptHash: receiptHash(receipt),
    executor: receipt.executor,
    outputHash: receipt.outputHash,
    fuel: receipt.fuel,
    signer: b4a.toString(keyPair.publicKey, 'hex'),
    verdict,
    method,
    time
  }
  return { ...r, signature: b4a.toString(ATTESTATION_SIGNATURE.sign(body(r), keyPair.secretKey), 'hex') }
}

const KIND: RecordKind = { tag: ATTESTATION_TAG, name: 'attestation', maxBytes: MAX_ATTESTATION_BYTES, bad }

/** Encoded form for a ledger: body then the 64-byte signature. */
export function encodeAttestation (r: SignedAttestation): Uint8Array {
  return encodeSigned(KIND, body(r), r.signature)
}

/** Decodes an attestation (structure only). @throws ShadwError `ATTESTATION_INVALID` */
export function decodeAttestation (bytes: Uint8Array): SignedAttestation {
  return decodeSigned<SignedAttestation>(KIND, bytes, s => {
    const hex = (b: Uint8Array): string => b4a.toString(b, 'hex')
    const receiptHash = hex(c.fixed32.decode(s))
    const executor = hex(c.fixed32.decode(s))
    const outputHash = hex(c.fixed32.decode(s))
    const fuel = c.uint.decode(s)
    const signer = hex(c.fixed32.decode(s))
    const verdict = VERDICTS[c.uint8.decode(s)]
    const method = METHODS[c.uint8.decode(s)]
    if (verdict === undefined || method === undefined) bad('unknown verdict or method')
    return { receiptHash, executor, outputHash, fuel, signer, verdict, method, time: c.uint.decode(s) }
  }, encodeAttestation)
}

/** Checks the signer's signature. @throws ShadwError `ATTESTATION_INVALID` */
export function verifyAttestation (r: SignedAttestation): SignedAttestation {
  const b = body(r)
  if (!ATTESTATION_SIGNATURE.verify(b, b4a.from(r.signature, 'hex'), b4a.from(r.signer, 'hex'))) bad('signer signature does not verify')
  return r
}

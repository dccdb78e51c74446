/**
 * Receipts: what an executor signs about one execution, with its node key (the swarm's
 * ed25519 key pair), and appends to its ledger log. A receipt binds the exact function
 * version (its manifest signature and module hash), the input and output (SHA-256), the fuel
 * used, the executor, the tenant, the time, the call's nonce and the deadline the caller
 * gave, and the price: the quote applied, the bytes moved and the total. Anyone holding it
 * can check offline who ran what on which input, whether it was late, and what it cost
 * (`shadw verify-receipt`); credits and reputation are computed from receipts alone.
 *
 * Encoding: a version byte, then the fields in a fixed order with compact-encoding; a
 * receipt decodes only if re-encoding gives the same bytes, so each has exactly one form.
 * A receipt whose total is not exactly what its own price gives for its fuel and bytes does
 * not check: nobody can sign a total the quote does not explain.
 *
 * Two forms: version 3 is signed on its own (ed25519 over the body); version 4 is one of a
 * batch an executor signed at once (ed25519 over the root of a Merkle tree of the batch's
 * bodies, see merkle.ts) and carries its inclusion proof. Both prove the same thing about
 * one execution; a batch costs one signature, and a checker that already verified a batch
 * root checks the batch's other receipts with hashes only ({@link VerifiedRoots}).
 */
import b4a from 'b4a'
import c, { type State } from 'compact-encoding'
import { encodeFields, put } from '../encoding.ts'
import { ShadwError } from '../errors.ts'
import { isHex, isHexKey } from '../hex.ts'
import { charge, MAX_UNIT_PRICE, PPM, type PriceQuote } from '../pricing/index.ts'
import { checkMounts, copyMounts, isMountVersion, readMounts, RECEIPT_MOUNT_BATCH_VERSION, RECEIPT_MOUNT_VERSION, writeMounts, type ReceiptMount } from './receipt-mounts.ts'
import { MERKLE_HASH_BYTES, merkleLeaf, merkleRootFromPath } from './merkle.ts'
import { canonicalString, canonicalUint, encodePlainBody, hexField } from './receipt-codec.ts'
import { DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OUTPUT_BYTES } from '../sandbox/index.ts'
import { sha256 } from '../sha256.ts'
import { SignatureDomain } from '../signature-domain.ts'

/**
 * Version of a receipt signed on its own (first byte). 3: versions 1 and 2 had no price and
 * no deadline; nothing signed with them was ever deployed, so they are refused, not read.
 */
export const RECEIPT_VERSION = 3
/**
 * Signature domain: a receipt signature can never pass for a manifest's or a tombstone's.
 * The version byte is inside every signed body, so the domain needs no bump with it.
 */
export const RECEIPT_DOMAIN = 'shadw/receipt/v1'
/** Version byte of a batch-signed receipt (4: the batch form of version 3). */
export const RECEIPT_BATCH_VERSION = 4
/** Signature domain of a batch root: never passes for a single receipt's signature. */
export const RECEIPT_BATCH_DOMAIN = 'shadw/receipt-batch/v1'
/**
 * Versions 5 and 6 are versions 3 and 4 with the chain reads of the access decision appended
 * (`chainBlocks`: the block each chain was read at). A receipt without chain reads keeps
 * version 3 or 4, byte for byte, so receipts and checkers from before are unchanged.
 */
export const RECEIPT_CHAIN_VERSION = 5
/** The batch form of {@link RECEIPT_CHAIN_VERSION}. */
export const RECEIPT_CHAIN_BATCH_VERSION = 6
/** Most chains one access decision reads: bounds the field. */
export const MAX_RECEIPT_CHAINS = 8
/** A Lit chain name: short ASCII letters and digits. */
const CHAIN_NAME = /^[A-Za-z0-9]{1,32}$/
/** Most receipts signed in one batch: bounds the proof at 8 hashes (a receipt stays near 1 KiB at most). */
export const MAX_RECEIPT_BATCH = 256
/** Audit path length of the largest batch: log2(MAX_RECEIPT_BATCH). */
const MAX_BATCH_PATH = 8
/** Tenant ids are an EIP-55 address (42 chars) or a 64-hex node key; 128 bounds both. */
export const MAX_TENANT_CHARS = 128
/** An exact function id `<64 hex>/<name>@<version>` fits in 256 characters. */
const MAX_FN_CHARS = 256
/** A signed receipt is < 400 bytes; 2 KiB leaves room for long refs and tenant ids. */
export const MAX_RECEIPT_BYTES = 2048
/** Bytes one call can move: the largest input plus the largest output the invocation protocol carries (the sandbox's default ceilings). */
export const MAX_RECEIPT_BYTES_MOVED = DEFAULT_MAX_INPUT_BYTES + DEFAULT_MAX_OUTPUT_BYTES
/** The price an executor that does not price signs: the call is recorded, and costs nothing. */
export const UNPRICED: Readonly<PriceQuote> = Object.freeze({ utilisationPpm: 0, fuelPrice: 0, bytePrice: 0 })

/** The signed fields of a receipt. Hashes and keys are lowercase hex. */
export interface ReceiptBody {
  /** exact function `<publisher>/<name>@<version>` */
  fn: string
  /** the publisher's signature over the manifest (128 hex): names one signed manifest */
  manifestSignature: string
  /** SHA-256 of the module bytes (64 hex) */
  moduleHash: string
  /** SHA-256 of the input (64 hex) */
  inputHash: string
  /** SHA-256 of the output (64 hex) */
  outputHash: string
  fuel: number
  /** executor node key: ed25519 public key (64 hex) */
  executor: string
  /** the tenant: its verified SIWE address, or the calling node's key for public functions */
  tenant: string
  /** ms since the epoch when the executor signed */
  time: number
  /** the call's nonce (64 hex) */
  nonce: string
  /** the deadline the caller's request gave, ms since the epoch: the receipt is late when `time` is after it */
  deadline: number
  /** bytes moved: input + output */
  bytes: number
  /** the quote applied at admission (all 0 from an executor that does not price) */
  price: PriceQuote
  /** µcredits billed: exactly `charge(price, fuel, bytes)` (docs/pricing.md) */
  total: number
  /**
   * the blocks the access decision read, one per chain, sorted by chain name: so the grant
   * can be re-checked later against the same chain state; absent when no chain was read
   */
  chainBlocks?: ChainBlock[]
  /** the drive versions the call read, in the order it mounted them; absent without mounts */
  mounts?: ReceiptMount[]
}

/** One chain read of an access decision. */
export interface ChainBlock {
  /** Lit chain name */
  chain: string
  block: number
}

/** Where a batch-signed receipt sits in its batch: what its inclusion proof needs. */
export interface ReceiptBatchProof {
  /** receipts in the batch (1-{@link MAX_RECEIPT_BATCH}) */
  size: number
  /** this receipt's position, 0-based */
  index: number
  /** audit path, leaf to root: sibling hashes (64 hex each) */
  path: string[]
}

/**
 * A receipt with the executor's signature: over its encoded body (version 3), or, when
 * `batch` is present, over the root of its batch (version 4).
 */
export interface SignedReceipt extends ReceiptBody {
  /** ed25519 signature (128 hex) */
  signature: string
  /** present on a batch-signed receipt */
  batch?: ReceiptBatchProof
}

function bad (why: string): never {
  throw ShadwError.RECEIPT_INVALID(why)
}

function checkBody (r: ReceiptBody, hexDecoded = false): void {
  if (typeof r !== 'object' || r === null) bad('receipt is not an object')
  if (typeof r.fn !== 'string' || r.fn.length === 0 || r.fn.length > MAX_FN_CHARS) bad('fn must be 1-256 characters')
  if (!hexDecoded) {
    if (!isHex(r.manifestSignature, 64)) bad('manifestSignature must be 128 hex characters')
    for (const f of ['moduleHash', 'inputHash', 'outputHash', 'executor', 'nonce'] as const) {
      if (!isHexKey(r[f])) bad(`${f} must be 64 hex characters`)
    }
  }
  if (!Number.isSafeInteger(r.fuel) || r.fuel < 0) bad('fuel must be a non-negative integer')
  if (typeof r.tenant !== 'string' || r.tenant.length === 0 || r.tenant.length > MAX_TENANT_CHARS) bad(`tenant must be 1-${MAX_TENANT_CHARS} characters`)
  if (!Number.isSafeInteger(r.time) || r.time < 0) bad('time must be a non-negative integer')
  if (!Number.isSafeInteger(r.deadline) || r.deadline < 0) bad('deadline must be a non-negative integer')
  if (!Number.isSafeInteger(r.bytes) || r.bytes < 0 || r.bytes > MAX_RECEIPT_BYTES_MOVED) bad(`bytes must be an integer 0-${MAX_RECEIPT_BYTES_MOVED}`)
  const p = r.price
  if (typeof p !== 'object' || p === null) bad('price is not an object')
  if (!Number.isSafeInteger(p.utilisationPpm) || p.utilisationPpm < 0 || p.utilisationPpm > PPM) bad(`price.utilisationPpm must be an integer 0-${PPM}`)
  for (const f of ['fuelPrice', 'bytePrice'] as const) {
    if (!Number.isSafeInteger(p[f]) || p[f] < 0 || p[f] > MAX_UNIT_PRICE) bad(`price.${f} must be an integer 0-${MAX_UNIT_PRICE}`)
  }
  // a total above 2^53 never equals a safe integer, so this also bounds it
  if (!Number.isSafeInteger(r.total) || r.total !== charge(p, r.fuel, r.bytes)) bad(`total ${String(r.total)} is not what the receipt's price gives for its fuel and bytes`)
  if (r.mounts !== undefined) checkMounts(r.mounts)
  if (r.chainBlocks !== undefined) {
    const list = r.chainBlocks
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_RECEIPT_CHAINS) bad(`chainBlocks must list 1-${MAX_RECEIPT_CHAINS} chains`)
    let prev = ''
    for (const e of list) {
      if (typeof e !== 'object' || e === null || typeof e.chain !== 'string' || !CHAIN_NAME.test(e.chain)) bad('chainBlocks names a chain that is not 1-32 letters or digits')
      // one canonical order, so each receipt has one encoding
      if (e.chain <= prev) bad('chainBlocks must be sorted by chain, each chain once')
      if (!Number.isSafeInteger(e.block) || e.block < 0) bad('chainBlocks block must be a non-negative integer')
      prev = e.chain
    }
  }
}

/** The version byte a body is encoded under: 3/4, or 5/6 when it carries chain reads. */
function bodyVersion (r: ReceiptBody, version: number): number {
  if (r.mounts !== undefined) return version === RECEIPT_BATCH_VERSION ? RECEIPT_MOUNT_BATCH_VERSION : RECEIPT_MOUNT_VERSION
  if (r.chainBlocks === undefined) return version
  if (version === RECEIPT_VERSION) return RECEIPT_CHAIN_VERSION
  if (version === RECEIPT_BATCH_VERSION) return RECEIPT_CHAIN_BATCH_VERSION
  return version
}

function checkBatch (b: ReceiptBatchProof): void {
  if (typeof b !== 'object' || b === null) bad('batch is not an object')
  if (!Number.isSafeInteger(b.size) || b.size < 1 || b.size > MAX_RECEIPT_BATCH) bad(`batch size must be 1-${MAX_RECEIPT_BATCH}`)
  if (!Number.isSafeInteger(b.index) || b.index < 0 || b.index >= b.size) bad('batch index must be below the batch size')
  if (!Array.isArray(b.path) || b.path.length > MAX_BATCH_PATH || b.path.some(h => !isHexKey(h))) bad(`batch path must be at most ${MAX_BATCH_PATH} hashes of 64 hex characters`)
}

/**
 * A hex field's bytes for the writing pass only: the measuring pass of a fixed-size codec
 * reads no value, and decoding every hash twice showed in the executor's profile (a receipt
 * is encoded on every call).
 */
function hexBytes (pre: boolean, h: string): Uint8Array {
  // the codec still checks the size while measuring; the writing pass checks the bytes
  if (pre) return h.length === 128 ? MEASURE_64 : MEASURE_32
  return b4a.from(h, 'hex')
}
const MEASURE_32 = new Uint8Array(32)
const MEASURE_64 = new Uint8Array(64)

function writeBody (s: State, r: ReceiptBody, pre: boolean, version: number): void {
  put(s, pre, c.uint8, version)
  put(s, pre, c.string, r.fn)
  put(s, pre, c.fixed64, hexBytes(pre, r.manifestSignature))
  put(s, pre, c.fixed32, hexBytes(pre, r.moduleHash))
  put(s, pre, c.fixed32, hexBytes(pre, r.inputHash))
  put(s, pre, c.fixed32, hexBytes(pre, r.outputHash))
  put(s, pre, c.uint, r.fuel)
  put(s, pre, c.fixed32, hexBytes(pre, r.executor))
  put(s, pre, c.string, r.tenant)
  put(s, pre, c.uint, r.time)
  put(s, pre, c.fixed32, hexBytes(pre, r.nonce))
  put(s, pre, c.uint, r.deadline)
  put(s, pre, c.uint, r.bytes)
  put(s, pre, c.uint, r.price.utilisationPpm)
  put(s, pre, c.uint, r.price.fuelPrice)
  put(s, pre, c.uint, r.price.bytePrice)
  put(s, pre, c.uint, r.total)
  if (version === RECEIPT_CHAIN_VERSION || version === RECEIPT_CHAIN_BATCH_VERSION || isMountVersion(version)) {
    const list = r.chainBlocks ?? []
    put(s, pre, c.uint, list.length)
    for (const e of list) { put(s, pre, c.string, e.chain); put(s, pre, c.uint, e.block) }
  }
  if (isMountVersion(version)) writeMounts(s, pre, r.mounts ?? [])
}

/**
 * The canonical bytes of a receipt body: what a version-3 signature covers, or (with
 * `version` {@link RECEIPT_BATCH_VERSION}) the Merkle leaf of a batch-signed receipt.
 * `tail` bytes are left free after it for the caller to fill (proof, signature).
 */
export function encodeReceiptBody (r: ReceiptBody, version: number = RECEIPT_VERSION, tail = 0): Uint8Array {
  checkBody(r)
  const v = bodyVersion(r, version)
  return encodePlainBody(r, v, tail) ?? encodeFields((s, pre) => { writeBody(s, r, pre, v) }, tail)
}

const RECEIPT_SIGNATURE = new SignatureDomain(RECEIPT_DOMAIN)
/** Signs and checks batch roots ({@link batchBody}); receipt-batch.ts signs with it. */
export const RECEIPT_BATCH_SIGNATURE = new SignatureDomain(RECEIPT_BATCH_DOMAIN)

/** What a batch signature signs under its domain: the batch size (uint32 LE) and the root. */
export function batchBody (size: number, root: Uint8Array): Uint8Array {
  const b = b4a.alloc(4 + MERKLE_HASH_BYTES)
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(0, size, true)
  b.set(root, 4)
  return b
}

/** What a batch signature covers: the domain, the batch size (uint32 LE) and the root. */
export function batchMessage (size: number, root: Uint8Array): Uint8Array {
  return RECEIPT_BATCH_SIGNATURE.message(batchBody(size, root))
}

/**
 * Verified batch roots, so the other receipts of a batch cost hashes, not a signature check.
 * An entry is (executor, batch size, root, signature): a hit means this exact signature was
 * verified (or made) here before, and ed25519 verification is deterministic. Bounded FIFO.
 */
export class VerifiedRoots {
  readonly #entries = new Set<string>()
  constructor (readonly capacity = VERIFIED_ROOTS) {}

  has (executor: string, size: number, root: Uint8Array, signature: string): boolean {
    return this.#entries.has(rootKey(executor, size, root, signature))
  }

  /** Records a root that verified, or that this process signed itself. */
  add (executor: string, size: number, root: Uint8Array, signature: string): void {
    this.#entries.add(rootKey(executor, size, root, signature))
    if (this.#entries.size > this.capacity) this.#entries.delete(this.#entries.values().next().value as string)
  }
}

/** Batch roots remembered: a few seconds of batches at full rate from dozens of executors. */
export const VERIFIED_ROOTS = 4096

function rootKey (executor: string, size: number, root: Uint8Array, signature: string): string {
  return `${executor}/${size}/${b4a.toString(root, 'hex')}/${signature}`
}

/** Signs a receipt with the executor's node secret key; `r.executor` must be its public key. */
export function signReceipt (r: ReceiptBody, secretKey: Uint8Array): SignedReceipt {
  const body = encodeReceiptBody(r)
  return { ...r, signature: b4a.toString(RECEIPT_SIGNATURE.sign(body, secretKey), 'hex') }
}

/**
 * Encodes a signed receipt for the wire and the ledger: body then the 64-byte signature
 * (version 3), or body, `uint size, uint index, uint pathLength, fixed32 × pathLength`, then
 * the signature (version 4, when `r.batch` is present).
 */
export function encodeReceipt (r: SignedReceipt): Uint8Array {
  if (!isHex(r.signature, 64)) bad('signature must be 128 hex characters')
  if (r.batch === undefined) return b4a.concat([encodeReceiptBody(r), b4a.from(r.signature, 'hex')])
  checkBatch(r.batch)
  checkBody(r)
  const b = r.batch
  return encodeFields((s, pre) => {
    writeBody(s, r, pre, bodyVersion(r, RECEIPT_BATCH_VERSION))
    put(s, pre, c.uint, b.size); put(s, pre, c.uint, b.index); put(s, pre, c.uint, b.path.length)
    for (const h of b.path) put(s, pre, c.fixed32, b4a.from(h, 'hex'))
    put(s, pre, c.fixed64, b4a.from(r.signature, 'hex'))
  })
}

/** Decodes a receipt (structure only; see {@link verifyReceipt}). Throws `RECEIPT_INVALID`. */
export function decodeReceipt (bytes: Uint8Array): SignedReceipt {
  return decodeReceiptParts(bytes).receipt
}

/** A decoded receipt and the byte length of its body (what a signature or leaf covers). */
interface ReceiptParts { receipt: SignedReceipt, bodyBytes: number }

function decodeReceiptParts (bytes: Uint8Array): ReceiptParts {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength > MAX_RECEIPT_BYTES || bytes.byteLength < 65) bad(`receipt must be 65-${MAX_RECEIPT_BYTES} bytes`)
  let r: SignedReceipt
  let bodyBytes = 0
  try {
    // one Buffer view in Node, so each hex field is a native slice, not a view made per field
    const s = c.state(0, bytes.byteLength, b4a.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
    const version = c.uint8.decode(s)
    if (version !== RECEIPT_VERSION && version !== RECEIPT_BATCH_VERSION && version !== RECEIPT_CHAIN_VERSION && version !== RECEIPT_CHAIN_BATCH_VERSION && !isMountVersion(version)) bad(`unknown receipt version ${version}`)
    const body: ReceiptBody = {
      fn: canonicalString(s),
      manifestSignature: hexField(s, 64),
      moduleHash: hexField(s, 32),
      inputHash: hexField(s, 32),
      outputHash: hexField(s, 32),
      fuel: canonicalUint(s),
      executor: hexField(s, 32),
      tenant: canonicalString(s),
      time: canonicalUint(s),
      nonce: hexField(s, 32),
      deadline: canonicalUint(s),
      bytes: canonicalUint(s),
      price: { utilisationPpm: canonicalUint(s), fuelPrice: canonicalUint(s), bytePrice: canonicalUint(s) },
      total: canonicalUint(s)
    }
    if (version === RECEIPT_CHAIN_VERSION || version === RECEIPT_CHAIN_BATCH_VERSION || isMountVersion(version)) {
      const n = canonicalUint(s)
      // a mount receipt without chain reads says 0 chains
      if ((n < 1 && !isMountVersion(version)) || n > MAX_RECEIPT_CHAINS) bad(`chainBlocks must list 1-${MAX_RECEIPT_CHAINS} chains`)
      const list: ChainBlock[] = []
      for (let i = 0; i < n; i++) list.push({ chain: canonicalString(s), block: canonicalUint(s) })
      if (n > 0) body.chainBlocks = list
    }
    if (isMountVersion(version)) body.mounts = readMounts(s, canonicalUint)
    bodyBytes = s.start
    let batch: ReceiptBatchProof | undefined
    if (version === RECEIPT_BATCH_VERSION || version === RECEIPT_CHAIN_BATCH_VERSION || version === RECEIPT_MOUNT_BATCH_VERSION) {
      const size = canonicalUint(s)
      const index = canonicalUint(s)
      const n = canonicalUint(s)
      if (n > MAX_BATCH_PATH) bad(`batch path longer than ${MAX_BATCH_PATH}`)
      const path: string[] = []
      for (let i = 0; i < n; i++) path.push(hexField(s, 32))
      batch = { size, index, path }
      checkBatch(batch)
    }
    r = body as SignedReceipt
    r.signature = hexField(s, 64)
    if (batch !== undefined) r.batch = batch
    if (s.start !== s.end) bad('trailing bytes')
    // the hex fields were made from bytes here: only the rest needs checking
    checkBody(r, true)
  } catch (err) {
    if (err instanceof ShadwError) throw err
    bad(`undecodable receipt: ${(err as Error).message}`)
  }
  return { receipt: r, bodyBytes }
}

/**
 * Checks a receipt's executor signature (and its field formats). Returns it when valid.
 *
 * @throws ShadwError `RECEIPT_INVALID`
 * @example
 * ```ts
 * const r = verifyReceipt(JSON.parse(text).receipt)
 * if (r.outputHash !== await sha256Hex(output)) throw new Error('not this output')
 * ```
 */
export function verifyReceipt (r: SignedReceipt, roots?: VerifiedRoots): SignedReceipt {
  if (r.batch !== undefined) checkBatch(r.batch)
  const body = encodeReceiptBody(r, r.batch === undefined ? RECEIPT_VERSION : RECEIPT_BATCH_VERSION)
  if (!isHex(r.signature, 64)) bad('signature must be 128 hex characters')
  return checkSignature(r, body, roots)
}

/**
 * Decodes encoded receipt bytes (canonical form only) and checks the signature over the
 * bytes as received, without encoding the body again: the caller's path for every result.
 *
 * @throws ShadwError `RECEIPT_INVALID`
 */
export function openReceipt (bytes: Uint8Array, roots?: VerifiedRoots): SignedReceipt {
  const { receipt, bodyBytes } = decodeReceiptParts(bytes)
  return checkSignature(receipt, bytes.subarray(0, bodyBytes), roots)
}

function checkSignature (r: SignedReceipt, body: Uint8Array, roots: VerifiedRoots | undefined): SignedReceipt {
  const invalid = (): never => { throw ShadwError.RECEIPT_INVALID('executor signature does not verify', { executor: r.executor }) }
  if (r.batch === undefined) {
    if (!RECEIPT_SIGNATURE.verify(body, b4a.from(r.signature, 'hex'), b4a.from(r.executor, 'hex'))) invalid()
    return r
  }
  const { size, index, path } = r.batch
  const root = merkleRootFromPath(merkleLeaf(body), index, size, path.map(h => b4a.from(h, 'hex')))
  if (root === null) throw ShadwError.RECEIPT_INVALID('batch proof does not fit its position', { executor: r.executor })
  if (roots?.has(r.executor, size, root, r.signature) === true) return r
  if (!RECEIPT_BATCH_SIGNATURE.verify(batchBody(size, root), b4a.from(r.signature, 'hex'), b4a.from(r.executor, 'hex'))) invalid()
  roots?.add(r.executor, size, root, r.signature)
  return r
}

/** Copies only the receipt fields out of an untrusted object (a JSON file), for {@link verifyReceipt}. */
export function parseReceiptJson (value: unknown): SignedReceipt {
  if (typeof value !== 'object' || value === null) bad('receipt is not an object')
  const v = value as Record<string, unknown>
  const r = {
    fn: v['fn'],
    manifestSignature: v['manifestSignature'],
    moduleHash: v['moduleHash'],
    inputHash: v['inputHash'],
    outputHash: v['outputHash'],
    fuel: v['fuel'],
    executor: v['executor'],
    tenant: v['tenant'],
    time: v['time'],
    nonce: v['nonce'],
    deadline: v['deadline'],
    bytes: v['bytes'],
    price: copyPrice(v['price']),
    total: v['total'],
    signature: v['signature']
  } as SignedReceipt
  if (v['chainBlocks'] !== undefined) {
    const list = v['chainBlocks']
    r.chainBlocks = (Array.isArray(list) ? list.map((e: unknown) => ({ chain: (e as Record<string, unknown> | null)?.['chain'], block: (e as Record<string, unknown> | null)?.['block'] })) : list) as ChainBlock[]
  }
  if (v['mounts'] !== undefined) r.mounts = copyMounts(v['mounts'])
  checkBody(r)
  if (v['batch'] !== undefined) {
    const b = v['batch'] as Record<string, unknown> | null
    if (typeof b !== 'object' || b === null) bad('batch is not an object')
    r.batch = { size: b['size'], index: b['index'], path: Array.isArray(b['path']) ? [...(b['path'] as unknown[])] : b['path'] } as ReceiptBatchProof
    checkBatch(r.batch)
  }
  if (!isHex(r.signature, 64)) bad('signature must be 128 hex characters')
  return r
}

function copyPrice (value: unknown): PriceQuote {
  if (typeof value !== 'object' || value === null) bad('price is not an object')
  const p = value as Record<string, unknown>
  return { utilisationPpm: p['utilisationPpm'], fuelPrice: p['fuelPrice'], bytePrice: p['bytePrice'] } as PriceQuote
}

/**
 * SHA-256 of a receipt's canonical encoding (64 hex): how attestations and credits name a
 * receipt, and how copies of one receipt are told apart from a second receipt for one call.
 */
export function receiptHash (r: SignedReceipt): string {
  return sha256(encodeReceipt(r))
}

/**
 * The invocation wire protocol: one Protomux channel `shadw/invoke/v1` per swarm connection,
 * one message type on it carrying a frame whose first byte says what it is. Every frame is
 * size-limited and fully validated on decode (no trailing bytes, bounded strings, known
 * enums); anything else is `INVOKE_PROTOCOL`, which closes the channel, never the
 * connection. See docs/protocol.md, "Invocation channel".
 */
import c, { type State } from 'compact-encoding'
import { encodeWith, put } from '../encoding.ts'
import { ShadwError, isErrorCode, type ErrorCode } from '../errors.ts'
import type { NodeTier } from '../node/index.ts'
import type { PriceQuote } from '../pricing/index.ts'
import { MAX_RECEIPT_BYTES } from '../ledger/index.ts'
import type { PinnedMount } from '../drive/index.ts'
import { checkRequestMounts, readRequestMounts, writeRequestMounts } from './request-mounts.ts'
import { checkHoldings, readHoldings, writeHoldings, type HeldDrive } from './holdings.ts'
import { DEFAULT_MAX_INPUT_BYTES, DEFAULT_MAX_OUTPUT_BYTES } from '../sandbox/index.ts'
import { MAX_MANIFEST_BYTES, MAX_MANIFEST_MOUNTS } from '../registry/index.ts'

/** Protomux protocol name; a new incompatible version gets a new name. */
export const INVOKE_PROTOCOL = 'shadw/invoke/v1'

/** Largest input a request may carry: the sandbox's default input ceiling (4 MiB). */
export const MAX_INPUT_BYTES = DEFAULT_MAX_INPUT_BYTES
/** A signed receipt is < 400 bytes; defined with the receipt (see ledger/receipt.ts). */
export { MAX_RECEIPT_BYTES }
/** Largest output a result may carry: the sandbox's default output ceiling (4 MiB). */
export const MAX_OUTPUT_BYTES = DEFAULT_MAX_OUTPUT_BYTES
/** A function ref is `<64 hex>/<name ≤ 64>@<range>`; 256 characters bound it with room for ranges. */
export const MAX_REF_CHARS = 256
/** A SIWE message of one resource is < 1 KiB (MAX_AUTH_MESSAGE_BYTES is 4 KiB) plus a 132-char signature, as JSON. */
export const MAX_AUTH_CHARS = 8 * 1024
/** Error messages are for people; a bound keeps a peer from sending us megabytes of prose. */
export const MAX_ERROR_MESSAGE_CHARS = 1024
/** Largest frame: a full input or output plus the fixed fields around it. */
export const MAX_FRAME_BYTES = Math.max(MAX_INPUT_BYTES, MAX_OUTPUT_BYTES) + 16 * 1024
/** Nonces are 32 random bytes: collisions between honest callers are negligible. */
export const NONCE_BYTES = 32
/** Most executors one call may ask for: redundancy beyond this buys no more trust, only load. */
export const MAX_REDUNDANCY = 16
/** Marks the capacity frame's quote extension (its price). */
const QUOTE_EXTENSION = 1
/** Marks the capacity frame's held-drives extension, after the quote when both are sent; any other mark is refused. */
const HOLDINGS_EXTENSION = 2
/** Most chains one request may pin a block on: a condition set spans a handful of chains at most. */
export const MAX_PINNED_CHAINS = 8
/** A chain name is a Lit chain id such as `ethereum` or `baseSepolia`. */
const MAX_CHAIN_CHARS = 64
/** A block number as decimal: 20 digits hold any uint64. */
const BLOCK_PATTERN = /^(0|[1-9][0-9]{0,19})$/
/** Request ids are per channel and count up; 2^32 calls on one connection is more than enough. */
const MAX_ID = 0xffffffff

const TIERS: readonly NodeTier[] = ['super', 'storm', 'light', 'shadow']

/** Free execution slots and what the node offers, sent on open and on change; `id` answers a query (0 = unsolicited). */
export interface CapacityMessage {
  type: 'capacity'
  id: number
  /** calls this node would take now */
  free: number
  /** calls it takes at most at once (0: it does not execute) */
  total: number
  /** the contributor's CPU budget, percent 1-100 */
  cpuBudget: number
  tier: NodeTier
  /**
   * the node's price now (docs/pricing.md); optional trailing fields, absent when the node
   * does not price: frames without it decode as frames from before pricing did
   */
  quote?: PriceQuote
  /**
   * the drives this node holds locally and how many bytes of each, the largest first
   * (holdings.ts), so callers route calls that mount them here; absent when it holds none.
   * Optional trailing field, after the quote
   */
  holdings?: HeldDrive[]
}

/** Asks for a capacity answer with the same id; the round trip measures latency. */
export interface CapacityQueryMessage { type: 'capacity-query', id: number }

/** One execution asked of one executor. */
export interface RequestMessage {
  type: 'request'
  id: number
  /** `<publisher>/<name>@<range>` */
  ref: string
  input: Uint8Array
  /** 32 random bytes, unique per call (shared by the call's redundant executions) */
  nonce: Uint8Array
  /** absolute deadline, ms since the epoch */
  deadline: number
  /** how many executors the caller asked for in total (informational; each runs once) */
  redundancy: number
  /** the tenant's Lit AuthSig as JSON, or null for public functions */
  auth: string | null
  /**
   * the most the tenant pays this executor for the call, µcredits; an executor whose worst
   * case is higher refuses with SPENDING_CAP_EXCEEDED before any work. Optional trailing field.
   */
  maxCharge?: number
  /**
   * chain → block the caller pinned its conditions at (decimal), so redundant executors read
   * the same chain state and decide alike. Optional trailing field, after `maxCharge`.
   */
  blocks?: Record<string, string>
  /** the drives the call runs over, pinned (request-mounts.ts). Optional trailing field, after `blocks` */
  mounts?: PinnedMount[]
}

/** A successful execution: output and the executor's signed receipt. */
export interface ResultMessage {
  type: 'result'
  id: number
  output: Uint8Array
  /** encoded signed receipt (receipt.ts) */
  receipt: Uint8Array
  /** where the executor appended the receipt: its ledger log key and block index */
  ledgerKey: Uint8Array
  ledgerIndex: number
}

/** A typed failure of one request (`id` > 0) or of the channel (`id` 0, then it closes). */
export interface ErrorMessage { type: 'error', id: number, code: ErrorCode, message: string }

/** The caller gave up on a request; the executor aborts it. */
export interface CancelMessage { type: 'cancel', id: number }

/**
 * Asks an executor which drives the function `ref` names mounts, and which version of each
 * "latest" one it knows now (manifest-pins.ts): the caller pins them before the call.
 */
export interface MountsQueryMessage { type: 'mounts-query', id: number, ref: string }

/**
 * The answer to a {@link MountsQueryMessage}: the function's signed manifest as its registry
 * stores it (the caller checks the publisher's signature) and, for each of its mounts in
 * order, the version the executor knows (a pinned one as the manifest pins it; 0: it knows none).
 */
export interface MountsMessage {
  type: 'mounts'
  id: number
  manifest: Uint8Array
  versions: number[]
  /**
   * chain → the block (decimal) the executor would read it at now, for each chain the
   * function's conditions name that it has an endpoint for: the caller pins one for all its
   * redundant executors. Optional trailing field, absent when there is none.
   */
  blocks?: Record<string, string>
}

/** Everything that travels on the channel. */
export type InvokeMessage = CapacityMessage | CapacityQueryMessage | RequestMessage | ResultMessage | ErrorMessage | CancelMessage | MountsQueryMessage | MountsMessage

const TYPE = { capacity: 0, 'capacity-query': 1, request: 2, result: 3, error: 4, cancel: 5, 'mounts-query': 6, mounts: 7 } as const

/** Encodes a message, refusing values a peer would refuse. */
export function encodeMessage (msg: InvokeMessage): Uint8Array {
  check(msg)
  const frame = encodeWith(write, msg)
  if (frame.byteLength > MAX_FRAME_BYTES) throw ShadwError.INVOKE_PROTOCOL(`frame of ${frame.byteLength} bytes exceeds ${MAX_FRAME_BYTES}`)
  return frame
}

/** Decodes and validates a frame from a peer; throws `INVOKE_PROTOCOL`. */
export function decodeMessage (bytes: unknown): InvokeMessage {
  if (!(bytes instanceof Uint8Array)) throw ShadwError.INVOKE_PROTOCOL('frame is not bytes')
  if (bytes.byteLength > MAX_FRAME_BYTES) throw ShadwError.INVOKE_PROTOCOL(`frame of ${bytes.byteLength} bytes exceeds ${MAX_FRAME_BYTES}`)
  let msg: InvokeMessage
  try {
    const state = c.state(0, bytes.byteLength, bytes)
    msg = read(state)
    if (state.start !== state.end) throw new Error('trailing bytes')
  } catch (err) {
    if (err instanceof ShadwError) throw err
    throw ShadwError.INVOKE_PROTOCOL(`undecodable frame: ${(err as Error).message}`)
  }
  check(msg)
  return msg
}

function write (s: State, m: InvokeMessage, pre: boolean): void {
  put(s, pre, c.uint, TYPE[m.type])
  put(s, pre, c.uint, m.id)
  switch (m.type) {
    case 'capacity':
      put(s, pre, c.uint, m.free); put(s, pre, c.uint, m.total); put(s, pre, c.uint, m.cpuBudget); put(s, pre, c.uint, TIERS.indexOf(m.tier))
      if (m.quote !== undefined) { put(s, pre, c.uint, QUOTE_EXTENSION); put(s, pre, c.uint, m.quote.utilisationPpm); put(s, pre, c.uint, m.quote.fuelPrice); put(s, pre, c.uint, m.quote.bytePrice) }
      if (m.holdings !== undefined) { put(s, pre, c.uint, HOLDINGS_EXTENSION); writeHoldings(s, pre, m.holdings) }
      break
    case 'capacity-query': case 'cancel': break
    case 'request': put(s, pre, c.string, m.ref); put(s, pre, c.buffer, m.input); put(s, pre, c.fixed32, m.nonce); put(s, pre, c.uint, m.deadline); put(s, pre, c.uint, m.redundancy); put(s, pre, c.uint, m.auth === null ? 0 : 1); if (m.auth !== null) put(s, pre, c.string, m.auth); if (m.maxCharge !== undefined || m.blocks !== undefined || m.mounts !== undefined) put(s, pre, c.uint, m.maxCharge === undefined ? 0 : m.maxCharge + 1)
      // then pinned blocks (a count, 0 only when mounts follow), then mounts
      if (m.blocks !== undefined || m.mounts !== undefined) {
        const chains = m.blocks === undefined ? [] : Object.keys(m.blocks).sort()
        put(s, pre, c.uint, chains.length)
        for (const chain of chains) { put(s, pre, c.string, chain); put(s, pre, c.string, m.blocks?.[chain] ?? '') }
      }
      if (m.mounts !== undefined) writeRequestMounts(s, pre, m.mounts)
      break
    case 'result': put(s, pre, c.buffer, m.output); put(s, pre, c.buffer, m.receipt); put(s, pre, c.fixed32, m.ledgerKey); put(s, pre, c.uint, m.ledgerIndex); break
    case 'error': put(s, pre, c.string, m.code); put(s, pre, c.string, m.message); break
    case 'mounts-query': put(s, pre, c.string, m.ref); break
    case 'mounts':
      put(s, pre, c.buffer, m.manifest); put(s, pre, c.uint, m.versions.length)
      for (const v of m.versions) put(s, pre, c.uint, v)
      if (m.blocks !== undefined) writeBlocks(s, pre, m.blocks)
      break
  }
}

/** A length-prefixed buffer; absent (compact-encoding's null) reads as empty. */
function readBuffer (s: State): Uint8Array {
  return c.buffer.decode(s) ?? new Uint8Array(0)
}

/**
 * A message that fails {@link check}. A function of the module, not a closure made per
 * message checked: under tsx (the benches, the tests) every closure also runs a naming
 * helper, and that one showed ~20 µs per result sent in the executor's profile.
 */
function bad (m: InvokeMessage, why: string): never {
  throw ShadwError.INVOKE_PROTOCOL(`${m.type}: ${why}`)
}

function read (s: State): InvokeMessage {
  const type = c.uint.decode(s)
  const id = c.uint.decode(s)
  switch (type) {
    case TYPE.capacity: {
      const free = c.uint.decode(s)
      const total = c.uint.decode(s)
      const cpuBudget = c.uint.decode(s)
      const tier = TIERS[c.uint.decode(s)]
      if (tier === undefined) throw ShadwError.INVOKE_PROTOCOL('unknown tier')
      const msg: CapacityMessage = { type: 'capacity', id, free, total, cpuBudget, tier }
      // extensions in increasing order of their mark, each at most once
      let last = 0
      while (s.start !== s.end) {
        const mark = c.uint.decode(s)
        if (mark <= last) throw ShadwError.INVOKE_PROTOCOL('capacity extensions out of order')
        last = mark
        if (mark === QUOTE_EXTENSION) msg.quote = { utilisationPpm: c.uint.decode(s), fuelPrice: c.uint.decode(s), bytePrice: c.uint.decode(s) }
        else if (mark === HOLDINGS_EXTENSION) msg.holdings = readHoldings(s)
        else throw ShadwError.INVOKE_PROTOCOL('unknown capacity extension')
      }
      return msg
    }
    case TYPE['capacity-query']: return { type: 'capacity-query', id }
    case TYPE.cancel: return { type: 'cancel', id }
    case TYPE.request: {
      const ref = c.string.decode(s)
      const input = readBuffer(s)
      const nonce = c.fixed32.decode(s)
      const deadline = c.uint.decode(s)
      const redundancy = c.uint.decode(s)
      const hasAuth = c.uint.decode(s)
      if (hasAuth > 1) throw ShadwError.INVOKE_PROTOCOL('auth flag must be 0 or 1')
      const auth = hasAuth === 1 ? c.string.decode(s) : null
      if (s.start === s.end) return { type: 'request', id, ref, input, nonce, deadline, redundancy, auth }
      // sent as maxCharge + 1; 0 (no cap) only when pinned blocks follow, so a stray zero byte
      // is refused like any trailing byte
      const cap = c.uint.decode(s)
      const capped = cap === 0 ? {} : { maxCharge: cap - 1 }
      if (s.start === s.end) {
        if (cap === 0) throw ShadwError.INVOKE_PROTOCOL('trailing bytes')
        return { type: 'request', id, ref, input, nonce, deadline, redundancy, auth, ...capped }
      }
      const count = c.uint.decode(s)
      if (count > MAX_PINNED_CHAINS) throw ShadwError.INVOKE_PROTOCOL(`pinned chains must be 0-${MAX_PINNED_CHAINS}`)
      const pins = new Map<string, string>()
      for (let i = 0; i < count; i++) {
        const chain = c.string.decode(s)
        if (pins.has(chain)) throw ShadwError.INVOKE_PROTOCOL('a chain is pinned twice')
        pins.set(chain, c.string.decode(s))
      }
      const req: RequestMessage = { type: 'request', id, ref, input, nonce, deadline, redundancy, auth, ...capped }
      // fromEntries makes own properties even of names like __proto__
      if (count > 0) req.blocks = Object.fromEntries(pins)
      // an executor from before mounts refuses a request that carries them
      if (s.start !== s.end) req.mounts = readRequestMounts(s)
      else if (count === 0) throw ShadwError.INVOKE_PROTOCOL('no pinned chains and no mounts: trailing bytes')
      return req
    }
    case TYPE.result: {
      const output = readBuffer(s)
      const receipt = readBuffer(s)
      const ledgerKey = c.fixed32.decode(s)
      const ledgerIndex = c.uint.decode(s)
      return { type: 'result', id, output, receipt, ledgerKey, ledgerIndex }
    }
    case TYPE.error: {
      const code = c.string.decode(s)
      const message = c.string.decode(s)
      // an unknown code from a newer peer is still an error: it becomes INTERNAL, message kept
      return { type: 'error', id, code: isErrorCode(code) ? code : 'INTERNAL', message }
    }
    case TYPE['mounts-query']: return { type: 'mounts-query', id, ref: c.string.decode(s) }
    case TYPE.mounts: {
      const manifest = readBuffer(s)
      const count = c.uint.decode(s)
      // bounded before the loop: the count comes from a peer
      if (count > MAX_MANIFEST_MOUNTS) throw ShadwError.INVOKE_PROTOCOL(`more than ${MAX_MANIFEST_MOUNTS} mount versions`)
      const versions: number[] = []
      for (let i = 0; i < count; i++) versions.push(c.uint.decode(s))
      if (s.start === s.end) return { type: 'mounts', id, manifest, versions }
      return { type: 'mounts', id, manifest, versions, blocks: readBlocks(s) }
    }
    default:
      throw ShadwError.INVOKE_PROTOCOL(`unknown message type ${type}`)
  }
}

function check (m: InvokeMessage): void {
  if (!Number.isSafeInteger(m.id) || m.id < 0 || m.id > MAX_ID) bad(m, 'id out of range')
  switch (m.type) {
    case 'capacity':
      if (!Number.isSafeInteger(m.total) || m.total < 0 || m.total > 1_000_000) bad(m, 'total out of range')
      if (!Number.isSafeInteger(m.free) || m.free < 0 || m.free > m.total) bad(m, 'free must be 0..total')
      if (!Number.isInteger(m.cpuBudget) || m.cpuBudget < 1 || m.cpuBudget > 100) bad(m, 'cpuBudget must be 1-100')
      if (!TIERS.includes(m.tier)) bad(m, 'unknown tier')
      if (m.quote !== undefined) {
        const q = m.quote
        if (typeof q !== 'object' || q === null) bad(m, 'quote must be an object')
        if (!Number.isSafeInteger(q.utilisationPpm) || q.utilisationPpm < 0 || q.utilisationPpm > 1_000_000) bad(m, 'quote utilisation must be 0-10^6 ppm')
        if (!Number.isSafeInteger(q.fuelPrice) || q.fuelPrice < 0 || !Number.isSafeInteger(q.bytePrice) || q.bytePrice < 0) bad(m, 'quote prices must be non-negative integers')
      }
      if (m.holdings !== undefined) checkHoldings(m.holdings)
      break
    case 'request':
      if (m.id === 0) bad(m, 'request id must be positive')
      if (typeof m.ref !== 'string' || m.ref.length === 0 || m.ref.length > MAX_REF_CHARS) bad(m, `ref must be 1-${MAX_REF_CHARS} characters`)
      if (!(m.input instanceof Uint8Array) || m.input.byteLength > MAX_INPUT_BYTES) bad(m, `input must be at most ${MAX_INPUT_BYTES} bytes`)
      if (!(m.nonce instanceof Uint8Array) || m.nonce.byteLength !== NONCE_BYTES) bad(m, `nonce must be ${NONCE_BYTES} bytes`)
      if (!Number.isSafeInteger(m.deadline) || m.deadline <= 0) bad(m, 'deadline must be a positive time in ms')
      if (!Number.isInteger(m.redundancy) || m.redundancy < 1 || m.redundancy > MAX_REDUNDANCY) bad(m, `redundancy must be 1-${MAX_REDUNDANCY}`)
      if (m.auth !== null && (typeof m.auth !== 'string' || m.auth.length > MAX_AUTH_CHARS)) bad(m, `auth must be at most ${MAX_AUTH_CHARS} characters`)
      if (m.maxCharge !== undefined && (!Number.isSafeInteger(m.maxCharge) || m.maxCharge < 0)) bad(m, 'maxCharge must be a non-negative integer')
      if (m.blocks !== undefined) checkBlocks(m, m.blocks)
      if (m.mounts !== undefined) checkRequestMounts(m.mounts)
      break
    case 'result':
      if (m.id === 0) bad(m, 'result id must be positive')
      if (!(m.output instanceof Uint8Array) || m.output.byteLength > MAX_OUTPUT_BYTES) bad(m, `output must be at most ${MAX_OUTPUT_BYTES} bytes`)
      if (!(m.receipt instanceof Uint8Array) || m.receipt.byteLength === 0 || m.receipt.byteLength > MAX_RECEIPT_BYTES) bad(m, `receipt must be 1-${MAX_RECEIPT_BYTES} bytes`)
      if (!(m.ledgerKey instanceof Uint8Array) || m.ledgerKey.byteLength !== 32) bad(m, 'ledger key must be 32 bytes')
      if (!Number.isSafeInteger(m.ledgerIndex) || m.ledgerIndex < 0) bad(m, 'ledger index must be a non-negative integer')
      break
    case 'error':
      if (!isErrorCode(m.code)) bad(m, 'unknown error code')
      if (typeof m.message !== 'string' || m.message.length > MAX_ERROR_MESSAGE_CHARS) bad(m, `message must be at most ${MAX_ERROR_MESSAGE_CHARS} characters`)
      break
    case 'capacity-query': case 'cancel':
      if (m.id === 0) bad(m, 'id must be positive')
      break
    case 'mounts-query':
      if (m.id === 0) bad(m, 'id must be positive')
      if (typeof m.ref !== 'string' || m.ref.length === 0 || m.ref.length > MAX_REF_CHARS) bad(m, `ref must be 1-${MAX_REF_CHARS} characters`)
      break
    case 'mounts':
      if (m.id === 0) bad(m, 'id must be positive')
      if (!(m.manifest instanceof Uint8Array) || m.manifest.byteLength === 0 || m.manifest.byteLength > MAX_MANIFEST_BYTES) bad(m, `manifest must be 1-${MAX_MANIFEST_BYTES} bytes`)
      if (!Array.isArray(m.versions) || m.versions.length > MAX_MANIFEST_MOUNTS || m.versions.some(v => !Number.isSafeInteger(v) || v < 0)) bad(m, `versions must be at most ${MAX_MANIFEST_MOUNTS} non-negative integers`)
      if (m.blocks !== undefined) checkBlocks(m, m.blocks)
      break
  }
}

/** Pinned blocks: 1-{@link MAX_PINNED_CHAINS} chains, each a bounded name and a decimal block. */
function checkBlocks (m: InvokeMessage, blocks: Record<string, string>): void {
  if (typeof blocks !== 'object' || blocks === null) bad(m, 'blocks must be an object')
  const chains = Object.keys(blocks)
  if (chains.length < 1 || chains.length > MAX_PINNED_CHAINS) bad(m, `pinned chains must be 1-${MAX_PINNED_CHAINS}`)
  for (const chain of chains) {
    if (chain.length === 0 || chain.length > MAX_CHAIN_CHARS) bad(m, `a chain name is 1-${MAX_CHAIN_CHARS} characters`)
    const block = blocks[chain]
    if (typeof block !== 'string' || !BLOCK_PATTERN.test(block)) bad(m, 'a pinned block is a decimal block number')
  }
}

/** A count, then each chain (sorted) and its block. */
function writeBlocks (s: State, pre: boolean, blocks: Record<string, string>): void {
  const chains = Object.keys(blocks).sort()
  put(s, pre, c.uint, chains.length)
  for (const chain of chains) { put(s, pre, c.string, chain); put(s, pre, c.string, blocks[chain] ?? '') }
}

/** What {@link writeBlocks} wrote; at least one chain (an empty list is not sent). */
function readBlocks (s: State): Record<string, string> {
  const count = c.uint.decode(s)
  if (count < 1 || count > MAX_PINNED_CHAINS) throw ShadwError.INVOKE_PROTOCOL(`pinned chains must be 1-${MAX_PINNED_CHAINS}`)
  const pins = new Map<string, string>()
  for (let i = 0; i < count; i++) {
    const chain = c.string.decode(s)
    if (pins.has(chain)) throw ShadwError.INVOKE_PROTOCOL('a chain is pinned twice')
    pins.set(chain, c.string.decode(s))
  }
  // fromEntries makes own properties even of names like __proto__
  return Object.fromEntries(pins)
}

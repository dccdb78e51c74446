/**
 * Verification before any execution. A module is run only after every check here passed;
 * each failure has its own error code, and nothing is returned (so nothing can be cached)
 * unless all of them did.
 */
import b4a from 'b4a'
import { ShadwError } from '../errors.ts'
import { checkAbi } from '../sandbox/index.ts'
import type { Abi, ExecutionLimits } from '../sandbox/index.ts'
import { sha256Hex } from '../sandbox/index.ts'
import { MAX_FUEL, MAX_MODULE_BYTES } from '../sandbox/index.ts'
import { parseModule, type ParsedModule } from '../sandbox/index.ts'
import { decodeManifest, decodeSignedManifest, MANIFEST_DOMAIN, type FunctionManifest, type SignedManifest } from './manifest.ts'
import { verifyRecord } from './signed-record.ts'

/** The most a node lets any function ask for; a manifest above any ceiling is refused. */
export interface NodeCeilings extends ExecutionLimits {
  /** largest module, in bytes */
  maxModuleBytes: number
}

/**
 * Ceilings of a node that sets none: ten times the sandbox's per-call defaults, enough for
 * real functions, low enough that one manifest cannot pin a contributor's tab for minutes.
 */
export const DEFAULT_CEILINGS: Readonly<NodeCeilings> = Object.freeze({
  fuel: Math.min(10_000_000_000, MAX_FUEL),
  memoryPages: 4096, // 256 MiB
  deadlineMs: 60_000,
  maxInputBytes: 16 * 1024 * 1024,
  maxOutputBytes: 16 * 1024 * 1024,
  maxModuleBytes: MAX_MODULE_BYTES
})

/** What a verification is checked against. */
export interface VerifyContext {
  /** key of the registry the manifest was read from, hex (must equal the publisher) */
  registryKey: string
  /** this node's ceilings (default {@link DEFAULT_CEILINGS}) */
  ceilings?: Readonly<NodeCeilings>
  /** true when the registry holds a valid tombstone for this version */
  yanked?: boolean
  /** the reason given in the tombstone, for the error */
  yankReason?: string
  /** the name and version that were asked for; a manifest for another is refused */
  expect?: { name: string, version: string }
}

/** A function whose manifest and module bytes checked out. */
export interface VerifiedFunction {
  manifest: FunctionManifest
  /** the signed, stored manifest bytes' signature, hex (for receipts) */
  signature: string
  module: Uint8Array
}

/**
 * Checks a signed manifest without its module: canonical form, signature, publisher =
 * registry key, the name and version asked for, not yanked, limits within the node's
 * ceilings. Accepts the stored bytes or an already decoded record.
 */
export function verifyManifest (stored: Uint8Array | SignedManifest, ctx: VerifyContext): SignedManifest {
  // a decoded record is decoded again from its body: the signature covers the body, so the
  // fields acted on must come from it, never from a manifest object that travelled beside it
  const signed = stored instanceof Uint8Array ? decodeSignedManifest(stored) : { ...stored, manifest: decodeManifest(stored.body) }
  const m = signed.manifest
  if (!verifyRecord(MANIFEST_DOMAIN, signed, b4a.from(m.publisher, 'hex'))) {
    throw ShadwError.SIGNATURE_INVALID(`manifest ${m.name}@${m.version} is not signed by ${m.publisher}`)
  }
  if (m.publisher !== ctx.registryKey.toLowerCase()) throw ShadwError.PUBLISHER_MISMATCH(m.publisher, ctx.registryKey)
  if (ctx.expect !== undefined && (ctx.expect.name !== m.name || ctx.expect.version !== m.version)) {
    throw ShadwError.MANIFEST_MISMATCH(`asked for ${ctx.expect.name}@${ctx.expect.version}, manifest is ${m.name}@${m.version}`,
      { expected: `${ctx.expect.name}@${ctx.expect.version}`, actual: `${m.name}@${m.version}` })
  }
  if (ctx.yanked === true) throw ShadwError.FUNCTION_YANKED(`${m.publisher}/${m.name}@${m.version}`, ctx.yankReason)
  const ceilings = ctx.ceilings ?? DEFAULT_CEILINGS
  for (const field of ['fuel', 'memoryPages', 'deadlineMs', 'maxInputBytes', 'maxOutputBytes'] as const) {
    if (m.limits[field] > ceilings[field]) throw ShadwError.LIMITS_EXCEEDED(field, m.limits[field], ceilings[field])
  }
  if (m.size > ceilings.maxModuleBytes) throw ShadwError.MODULE_TOO_LARGE(m.size, ceilings.maxModuleBytes)
  return signed
}

/**
 * Full verification: {@link verifyManifest}, then the module's size and SHA-256 against the
 * manifest, then that the bytes are a module the sandbox accepts with the manifest's ABI.
 *
 * @example
 * ```ts
 * const fn = await verifyFunction(storedManifest, bytes, { registryKey: publisherHex })
 * await executor.execute({ module: fn.module, abi: fn.manifest.abi, input, limits: fn.manifest.limits })
 * ```
 */
export async function verifyFunction (stored: Uint8Array | SignedManifest, bytes: Uint8Array, ctx: VerifyContext): Promise<VerifiedFunction> {
  const signed = verifyManifest(stored, ctx)
  const m = signed.manifest
  if (!(bytes instanceof Uint8Array)) throw ShadwError.INVALID_ARGUMENT('module must be bytes')
  // our own copy (new Uint8Array copies; a Node Buffer's slice() is only a view): the
  // caller's buffer could change between hashing and running
  const module = new Uint8Array(bytes)
  const ceiling = (ctx.ceilings ?? DEFAULT_CEILINGS).maxModuleBytes
  if (module.byteLength > ceiling) throw ShadwError.MODULE_TOO_LARGE(module.byteLength, ceiling)
  const actual = await sha256Hex(module)
  if (module.byteLength !== m.size || actual !== m.moduleHash) {
    throw ShadwError.MODULE_HASH_MISMATCH(m.moduleHash, actual, { size: module.byteLength, expectedSize: m.size })
  }
  checkFit(parseModule(module), m.abi, m.limits.memoryPages)
  return { manifest: m, signature: b4a.toString(signed.signature, 'hex'), module }
}

/**
 * Checks that parsed module bytes fit a manifest: the ABI's imports and exports, and an
 * initial memory within the manifest's memory limit (else every call would fail with
 * MEMORY_LIMIT). Throws ABI_MISMATCH or MEMORY_LIMIT.
 */
export function checkFit (parsed: ParsedModule, abi: Abi, memoryPages: number): void {
  checkAbi(parsed, abi)
  const initial = parsed.memory?.limits.min ?? parsed.imports.find(i => i.kind === 'memory')?.limits?.min ?? 0
  if (initial > memoryPages) {
    throw ShadwError.MEMORY_LIMIT(`module needs ${initial} pages initially, the manifest allows ${memoryPages}`, { initial, cap: memoryPages })
  }
}
